"""The catalogue (Plan) and what a customer subscribes to (Subscription)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import retaguarda.billing.money as m
from retaguarda.billing.domain.common import CYCLES, PLAN_KINDS, _text
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta


class Plan(Aggregate):
    """A recurring plan (cycle monthly … annual) or a one-off product/service (cycle `once`)."""

    class Created(Aggregate.Created):
        name: str
        price: Decimal
        cycle: str
        kind: str
        active: bool

        def apply(self, plan: "Plan") -> None:
            super().apply(plan)
            plan.portal = False  # offered in the customer portal: set by a later Changed

    class Changed(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, plan: "Plan") -> None:
            for key, value in self.changes.items():
                setattr(plan, key, Decimal(value) if key == "price" else value)

    @classmethod
    def create(cls, meta: Meta, *, name: Any, price: Any, cycle: Any = "monthly", kind: Any = "plan",
               active: Any = True, portal: Any = False) -> "Plan":
        fields = _plan_fields(dict(name=name, price=price, cycle=cycle, kind=kind, active=active, portal=portal))
        offered = fields.pop("portal")
        plan = cls._open(cls.Created, meta, id=uuid.uuid4(), **fields)
        if offered:
            plan._record(cls.Changed, meta, changes={"portal": True})
        return plan

    def change(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        cleaned = _plan_fields({**{k: getattr(self, k) for k in ("name", "price", "cycle", "kind", "active")},
                                "portal": getattr(self, "portal", False), **changes})
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Changed, meta, changes={k: (str(v) if k == "price" else v) for k, v in diff.items()})
        return diff


def _plan_fields(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["name"] = _text(data["name"], "name", 120)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        out["price"] = m.parse_amount(data["price"], "price", allow_zero=True, maximum=m.MAX_PLAN_PRICE)
    except ValidationError as exc:
        errors.update(exc.errors)
    kind = data.get("kind") or "plan"
    if kind not in PLAN_KINDS:
        errors["kind"] = f"kind must be one of {', '.join(PLAN_KINDS)}"
    out["kind"] = kind
    cycle = data.get("cycle") or ("monthly" if kind == "plan" else "once")
    if cycle not in CYCLES:
        errors["cycle"] = f"cycle must be one of {', '.join(CYCLES)}"
    elif kind == "plan" and cycle == "once":
        errors["cycle"] = "a recurring plan needs a billing cycle"
    out["cycle"] = cycle
    if not isinstance(data.get("active", True), bool):
        errors["active"] = "active must be true or false"
    out["active"] = bool(data.get("active", True))
    if not isinstance(data.get("portal", False), bool):
        errors["portal"] = "portal must be true or false"
    out["portal"] = bool(data.get("portal", False))
    if errors:
        raise ValidationError.many(errors)
    return out


class Subscription(Aggregate):
    """A customer's plan: due day 1–28, start date, status, plan changes at the next period."""

    class Started(Aggregate.Created):
        customer_id: str
        plan_id: str
        due_day: int
        start_date: date

        def apply(self, sub: "Subscription") -> None:
            super().apply(sub)
            sub.status = "active"
            sub.pending_plan_id = None
            sub.pending_from = None
            sub.status_reason = ""

    class PlanChangeScheduled(Aggregate.Event):
        plan_id: str
        effective_from: date

        def apply(self, sub: "Subscription") -> None:
            sub.pending_plan_id = self.plan_id
            sub.pending_from = self.effective_from

    class Suspended(Aggregate.Event):
        reason: str

        def apply(self, sub: "Subscription") -> None:
            sub.status = "suspended"
            sub.status_reason = self.reason

    class Resumed(Aggregate.Event):
        reason: str

        def apply(self, sub: "Subscription") -> None:
            sub.status = "active"
            sub.status_reason = self.reason

    class Cancelled(Aggregate.Event):
        reason: str
        end_date: date

        def apply(self, sub: "Subscription") -> None:
            sub.status = "cancelled"
            sub.status_reason = self.reason
            sub.end_date = self.end_date

    @classmethod
    def start(cls, meta: Meta, *, customer_id: str, plan: Plan, due_day: Any, start_date: Any) -> "Subscription":
        errors: dict[str, str] = {}
        if plan.kind != "plan" or plan.cycle == "once":
            errors["plan_id"] = "only a recurring plan can be subscribed"
        elif not plan.active:
            errors["plan_id"] = "the plan is not active"
        if isinstance(due_day, bool) or not isinstance(due_day, int) or not 1 <= due_day <= 28:
            errors["due_day"] = "due_day must be an integer from 1 to 28"
        if not isinstance(start_date, date):
            errors["start_date"] = "start_date must be a date (YYYY-MM-DD)"
        if errors:
            raise ValidationError.many(errors)
        return cls._open(cls.Started, meta, id=uuid.uuid4(), customer_id=str(customer_id),
                         plan_id=str(plan.id), due_day=due_day, start_date=start_date)

    def change_plan(self, meta: Meta, plan: Plan, effective_from: date) -> None:
        if self.status == "cancelled":
            raise ConflictError("a cancelled subscription cannot change plan")
        if plan.kind != "plan" or not plan.active:
            raise ValidationError("plan_id", "only an active recurring plan can be subscribed")
        self._record(self.PlanChangeScheduled, meta, plan_id=str(plan.id), effective_from=effective_from)

    def plan_for(self, period_start: date) -> str:
        if self.pending_plan_id and self.pending_from and period_start >= self.pending_from:
            return self.pending_plan_id
        return self.plan_id

    def suspend(self, meta: Meta, reason: str) -> None:
        if self.status != "active":
            raise ConflictError(f"only an active subscription can be suspended (it is {self.status})")
        self._record(self.Suspended, meta, reason=_text(reason, "reason", 300))

    def resume(self, meta: Meta, reason: str) -> None:
        if self.status != "suspended":
            raise ConflictError(f"only a suspended subscription can be resumed (it is {self.status})")
        self._record(self.Resumed, meta, reason=_text(reason, "reason", 300))

    def cancel(self, meta: Meta, reason: str, end_date: date) -> None:
        if self.status == "cancelled":
            raise ConflictError("the subscription is already cancelled")
        self._record(self.Cancelled, meta, reason=_text(reason, "reason", 300), end_date=end_date)
