"""Billing application helpers shared by its use cases: claim scopes, local dates, public invoice tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from retaguarda.billing.domain import (
    DEFAULT_SETTINGS,
    BillingSettings,
)
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.compare import same_secret
from retaguarda.shared.meta import Meta
from retaguarda.shared.sequence import Sequence

PERIOD_SCOPE = "billing-period"


PAYMENT_SCOPE = "billing-payment"


INVOICE_SEQUENCE = "billing:invoice"


TRUST_HOURS = 48


def local_date(at: datetime) -> date:
    return at.astimezone(SAO_PAULO).date()


class DefaultSettings:
    """What a tenant that never configured billing gets (not saved)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.values = dict(DEFAULT_SETTINGS)
        self.version = 0

    terms = BillingSettings.terms
    public_values = BillingSettings.public_values


class _Draft:
    """What the charge builders read of an invoice that is not created yet."""

    def __init__(self, invoice_id: UUID, number: int, due_date: date) -> None:
        self.id, self.number, self.due_date = invoice_id, number, due_date


def _advance(seq: Sequence, meta: Meta, count: int) -> None:
    """Takes `count` numbers at once (value+1 … value+count), all used by the same atomic save."""
    if count:
        seq.take(count, meta)


def _period_key(c: dict[str, Any]) -> str:
    return f"{c['subscription_id']}:{c['period'].start.isoformat()}"


def public_token(secret: str, invoice_id: str) -> str:
    """The unguessable part of an invoice's public payment link (HMAC of its id)."""
    import base64
    import hashlib
    import hmac

    mac = hmac.new(secret.encode(), f"billing-public\x1f{invoice_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def check_public_token(secret: str, invoice_id: str, token: str) -> bool:
    return same_secret(public_token(secret, invoice_id), token or "")
