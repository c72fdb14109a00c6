"""Field commands: load → ServiceOrder / TechnicianDay → save, with gap-free OS numbers.

Two things come from outside the context and are handed in by the installer, so this module
imports no other context: `customer_exists(tenant_id, customer_id)` (the customers register)
and `working_hours(tenant_id)` (the support calendar: is a window inside working time?).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from retaguarda.eventstore import EventStore
from retaguarda.field.domain import DEFAULT_CHECKLISTS, KINDS, ServiceOrder, TechnicianDay, technician_day_id
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import NotFoundError, ValidationError
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import next_number

SEQUENCE = "field:order"
DEFAULT_ZONE = "America/Sao_Paulo"


class WorkingHours(Protocol):
    def covers(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) lies inside working time (no holiday, inside a window)."""


class AlwaysOpen:
    def covers(self, start: datetime, end: datetime) -> bool:
        return True


class Field(Service):
    """Service orders and technicians' agendas of every tenant."""

    def __init__(self, store: EventStore, on_saved: Callable[[int], None] | None = None, *,
                 customer_exists: Callable[[str, str], bool] | None = None,
                 working_hours: Callable[[str], WorkingHours] | None = None,
                 zone: Callable[[str], str] | None = None) -> None:
        super().__init__(store, on_saved)
        self._customer_exists = customer_exists or (lambda tenant_id, customer_id: True)
        self._working_hours = working_hours or (lambda tenant_id: AlwaysOpen())
        self._zone = zone or (lambda tenant_id: DEFAULT_ZONE)

    # Orders --------------------------------------------------------------------------------
    def open_order(self, meta: Meta, *, customer_id: Any, kind: Any, description: Any = "",
                   priority: Any = "medium", address: dict[str, Any] | None = None,
                   ticket_id: str | None = None, contract_id: str | None = None) -> Saved:
        """Opens OS-000001, OS-000002 … per tenant, never repeating or skipping a number."""
        customer = str(customer_id or "").strip()
        if not customer:
            raise ValidationError("customer_id", "customer_id is required")
        if not self._customer_exists(meta.tenant_id, customer):
            raise ValidationError("customer_id", "no such customer")
        if address is not None and not isinstance(address, dict):
            raise ValidationError("address", "address is an object (street, number, district, city, state, cep)")
        origin = "ticket" if ticket_id else "contract" if contract_id else "manual"
        fields = dict(customer_id=customer, kind=kind, description=description, priority=priority or "medium",
                      origin=origin, ticket_id=ticket_id, contract_id=contract_id, address=address)
        ServiceOrder.open(uuid.uuid4(), meta, number=1, **fields)  # validate before taking a number

        def command() -> Saved:
            number, seq = next_number(self, SEQUENCE, meta)
            order = ServiceOrder.open(uuid.uuid4(), meta, number=number, **fields)
            return Saved(order, self.save(order, seq))

        return self.retrying(command, attempts=50)

    def get_order(self, tenant_id: str, order_id: str) -> ServiceOrder:
        return self.load(ServiceOrder, order_id, tenant_id)

    def local_day(self, tenant_id: str, instant: datetime) -> date:
        return instant.astimezone(ZoneInfo(self._zone(tenant_id))).date()

    def schedule(self, meta: Meta, order_id: str, *, technician_id: Any, start: Any, end: Any,
                 reason: str = "") -> Saved:
        """Books the technician's window (409 naming `start` when it overlaps another visit)."""
        technician = str(technician_id or "").strip()
        if not technician:
            raise ValidationError("technician_id", "technician_id is required")
        start_at, end_at = _instant(start, "start"), _instant(end, "end")
        if end_at <= start_at:
            raise ValidationError("end", "end must be after start")
        if self.local_day(meta.tenant_id, start_at) != self.local_day(meta.tenant_id, end_at):
            raise ValidationError("end", "a visit starts and ends on the same day")
        if not self._working_hours(meta.tenant_id).covers(start_at, end_at):
            raise ValidationError("start", "the window is outside working hours or on a holiday")

        def command() -> Saved:
            order = self.load(ServiceOrder, order_id, meta.tenant_id)
            old_day = None
            if order.technician_id and order.window_start is not None:
                old_key = (order.technician_id, self.local_day(meta.tenant_id, order.window_start))
                if old_key != (technician, self.local_day(meta.tenant_id, start_at)):
                    old_day = self.find(TechnicianDay, technician_day_id(meta.tenant_id, *old_key))
            day = self._day(meta, technician, self.local_day(meta.tenant_id, start_at))
            day.book(meta, str(order.id), start_at, end_at)
            order.schedule(meta, technician_id=technician, start=start_at, end=end_at, reason=reason)
            if old_day is not None:
                old_day.release(meta, str(order.id))
            return Saved(order, self.save(order, day, old_day))

        return self.retrying(command, attempts=20)

    def _day(self, meta: Meta, technician_id: str, day: date) -> TechnicianDay:
        found = self.find(TechnicianDay, technician_day_id(meta.tenant_id, technician_id, day))
        return found if found is not None else TechnicianDay.start(meta, technician_id, day)

    def dispatch(self, meta: Meta, order_id: str) -> Saved:
        return self._change(meta, order_id, lambda o: o.dispatch(meta))

    def start(self, meta: Meta, order_id: str) -> Saved:
        return self._change(meta, order_id, lambda o: o.start(meta))

    def complete(self, meta: Meta, order_id: str, *, checklist: Any = None, materials: Any = None,
                 notes: Any = "", signature: dict[str, Any] | None = None, geo: Any = None,
                 completion_key: str | None = None) -> Saved:
        """Completes once: the same `completion_key` again records nothing and answers the same."""
        return self._change(meta, order_id, lambda o: o.complete(
            meta, checklist=checklist, materials=materials, notes=notes, signature=signature, geo=geo,
            completion_key=completion_key))

    def fail(self, meta: Meta, order_id: str, *, reason: Any, notes: Any = "") -> Saved:
        return self._change(meta, order_id, lambda o: o.fail(meta, reason=reason, notes=notes), release=True)

    def cancel(self, meta: Meta, order_id: str, *, reason: Any) -> Saved:
        return self._change(meta, order_id, lambda o: o.cancel(meta, reason=reason), release=True)

    def add_photo(self, meta: Meta, order_id: str, photo: dict[str, Any]) -> Saved:
        return self._change(meta, order_id, lambda o: o.add_photo(meta, photo))

    def _change(self, meta: Meta, order_id: str, change: Callable[[ServiceOrder], Any],
                release: bool = False) -> Saved:
        def command() -> Saved:
            order = self.load(ServiceOrder, order_id, meta.tenant_id)
            change(order)
            day = None
            if release and order.technician_id and order.window_start is not None:
                day = self.find(TechnicianDay, technician_day_id(
                    meta.tenant_id, order.technician_id, self.local_day(meta.tenant_id, order.window_start)))
                if day is not None:
                    day.release(meta, str(order.id))
            return Saved(order, self.save(order, day))

        return self.retrying(command)

    @staticmethod
    def checklist_for(kind: str, custom: dict[str, list[str]] | None = None) -> list[str]:
        if kind not in KINDS:
            raise NotFoundError("Checklist", kind)
        return list((custom or {}).get(kind) or DEFAULT_CHECKLISTS[kind])


def _instant(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationError(field, f"{field} must be an ISO 8601 date-time with offset") from None
    if parsed.tzinfo is None:
        raise ValidationError(field, f"{field} must carry its UTC offset (e.g. 2026-12-07T09:00:00-03:00)")
    return parsed.astimezone(UTC)
