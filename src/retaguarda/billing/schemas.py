"""Request bodies of the billing API (shapes only; values are validated by the domain).

Amounts are decimal strings; `int` is accepted too (never float)."""

from __future__ import annotations

from typing import Any

import msgspec

Amount = str | int


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    price: Amount
    cycle: str = ""
    kind: str = "plan"
    active: bool = True
    fiscal: dict[str, Any] | None = None
    """{"class": "scm"|"sva"|"combined", "cclass", "service_code", "sva_amount"} (see Plan)."""
    portal: bool = False  # offered to customers in the self-service portal


class PlanPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    price: Amount | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    fiscal: dict[str, Any] | msgspec.UnsetType | None = msgspec.UNSET
    portal: bool | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__struct_fields__ if getattr(self, k) is not msgspec.UNSET}


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str
    plan_id: str
    due_day: int
    start_date: str


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    description: str
    unit_price: Amount
    quantity: Amount = "1"
    kind: str = "service"
    fiscal_class: str = ""
    """scm (NFCom) or sva (NFS-e); empty: the fiscal context decides by kind."""
    cclass: str = ""
    service_code: str = ""


class InvoiceIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str
    due_date: str
    items: list[ItemIn]
    discount: Amount = "0"


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    method: str
    paid_at: str = ""
    reference: str = ""


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    payment_id: str
    amount: Amount


class PlanChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    plan_id: str
    when: str = "next_period"  # or "now" (pro-rated immediately)


class CancelSubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
    final_invoice: bool = True


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class RunIn(msgspec.Struct, forbid_unknown_fields=True):
    date: str = ""


def items_of(body: InvoiceIn) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(i) for i in body.items]
