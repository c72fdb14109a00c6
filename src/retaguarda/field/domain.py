"""ServiceOrder and TechnicianDay. Pure: no I/O, no clock (time comes in `Meta.at`).

Status machine (409 for anything else):

    open ─► scheduled ─► en_route ─► in_progress ─► completed
      │        │  ▲          │            │
      │        └──┘ (reschedule keeps the history)
      └────────┴─────────────┴────────────┴──► failed (reason) / cancelled (reason)

A technician never holds two overlapping windows: every window is booked on the
`TechnicianDay` of its local date, saved in the same atomic save as the order. Two managers who
book the same technician at once conflict on that aggregate's version; the retry sees the other
booking and refuses with 409 naming `start`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

KINDS = ("installation", "repair", "removal", "relocation", "maintenance", "visit")
PRIORITIES = ("low", "medium", "high", "critical")
ORIGINS = ("manual", "ticket", "contract")
STATUSES = ("open", "scheduled", "en_route", "in_progress", "completed", "failed", "cancelled")
OPEN_STATUSES = ("open", "scheduled", "en_route", "in_progress")
FINAL_STATUSES = ("completed", "failed", "cancelled")
FAIL_REASONS = ("customer_absent", "no_access", "equipment_missing", "weather", "other")
MAX_MATERIALS = 100
MAX_QUANTITY = Decimal("100000")
MAX_WINDOW_HOURS = 12
_NAMESPACE = uuid.UUID("6c1f0e8a-2b7d-4a55-9d3e-8f4b1c2a7e60")

DEFAULT_CHECKLISTS: dict[str, list[str]] = {
    "installation": ["Signal level checked", "Equipment installed", "Wi-Fi configured",
                     "Speed test done", "Customer instructed"],
    "repair": ["Problem found", "Problem fixed", "Speed test done"],
    "removal": ["Equipment collected", "Serial numbers checked"],
    "relocation": ["Equipment moved", "Signal level checked", "Speed test done"],
    "maintenance": ["Network checked", "Equipment checked"],
    "visit": ["Visit done"],
}


class FieldError(Exception):
    """Base of field-context errors."""


def format_number(number: int) -> str:
    return f"OS-{number:06d}"


def technician_day_id(tenant_id: str, technician_id: str, day: date) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"technician-day\x1f{tenant_id}\x1f{technician_id}\x1f{day.isoformat()}")


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open windows [start, end): one ending at 10:00 and one starting at 10:00 do not overlap."""
    return a_start < b_end and b_start < a_end


def _text(value: Any, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(field, f"{field} must be one of: {', '.join(choices)}")
    return str(value)


def clean_window(start: Any, end: Any) -> tuple[datetime, datetime]:
    """Aware datetimes, end after start, at most MAX_WINDOW_HOURS long."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise ValidationError("start", "start must be an ISO 8601 date-time with offset")
    if not isinstance(end, datetime) or end.tzinfo is None:
        raise ValidationError("end", "end must be an ISO 8601 date-time with offset")
    if end <= start:
        raise ValidationError("end", "end must be after start")
    if (end - start).total_seconds() > MAX_WINDOW_HOURS * 3600:
        raise ValidationError("end", f"a visit window is at most {MAX_WINDOW_HOURS} hours")
    return start, end


def clean_checklist(items: Any, limit: int = 50) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or len(items) > limit:
        raise ValidationError("checklist", f"checklist must be a list of at most {limit} items")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(f"checklist[{i}]", "each item is {item, done}")
        out.append({"item": _text(item.get("item"), f"checklist[{i}].item", 200, required=True),
                    "done": bool(item.get("done"))})
    return out


def clean_materials(items: Any) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or len(items) > MAX_MATERIALS:
        raise ValidationError("materials", f"materials must be a list of at most {MAX_MATERIALS} items")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(f"materials[{i}]", "each material is {sku, description, quantity}")
        try:
            quantity = Decimal(str(item.get("quantity", "")).replace(",", "."))
        except InvalidOperation:
            raise ValidationError(f"materials[{i}].quantity", "quantity must be a number") from None
        if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY:
            raise ValidationError(f"materials[{i}].quantity", f"quantity must be above 0 and at most {MAX_QUANTITY}")
        out.append({
            "sku": _text(item.get("sku"), f"materials[{i}].sku", 60, required=True),
            "description": _text(item.get("description"), f"materials[{i}].description", 200),
            "quantity": str(quantity.normalize() if quantity == quantity.to_integral() else quantity),
            "serial": _text(item.get("serial"), f"materials[{i}].serial", 80),
        })
    return out


def clean_geo(value: Any) -> dict[str, str] | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise ValidationError("geo", "geo is {lat, lng}")
    try:
        lat, lng = Decimal(str(value.get("lat"))), Decimal(str(value.get("lng")))
    except InvalidOperation:
        raise ValidationError("geo", "lat and lng must be numbers") from None
    if not (lat.is_finite() and lng.is_finite() and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationError("geo", "lat must be within ±90 and lng within ±180")
    return {"lat": str(lat), "lng": str(lng)}


class ServiceOrder(Aggregate):
    """A visit to a customer: installation, repair, removal … with its schedule and completion.

    State: number, customer_id, kind, origin, ticket_id, contract_id, address, priority,
    description, status, technician_id, window_start, window_end, schedule_history, started_at,
    completed_at, checklist, materials, notes, photos, signature, geo, reason, completion_key.
    """

    class Opened(Aggregate.Created):
        number: str
        customer_id: str
        kind: str
        origin: str
        ticket_id: str | None
        contract_id: str | None
        address: dict[str, Any]
        priority: str
        description: str

        def apply(self, o: Any) -> None:
            super().apply(o)
            o.status = "open"
            o.technician_id = None
            o.window_start = None
            o.window_end = None
            o.schedule_history = []
            o.started_at = None
            o.completed_at = None
            o.checklist = []
            o.materials = []
            o.notes = ""
            o.photos = []
            o.signature = None
            o.geo = None
            o.reason = ""
            o.completion_key = None

    class Scheduled(Aggregate.Event):
        technician_id: str
        start: datetime
        end: datetime
        previous: dict[str, Any] | None
        reason: str

        def apply(self, o: Any) -> None:
            if self.previous:
                o.schedule_history = [*o.schedule_history, self.previous]
            o.technician_id = self.technician_id
            o.window_start = self.start
            o.window_end = self.end
            o.status = "scheduled"

    class Dispatched(Aggregate.Event):
        """The technician is on the way."""

        def apply(self, o: Any) -> None:
            o.status = "en_route"

    class Started(Aggregate.Event):
        def apply(self, o: Any) -> None:
            o.status = "in_progress"
            o.started_at = self.timestamp

    class PhotoAdded(Aggregate.Event):
        photo: dict[str, Any]

        def apply(self, o: Any) -> None:
            o.photos = [*o.photos, self.photo]

    class Completed(Aggregate.Event):
        checklist: list[dict[str, Any]]
        materials: list[dict[str, Any]]
        notes: str
        signature: dict[str, Any] | None
        geo: dict[str, str] | None
        completion_key: str | None

        def apply(self, o: Any) -> None:
            o.status = "completed"
            o.completed_at = self.timestamp
            o.checklist = self.checklist
            o.materials = self.materials
            o.notes = self.notes
            o.signature = self.signature
            o.geo = self.geo
            o.completion_key = self.completion_key

    class Failed(Aggregate.Event):
        reason: str
        notes: str

        def apply(self, o: Any) -> None:
            o.status = "failed"
            o.reason = self.reason
            o.notes = self.notes

    class Cancelled(Aggregate.Event):
        reason: str

        def apply(self, o: Any) -> None:
            o.status = "cancelled"
            o.reason = self.reason

    # Commands ------------------------------------------------------------------------------
    @classmethod
    def open(cls, order_id: UUID, meta: Meta, *, number: int, customer_id: str, kind: Any,
             description: Any, priority: Any = "medium", origin: str = "manual", ticket_id: str | None = None,
             contract_id: str | None = None, address: dict[str, Any] | None = None) -> ServiceOrder:
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        checks = {
            "kind": lambda: _choice(kind, "kind", KINDS),
            "priority": lambda: _choice(priority or "medium", "priority", PRIORITIES),
            "description": lambda: _text(description, "description", 5000),
            "origin": lambda: _choice(origin, "origin", ORIGINS),
        }
        for key, check in checks.items():
            try:
                values[key] = check()
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        clean_address = {k: _text(v, f"address.{k}", 200) for k, v in (address or {}).items()
                         if k in ("street", "number", "complement", "district", "city", "state", "cep")}
        order: ServiceOrder = cls._open(
            cls.Opened, meta, id=order_id, number=format_number(number), customer_id=str(customer_id),
            ticket_id=ticket_id, contract_id=contract_id, address=clean_address, **values)
        return order

    def _require(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise ConflictError(f"cannot {action} an order that is {self.status}", field="status")

    def schedule(self, meta: Meta, *, technician_id: str, start: datetime, end: datetime,
                 reason: str = "") -> None:
        self._require(("open", "scheduled", "en_route"), "schedule")
        start, end = clean_window(start, end)
        previous = None
        if self.window_start is not None:
            previous = {"technician_id": self.technician_id, "start": self.window_start.isoformat(),
                        "end": self.window_end.isoformat(), "until": meta.at.isoformat()}
        self._record(self.Scheduled, meta, technician_id=str(technician_id), start=start, end=end,
                     previous=previous, reason=_text(reason, "reason", 500))

    def dispatch(self, meta: Meta) -> None:
        self._require(("scheduled",), "dispatch")
        self._record(self.Dispatched, meta)

    def start(self, meta: Meta) -> None:
        if self.status == "in_progress":
            return  # a second tap on "start" changes nothing
        self._require(("scheduled", "en_route"), "start")
        self._record(self.Started, meta)

    def add_photo(self, meta: Meta, photo: dict[str, Any]) -> None:
        self._require(OPEN_STATUSES, "add a photo to")
        if any(p.get("sha256") == photo.get("sha256") for p in self.photos):
            return
        self._record(self.PhotoAdded, meta, photo=dict(photo))

    def complete(self, meta: Meta, *, checklist: Any = None, materials: Any = None, notes: Any = "",
                 signature: dict[str, Any] | None = None, geo: Any = None,
                 completion_key: str | None = None) -> bool:
        """Records the completion; False when it is a repeat of the same request (same key)."""
        if self.status == "completed" and completion_key and completion_key == self.completion_key:
            return False
        self._require(("in_progress",), "complete")
        self._record(self.Completed, meta, checklist=clean_checklist(checklist),
                     materials=clean_materials(materials), notes=_text(notes, "notes", 5000),
                     signature=signature, geo=clean_geo(geo), completion_key=completion_key)
        return True

    def fail(self, meta: Meta, *, reason: Any, notes: Any = "") -> None:
        self._require(OPEN_STATUSES, "fail")
        self._record(self.Failed, meta, reason=_choice(reason, "reason", FAIL_REASONS),
                     notes=_text(notes, "notes", 2000))

    def cancel(self, meta: Meta, *, reason: Any) -> None:
        self._require(OPEN_STATUSES, "cancel")
        self._record(self.Cancelled, meta, reason=_text(reason, "reason", 500, required=True))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TechnicianDay(Aggregate):
    """The windows a technician holds on one local date (the overlap guard)."""

    class Started(Aggregate.Created):
        technician_id: str
        day: date

        def apply(self, d: Any) -> None:
            super().apply(d)
            d.windows = {}

    class Booked(Aggregate.Event):
        order_id: str
        start: datetime
        end: datetime

        def apply(self, d: Any) -> None:
            d.windows = {**d.windows, self.order_id: [self.start, self.end]}

    class Released(Aggregate.Event):
        order_id: str

        def apply(self, d: Any) -> None:
            d.windows = {k: v for k, v in d.windows.items() if k != self.order_id}

    @classmethod
    def start(cls, meta: Meta, technician_id: str, day: date) -> TechnicianDay:
        result: TechnicianDay = cls._open(cls.Started, meta, id=technician_day_id(meta.tenant_id, technician_id, day),
                                          technician_id=str(technician_id), day=day)
        return result

    def clash(self, order_id: str, start: datetime, end: datetime) -> str | None:
        """The id of another order whose window overlaps [start, end), if any."""
        for other, (s, e) in sorted(self.windows.items()):
            if other != order_id and overlaps(start, end, s, e):
                return other
        return None

    def book(self, meta: Meta, order_id: str, start: datetime, end: datetime) -> None:
        other = self.clash(order_id, start, end)
        if other is not None:
            raise ConflictError("the technician already has a visit overlapping this window", field="start")
        if self.windows.get(order_id) == [start, end]:
            return
        self._record(self.Booked, meta, order_id=order_id, start=start, end=end)

    def release(self, meta: Meta, order_id: str) -> None:
        if order_id in self.windows:
            self._record(self.Released, meta, order_id=order_id)
