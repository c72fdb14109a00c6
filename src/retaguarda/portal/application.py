"""The portal's use cases: plan-change requests, RADIUS accounting intake (push and radacct reader).

The service reads other contexts only through callables its installer passes in (billing's
public service and read models, the RADIUS username link), so this module imports no other
context."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from retaguarda.portal.domain import (
    MAX_RECORDS,
    ConnectionDay,
    PlanChangeRequest,
    RadiusSource,
    clean_session,
    connection_day_id,
    radius_source_id,
)
from retaguarda.services import Saved, Service
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta

ZONE = ZoneInfo("America/Sao_Paulo")
READ_BATCH = 500


class RadacctReader(Protocol):
    """Port: the rows of a FreeRADIUS `radacct` table (read-only)."""

    def read(self, after_id: int, reread_ids: list[int], limit: int) -> list[dict[str, Any]]:
        """Rows with `radacctid > after_id` (ascending, at most `limit`) plus the rows `reread_ids`."""
        ...


@dataclass(frozen=True)
class Intake:
    """What an accounting batch did: sessions recorded (new or changed), unchanged, unmatched."""

    recorded: int
    unchanged: int
    unmatched: list[str]
    position: int = 0


@dataclass(frozen=True)
class Links:
    """What the portal needs from other contexts (wired by the installer)."""

    offered_plan: Callable[[str, str], dict[str, Any] | None]
    subscription_of: Callable[[str, str], dict[str, Any] | None]
    change_plan: Callable[[Meta, str, str], date]
    customer_for: Callable[[str, str], str | None]
    reader_for: Callable[[str, str], RadacctReader]


class Portal(Service):
    """Plan-change requests and connection sessions of one event store."""

    def __init__(self, store: Any, on_saved: Callable[[int], None] | None, links: Links) -> None:
        super().__init__(store, on_saved)
        self.links = links

    # Plan change -----------------------------------------------------------------------------
    def request_plan_change(self, meta: Meta, customer_id: str, plan_id: Any) -> Saved:
        plan_id = str(plan_id or "").strip()
        if not plan_id:
            raise ValidationError("plan_id", "plan_id is required")
        plan = self.links.offered_plan(meta.tenant_id, plan_id)
        if plan is None:
            raise ValidationError("plan_id", "this plan is not offered in the portal")
        sub = self.links.subscription_of(meta.tenant_id, customer_id)
        if sub is None:
            raise ConflictError("there is no active subscription to change")
        req = PlanChangeRequest.request(
            meta,
            customer_id=customer_id,
            subscription_id=str(sub["id"]),
            from_plan_id=str(sub["plan_id"]),
            plan_id=plan_id,
        )
        return Saved(req, self.save(req))

    def get_request(self, tenant_id: str, request_id: str) -> PlanChangeRequest:
        return self.load(PlanChangeRequest, request_id, tenant_id)

    def approve_plan_change(self, meta: Meta, request_id: str) -> Saved:
        """Schedules the new plan on the subscription from its next period (billing), then records
        the approval with that date. A repeated approval is a 409 and changes nothing."""
        req = self.load(PlanChangeRequest, request_id, meta.tenant_id)
        if req.status != "requested":
            raise ConflictError(f"the request is already {req.status}")
        if self.links.offered_plan(meta.tenant_id, req.plan_id) is None:
            raise ConflictError("the plan is no longer offered; reject the request instead")
        effective = self.links.change_plan(meta, req.subscription_id, req.plan_id)

        def command() -> Saved:
            fresh = self.load(PlanChangeRequest, request_id, meta.tenant_id)
            fresh.approve(meta, effective)
            return Saved(fresh, self.save(fresh))

        return self.retrying(command)

    def reject_plan_change(self, meta: Meta, request_id: str, reason: Any) -> Saved:
        def command() -> Saved:
            req = self.load(PlanChangeRequest, request_id, meta.tenant_id)
            req.reject(meta, reason)
            return Saved(req, self.save(req))

        return self.retrying(command)

    # Accounting intake -------------------------------------------------------------------------
    def push_sessions(self, meta: Meta, records: Any) -> Intake:
        """The push endpoint's batch: validated as a whole (nothing is recorded on a bad record)."""
        if not isinstance(records, list) or not records:
            raise ValidationError("records", "records must be a non-empty list")
        if len(records) > MAX_RECORDS:
            raise ValidationError("records", f"at most {MAX_RECORDS} records per request")
        errors: dict[str, str] = {}
        sessions = []
        for i, record in enumerate(records):
            try:
                sessions.append(clean_session(record, index=i, source="push"))
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        return self._record_sessions(meta, sessions)

    def _record_sessions(
        self, meta: Meta, sessions: Iterable[dict[str, Any]], cursor: tuple[int, list[int]] | None = None
    ) -> Intake:
        groups: dict[tuple[str, date], list[dict[str, Any]]] = {}
        unmatched: list[str] = []
        for s in sessions:
            customer_id = self.links.customer_for(meta.tenant_id, s["username"])
            if customer_id is None:
                if s["username"] not in unmatched:
                    unmatched.append(s["username"])
                continue
            day = datetime.fromisoformat(s["start"]).astimezone(ZONE).date()
            groups.setdefault((customer_id, day), []).append(s)

        def command() -> Intake:
            changed: list[Aggregate] = []
            recorded = 0
            for (customer_id, day), items in groups.items():
                agg = self.find(ConnectionDay, connection_day_id(meta.tenant_id, customer_id, day))
                if agg is None:
                    agg = ConnectionDay.open(meta, customer_id=customer_id, day=day)
                n = agg.record(meta, items)
                if n:
                    recorded += n
                    changed.append(agg)
            if cursor is not None:
                source = self.load(RadiusSource, radius_source_id(meta.tenant_id), meta.tenant_id)
                source.advance(meta, *cursor)
                changed.append(source)
            position = self.save(*changed) if changed else 0
            matched = sum(len(v) for v in groups.values())
            return Intake(
                recorded=recorded, unchanged=matched - recorded, unmatched=unmatched, position=position
            )

        result: Intake = self.retrying(command)
        return result

    # RADIUS source (radacct reader) --------------------------------------------------------------
    def configure_radius(self, meta: Meta, *, dsn: Any, table: Any = "radacct", active: bool = True) -> Saved:
        def command() -> Saved:
            source = self.find(RadiusSource, radius_source_id(meta.tenant_id))
            if source is None:
                source = RadiusSource.configure(meta, dsn=dsn, table=table, active=active)
            else:
                source.change(meta, dsn=dsn, table=table, active=active)
            return Saved(source, self.save(source))

        return self.retrying(command)

    def radius_source(self, tenant_id: str) -> RadiusSource | None:
        found = self.find(RadiusSource, radius_source_id(tenant_id))
        return found if found is not None and found.tenant_id == tenant_id else None

    def poll_radius(self, meta: Meta, *, max_batches: int = 100) -> Intake:
        """Reads new radacct rows (by radacctid) and re-reads the sessions still open, in batches;
        each batch's sessions and the advanced cursor are saved atomically, so a crash or a
        second run neither loses nor double-counts a session."""
        source = self.radius_source(meta.tenant_id)
        if source is None or not source.active:
            raise NotFoundError("RadiusSource", meta.tenant_id)
        reader = self.links.reader_for(source.dsn, source.table)
        recorded = unchanged = 0
        unmatched: list[str] = []
        reread = list(source.open_ids)
        open_now = set(source.open_ids)
        last_id = source.last_id
        position = 0
        for _ in range(max_batches):
            rows = reader.read(last_id, reread, READ_BATCH)
            fresh = [r for r in rows if int(r["radacctid"]) > last_id]
            sessions = []
            for row in rows:
                rid = int(row["radacctid"])
                last_id = max(last_id, rid)
                if row.get("acctstoptime") is None:
                    open_now.add(rid)
                else:
                    open_now.discard(rid)
                try:
                    sessions.append(clean_session(radacct_record(row), index=rid, source="radacct"))
                except ValidationError:
                    open_now.discard(rid)  # a row without user or start: nothing to show, never re-read
            if rows:
                result = self._record_sessions(meta, sessions, cursor=(last_id, sorted(open_now)))
                recorded += result.recorded
                unchanged += result.unchanged
                unmatched += [u for u in result.unmatched if u not in unmatched]
                position = result.position or position
            if len(fresh) < READ_BATCH:
                break
            reread = []  # the open sessions were re-read with the first batch
        return Intake(recorded=recorded, unchanged=unchanged, unmatched=unmatched, position=position)


def radacct_record(row: dict[str, Any]) -> dict[str, Any]:
    """A radacct row as an accounting record (`acctuniqueid` keys the session)."""
    return {
        "username": row.get("username"),
        "session_id": row.get("acctsessionid"),
        "unique_id": row.get("acctuniqueid"),
        "start": row.get("acctstarttime"),
        "stop": row.get("acctstoptime"),
        "input_octets": int(row.get("acctinputoctets") or 0),
        "output_octets": int(row.get("acctoutputoctets") or 0),
        "framed_ip": str(row.get("framedipaddress") or ""),
        "terminate_cause": row.get("acctterminatecause") or "",
    }
