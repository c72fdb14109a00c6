"""Billing vocabulary shared by its aggregates: cycles, kinds, statuses, deterministic ids."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import retaguarda.billing.money as m
from retaguarda.shared.errors import ValidationError

CYCLES = (*tuple(m.CYCLE_MONTHS), "once")


PLAN_KINDS = ("plan", "product", "service")


ITEM_KINDS = ("plan", "product", "service")


METHODS = ("pix", "boleto", "card", "cash", "transfer", "credit")


INVOICE_STATUSES = ("draft", "issued", "partially_paid", "overdue", "paid", "cancelled")


OPEN_STATUSES = ("issued", "partially_paid", "overdue")


SUBSCRIPTION_STATUSES = ("active", "suspended", "cancelled")


_NS = uuid.UUID("a4a3f1c6-2b7e-4c51-8f0e-41d6b7b9c0d2")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NS, f"settings\x1f{tenant_id}")


def account_id(tenant_id: str, customer_id: str) -> UUID:
    return uuid.uuid5(_NS, f"account\x1f{tenant_id}\x1f{customer_id}")


def _text(value: Any, field: str, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text
