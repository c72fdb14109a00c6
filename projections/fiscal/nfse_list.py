"""NFS-e list (filters, status badges, dead letters) and the integration log of provider calls.

Money is stored as decimal text (exact on SQLite and PostgreSQL alike); the API returns it as is.
The integration log holds the sanitized calls the backends return (never certificates,
passwords, tokens or API keys: the adapters strip them before they reach an event).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.base import Envelope, Projection, Writer, handles, metadata, paginate
from retaguarda.fiscal.domain import DEAD_LETTER_STATUSES, Nfse
from retaguarda.shared.clock import as_utc

MONEY = sa.String(20)

nfse_notes = sa.Table(
    "fiscal_nfse",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("customer_id", sa.String(36), nullable=False),
    sa.Column("customer_name", sa.String(200), nullable=False),
    sa.Column("customer_document", sa.String(14), nullable=False),
    sa.Column("service_code", sa.String(6), nullable=False),
    sa.Column("nbs", sa.String(9), nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("deductions", MONEY, nullable=False),
    sa.Column("iss_rate", MONEY, nullable=False),
    sa.Column("iss", MONEY, nullable=False),
    sa.Column("iss_withheld", sa.Boolean, nullable=False),
    sa.Column("cbs", MONEY, nullable=False),
    sa.Column("ibs", MONEY, nullable=False),
    sa.Column("taxes", sa.JSON, nullable=False),
    sa.Column("competence", sa.Date, nullable=False),
    sa.Column("municipality_ibge", sa.String(7), nullable=False),
    sa.Column("backend", sa.String(20)),
    sa.Column("environment", sa.String(20)),
    sa.Column("series", sa.String(5)),
    sa.Column("dps_number", sa.BigInteger),
    sa.Column("number", sa.String(20)),
    sa.Column("access_key", sa.String(60)),
    sa.Column("provider_ref", sa.String(80)),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("cancel_errors", sa.JSON, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_reason_code", sa.String(2)),
    sa.Column("cancel_reason", sa.String(255)),
    sa.Column("requested_at", sa.DateTime(timezone=True)),
    sa.Column("authorized_at", sa.DateTime(timezone=True)),
    sa.Column("cancelled_at", sa.DateTime(timezone=True)),
    sa.Column("failed_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index(None, nfse_notes.c.tenant_id, nfse_notes.c.status)
sa.Index(None, nfse_notes.c.tenant_id, nfse_notes.c.competence)
sa.Index(None, nfse_notes.c.tenant_id, nfse_notes.c.customer_id)
sa.Index(None, nfse_notes.c.provider_ref)

nfse_calls = sa.Table(
    "fiscal_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(36), nullable=False, index=True),
    sa.Column("nfse_id", sa.String(36), nullable=False, index=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("duration_ms", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("request", sa.Text),
    sa.Column("response", sa.Text),
    sa.Column("error", sa.Text),
)


def text_money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def taxes_json(taxes: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in taxes.items()}


def _parse_time(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


class NfseList(Projection):
    name = "fiscal_nfse_list"
    tables = (nfse_notes, nfse_calls)

    @handles(Nfse.Drafted)
    def drafted(self, env: Envelope, w: Writer) -> None:
        e = env.event
        w.insert(nfse_notes, dict(
            id=str(e.originator_id), tenant_id=e.tenant_id, status="draft", version=e.originator_version,
            created_at=e.timestamp, updated_at=e.timestamp, errors=[], cancel_errors=[], attempts=0,
            **self._note_values(e.customer_id, e.tomador, e.service, e.amount, e.deductions, e.iss_rate,
                                e.iss_withheld, e.taxes, e.competence, e.municipality_ibge)))

    @staticmethod
    def _note_values(customer_id: Any, tomador: Any, service: Any, amount: Any, deductions: Any,
                     iss_rate: Any, iss_withheld: Any, taxes: Any, competence: Any,
                     municipality_ibge: Any) -> dict[str, Any]:
        return dict(
            customer_id=customer_id, customer_name=tomador["name"], customer_document=tomador["document"],
            service_code=service["code"], nbs=service.get("nbs") or "", description=service["description"],
            amount=text_money(amount), deductions=text_money(deductions), iss_rate=text_money(iss_rate),
            iss=text_money(taxes["iss"]), iss_withheld=bool(iss_withheld), cbs=text_money(taxes["cbs"]),
            ibs=text_money(taxes["ibs"]), taxes=taxes_json(taxes),
            competence=competence if isinstance(competence, date) else date.fromisoformat(str(competence)),
            municipality_ibge=municipality_ibge)

    @handles(Nfse.Corrected)
    def corrected(self, env: Envelope, w: Writer) -> None:
        c = env.event.changes
        values: dict[str, Any] = {}
        if "tomador" in c:
            values.update(customer_name=c["tomador"]["name"], customer_document=c["tomador"]["document"])
        if "customer_id" in c:
            values["customer_id"] = c["customer_id"]
        if "service" in c:
            values.update(service_code=c["service"]["code"], nbs=c["service"].get("nbs") or "",
                          description=c["service"]["description"])
        for key in ("amount", "deductions", "iss_rate"):
            if key in c:
                values[key] = text_money(c[key])
        if "iss_withheld" in c:
            values["iss_withheld"] = bool(c["iss_withheld"])
        if "taxes" in c:
            t = c["taxes"]
            values.update(iss=text_money(t["iss"]), cbs=text_money(t["cbs"]), ibs=text_money(t["ibs"]),
                          taxes=taxes_json(t))
        if "competence" in c:
            comp = c["competence"]
            values["competence"] = comp if isinstance(comp, date) else date.fromisoformat(str(comp))
        if "municipality_ibge" in c:
            values["municipality_ibge"] = c["municipality_ibge"]
        self._touch(w, env, values)

    @handles(Nfse.EmissionRequested)
    def requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(w, env, dict(status="requested", backend=e.backend, environment=e.environment,
                                 series=e.series, dps_number=e.dps_number, requested_at=e.timestamp,
                                 errors=[], last_error=None, attempts=0, provider_ref=None))

    @handles(Nfse.AttemptFailed)
    def attempt_failed(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, dict(attempts=env.event.attempt, last_error=env.event.error))

    @handles(Nfse.CallsRecorded)
    def calls_recorded(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, {})

    @handles(Nfse.SubmittedToGateway)
    def submitted(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, dict(status="submitted", provider_ref=env.event.provider_ref))

    @handles(Nfse.Authorized)
    def authorized(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._calls(env, w)
        values = dict(status="authorized", access_key=e.access_key or None, number=e.number or None,
                      authorized_at=e.authorized_at, errors=[], last_error=None)
        if e.provider_ref:
            values["provider_ref"] = e.provider_ref
        self._touch(w, env, values)

    @handles(Nfse.Rejected)
    def rejected(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, dict(status="rejected", errors=list(env.event.errors)))

    @handles(Nfse.EmissionFailed)
    def failed(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, dict(status="failed", last_error=env.event.error, attempts=env.event.attempts,
                                 failed_at=env.event.timestamp))

    @handles(Nfse.EmissionRetryRequested, Nfse.CancellationRetryRequested)
    def retried(self, env: Envelope, w: Writer) -> None:
        row = w.select_one(nfse_notes, {"id": str(env.event.originator_id)})
        if row is None:
            return
        if isinstance(env.event, Nfse.CancellationRetryRequested):
            status = "cancelling"
        else:
            status = "submitted" if row.provider_ref else "requested"
        self._touch(w, env, dict(status=status, last_error=None, attempts=0, failed_at=None))

    @handles(Nfse.CancellationRequested)
    def cancel_requested(self, env: Envelope, w: Writer) -> None:
        e = env.event
        self._touch(w, env, dict(status="cancelling", cancel_reason_code=e.reason_code,
                                 cancel_reason=e.reason, cancel_errors=[], last_error=None, attempts=0))

    @handles(Nfse.Cancelled)
    def cancelled(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, dict(status="cancelled", cancelled_at=env.event.cancelled_at))

    @handles(Nfse.CancellationRejected)
    def cancel_rejected(self, env: Envelope, w: Writer) -> None:
        self._calls(env, w)
        self._touch(w, env, dict(status="cancellation_rejected", cancel_errors=list(env.event.errors)))

    @handles(Nfse.CancellationFailed)
    def cancel_failed(self, env: Envelope, w: Writer) -> None:
        self._touch(w, env, dict(status="cancellation_failed", last_error=env.event.error,
                                 attempts=env.event.attempts, failed_at=env.event.timestamp))

    def _calls(self, env: Envelope, w: Writer) -> None:
        e = env.event
        event_name = type(e).__name__
        for call in getattr(e, "calls", None) or []:
            w.insert(nfse_calls, dict(
                tenant_id=e.tenant_id, nfse_id=str(e.originator_id), position=env.position,
                event=event_name, operation=str(call.get("operation") or "")[:40],
                method=str(call.get("method") or "")[:10], url=str(call.get("url") or ""),
                status=call.get("status"), duration_ms=int(call.get("duration_ms") or 0),
                started_at=_parse_time(call.get("started_at")), request=call.get("request"),
                response=call.get("response"), error=call.get("error")))

    def _touch(self, w: Writer, env: Envelope, values: dict[str, Any]) -> None:
        w.update(nfse_notes, {"id": str(env.event.originator_id)},
                 {**values, "version": env.event.originator_version, "updated_at": env.event.timestamp})


# Queries -------------------------------------------------------------------------------------

TIME_COLUMNS = ("requested_at", "authorized_at", "cancelled_at", "failed_at", "created_at", "updated_at")


def _row(r: Any) -> dict[str, Any]:
    row = dict(r._mapping)
    for key in TIME_COLUMNS:
        row[key] = as_utc(row[key])
    row["errors"] = list(row["errors"] or [])
    row["cancel_errors"] = list(row["cancel_errors"] or [])
    return row


def list_notes(conn: Connection, tenant_id: str, *, status: str = "", competence: str = "",
               customer: str = "", page: int = 1, per_page: int = 20) -> dict[str, Any]:
    """`competence` is YYYY-MM (month) or YYYY-MM-DD; `customer` an id or part of the name/document;
    `status` one status or `dead_letter` (failed emissions and cancellations)."""
    t = nfse_notes
    where: list[Any] = [t.c.tenant_id == tenant_id]
    if status == "dead_letter":
        where.append(t.c.status.in_(DEAD_LETTER_STATUSES))
    elif status:
        where.append(t.c.status == status)
    if competence:
        first, last = month_bounds(competence)
        where.append(t.c.competence.between(first, last))
    if customer:
        term = customer.strip()
        digits = "".join(c for c in term if c.isalnum()).upper()
        conds = [t.c.customer_id == term, t.c.customer_name.ilike(f"%{term}%")]
        if len(digits) >= 3:
            conds.append(t.c.customer_document.like(f"%{digits}%"))
        where.append(sa.or_(*conds))
    return paginate(conn, t, where, [t.c.created_at.desc(), t.c.id], page, per_page, _row)


def month_bounds(competence: str) -> tuple[date, date]:
    import calendar

    text = competence.strip()
    if len(text) == 7:
        year, month = int(text[:4]), int(text[5:7])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    day = date.fromisoformat(text)
    return day, day


def get_note_row(conn: Connection, tenant_id: str, note_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(nfse_notes).where(nfse_notes.c.tenant_id == tenant_id,
                                                 nfse_notes.c.id == note_id)).first()
    return _row(r) if r else None


def find_by_provider_ref(conn: Connection, tenant_id: str, ref: str) -> str | None:
    t = nfse_notes
    return conn.execute(sa.select(t.c.id).where(t.c.tenant_id == tenant_id, t.c.provider_ref == ref)
                        ).scalar()


def list_calls(conn: Connection, tenant_id: str, note_id: str) -> list[dict[str, Any]]:
    t = nfse_calls
    rows = conn.execute(sa.select(t).where(t.c.tenant_id == tenant_id, t.c.nfse_id == note_id)
                        .order_by(t.c.position, t.c.id)).all()
    out = []
    for r in rows:
        row = dict(r._mapping)
        row["started_at"] = as_utc(row["started_at"])
        out.append(row)
    return out


def count_by_status(conn: Connection, tenant_id: str) -> dict[str, int]:
    t = nfse_notes
    rows = conn.execute(sa.select(t.c.status, sa.func.count()).where(t.c.tenant_id == tenant_id)
                        .group_by(t.c.status)).all()
    return {status: int(n) for status, n in rows}


def stuck_notes(conn: Connection, older_than: Any) -> list[tuple[str, str]]:
    """(id, status) of notes in flight whose last change is older than `older_than` (reconciler)."""
    t = nfse_notes
    rows = conn.execute(sa.select(t.c.id, t.c.status, t.c.version).where(
        t.c.status.in_(("requested", "submitted", "cancelling")), t.c.updated_at < older_than)).all()
    return [(r.id, r.status) for r in rows]
