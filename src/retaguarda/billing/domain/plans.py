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
    """A recurring plan (cycle monthly … annual) or a one-off product/service (cycle `once`).

    `fiscal` (optional) is the plan's fiscal class, which the fiscal context reads on the invoice
    items: {"class": "scm", "cclass"} (telecom → NFCom), {"class": "sva", "service_code"}
    (value-added → NFS-e) or {"class": "combined", "cclass", "service_code", "sva_amount"} (the
    price minus `sva_amount` is SCM, `sva_amount` is SVA). Set by a Changed event, so plans saved
    before it existed read as None.
    """

    fiscal: dict[str, Any] | None = None

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
               active: Any = True, fiscal: Any = None, portal: Any = False) -> "Plan":
        fields = _plan_fields(dict(name=name, price=price, cycle=cycle, kind=kind, active=active, portal=portal))
        offered = fields.pop("portal")
        fiscal_class = clean_fiscal(fiscal, fields["price"]) if fiscal else None
        plan = cls._open(cls.Created, meta, id=uuid.uuid4(), **fields)
        extra: dict[str, Any] = {}
        if fiscal_class:
            extra["fiscal"] = fiscal_class
        if offered:
            extra["portal"] = True
        if extra:
            plan._record(cls.Changed, meta, changes=extra)
        return plan

    def change(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        fiscal = changes.pop("fiscal", self.fiscal)
        cleaned = _plan_fields({**{k: getattr(self, k) for k in ("name", "price", "cycle", "kind", "active")},
                                "portal": getattr(self, "portal", False), **changes})
        cleaned["fiscal"] = clean_fiscal(fiscal, cleaned["price"]) if fiscal else None
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Changed, meta, changes={k: (str(v) if k == "price" else v) for k, v in diff.items()})
        return diff


FISCAL_CLASSES = ("scm", "sva", "combined")


def clean_fiscal(data: Any, price: Decimal) -> dict[str, Any]:
    """The plan's fiscal class (see Plan); errors name `fiscal.<key>`."""
    if not isinstance(data, dict):
        raise ValidationError("fiscal", "fiscal must be an object")
    errors: dict[str, str] = {}
    cls = str(data.get("class") or "").lower()
    out: dict[str, Any] = {"class": cls}
    if cls not in FISCAL_CLASSES:
        errors["fiscal.class"] = f"class must be one of {', '.join(FISCAL_CLASSES)}"
    cclass = str(data.get("cclass") or "").strip()
    if cclass:
        if not (len(cclass) == 7 and cclass.isdigit()):
            errors["fiscal.cclass"] = "cclass must have 7 digits"
        out["cclass"] = cclass
    code = str(data.get("service_code") or "").strip()
    if code:
        if len(code) > 20:
            errors["fiscal.service_code"] = "service_code must have at most 20 characters"
        out["service_code"] = code
    if cls == "combined":
        try:
            sva = m.parse_amount(data.get("sva_amount"), "fiscal.sva_amount", maximum=m.MAX_PLAN_PRICE)
            if sva >= price:
                errors["fiscal.sva_amount"] = "sva_amount must be less than the price"
            out["sva_amount"] = str(sva)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.many(errors)
    return out


def plan_items(description: str, amount: Decimal, fiscal: dict[str, Any] | None,
               factor: Decimal = Decimal(1)) -> list[dict[str, Any]]:
    """The invoice items of one plan period: one line, or for a combined plan an SCM line and an SVA
    line whose sum is `amount` (the SVA part prorated like the price)."""
    amount = m.cents(amount)
    base = {"quantity": "1", "kind": "plan"}
    if not fiscal:
        return [{**base, "description": description[:200], "unit_price": str(amount), "amount": str(amount)}]
    extra = {k: fiscal[k] for k in ("cclass", "service_code") if fiscal.get(k)}
    if fiscal.get("class") != "combined":
        line = {**base, "description": description[:200], "unit_price": str(amount), "amount": str(amount),
                "fiscal_class": fiscal["class"], **extra}
        return [line]
    sva = min(m.cents(m.prorate(Decimal(fiscal["sva_amount"]), factor)), amount)
    scm = m.cents(amount - sva)
    cclass = {"cclass": fiscal["cclass"]} if fiscal.get("cclass") else {}
    code = {"service_code": fiscal["service_code"]} if fiscal.get("service_code") else {}
    lines = [{**base, "description": f"{description} — telecom (SCM)"[:200], "unit_price": str(scm),
              "amount": str(scm), "fiscal_class": "scm", **cclass},
             {**base, "description": f"{description} — SVA"[:200], "unit_price": str(sva),
              "amount": str(sva), "fiscal_class": "sva", **code}]
    return [line for line in lines if Decimal(line["amount"]) > 0] or lines[:1]


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
            sub.price_overrides = []

    class PlanChangeScheduled(Aggregate.Event):
        plan_id: str
        effective_from: date

        def apply(self, sub: "Subscription") -> None:
            sub.pending_plan_id = self.plan_id
            sub.pending_from = self.effective_from

    class PriceSet(Aggregate.Event):
        """From `effective_from` on, periods are billed at `price` whatever the plan's price (a
        contract's agreed price); a later instruction replaces the ones scheduled after it."""

        price: Decimal
        effective_from: date
        reason: str

        def apply(self, sub: "Subscription") -> None:
            kept = [o for o in getattr(sub, "price_overrides", []) if o[0] < self.effective_from.isoformat()]
            sub.price_overrides = [*kept, [self.effective_from.isoformat(), str(self.price)]]

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

    def price_for(self, period_start: date, plan_price: Decimal) -> Decimal:
        """The price of the period starting on `period_start`: the override in force, else the plan's."""
        return override_price(getattr(self, "price_overrides", []), period_start, plan_price)

    def set_price(self, meta: Meta, price: Any, effective_from: date, reason: str = "") -> bool:
        """Bills periods from `effective_from` at `price`. False when that is already so."""
        if self.status == "cancelled":
            raise ConflictError("a cancelled subscription cannot change price")
        amount = m.parse_amount(price, "price", allow_zero=True)
        if not isinstance(effective_from, date):
            raise ValidationError("effective_from", "effective_from must be a date (YYYY-MM-DD)")
        overrides = getattr(self, "price_overrides", [])
        if overrides and overrides[-1] == [effective_from.isoformat(), str(amount)]:
            return False
        self._record(self.PriceSet, meta, price=amount, effective_from=effective_from,
                     reason=_text(reason, "reason", 300, required=False))
        return True

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


def override_price(overrides: list[Any] | None, period_start: date, plan_price: Decimal) -> Decimal:
    """The latest `[from, price]` override starting on or before `period_start`, else `plan_price`."""
    found = plan_price
    day = period_start.isoformat()
    for start, price in sorted(overrides or []):
        if start <= day:
            found = Decimal(price)
    return found
