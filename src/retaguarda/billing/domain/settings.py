"""Tenant-level billing aggregates: BillingSettings, GatewayEvent (webhook de-duplication), BillingRun."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import retaguarda.billing.money as m
from retaguarda.billing.domain.common import _NS, _text, settings_id
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta

SECRET_SETTINGS = ("stripe_secret_key", "stripe_webhook_secret", "mercadopago_access_token",
                   "mercadopago_webhook_secret", "access_network_secret")


DEFAULT_SETTINGS: dict[str, Any] = {
    "fine_percent": "2", "interest_percent_month": "1", "reminder_days": [-3, 0, 1, 5, 10],
    "block_after_days": 10, "lead_days": 10, "pix_key": "", "merchant_name": "", "merchant_city": "",
    "boleto_bank": "", "boleto_agency": "", "boleto_account": "", "boleto_wallet": "",
    "boleto_agreement": "", "access_network_url": "", "nfse_on_paid": False,
    **{k: "" for k in SECRET_SETTINGS},
}


def clean_settings(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in DEFAULT_SETTINGS:
            errors[key] = "unknown setting"
            continue
        try:
            if key in ("fine_percent", "interest_percent_month"):
                pct = m.parse_amount(value, key, allow_zero=True)
                if pct > 20:
                    raise ValidationError(key, "at most 20 %")
                out[key] = str(pct)
            elif key in ("block_after_days", "lead_days"):
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
                    raise ValidationError(key, f"{key} must be an integer from 0 to 120")
                out[key] = value
            elif key == "reminder_days":
                if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                          and -30 <= d <= 60 for d in value):
                    raise ValidationError(key, "reminder_days must be a list of integers from -30 to 60")
                out[key] = sorted(set(value))
            elif key == "nfse_on_paid":
                if not isinstance(value, bool):
                    raise ValidationError(key, "must be true or false")
                out[key] = value
            elif key == "merchant_name":
                out[key] = _text(value, key, 25, required=False)
            elif key == "merchant_city":
                out[key] = _text(value, key, 15, required=False)
            elif key == "pix_key":
                out[key] = _text(value, key, 77, required=False)
            elif key == "boleto_bank":
                text = _text(value, key, 3, required=False)
                if text and not (text.isdigit() and len(text) == 3):
                    raise ValidationError(key, "bank code has 3 digits")
                out[key] = text
            elif key == "access_network_url":
                text = _text(value, key, 300, required=False)
                if text and not text.startswith(("http://", "https://")):
                    raise ValidationError(key, "must be an http(s) URL")
                out[key] = text
            else:
                out[key] = str(value or "").strip()[:300]
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.many(errors)
    return out


class BillingSettings(Aggregate):
    """A tenant's billing options. Secrets live only in events (encrypted by the store)."""

    class Configured(Aggregate.Created):
        values: dict[str, Any]

        def apply(self, s: "BillingSettings") -> None:
            s.tenant_id = self.tenant_id
            s.values = {**DEFAULT_SETTINGS, **self.values}

    class Changed(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, s: "BillingSettings") -> None:
            s.values = {**s.values, **self.changes}

    @classmethod
    def configure(cls, meta: Meta, **values: Any) -> "BillingSettings":
        return cls._open(cls.Configured, meta, id=settings_id(meta.tenant_id), values=clean_settings(values))

    def change(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        cleaned = clean_settings(changes)
        diff = {k: v for k, v in cleaned.items() if self.values.get(k) != v}
        if diff:
            self._record(self.Changed, meta, changes=diff)
        return diff

    @property
    def terms(self) -> m.LateTerms:
        return m.LateTerms(Decimal(self.values["fine_percent"]), Decimal(self.values["interest_percent_month"]))

    def public_values(self) -> dict[str, Any]:
        """Every setting, secrets replaced by whether they are set."""
        return {k: (bool(v) if k in SECRET_SETTINGS else v) for k, v in self.values.items()}


def gateway_event_id(provider: str, event_id: str) -> UUID:
    return uuid.uuid5(_NS, f"gateway-event\x1f{provider}\x1f{event_id}")


class GatewayEvent(Aggregate):
    """One accepted (verified) webhook delivery, with its raw body. Its id derives from the
    provider's event id, so a second delivery of the same event cannot be recorded again."""

    class Accepted(Aggregate.Created):
        provider: str
        event_id: str
        raw_body: str
        invoice_id: str
        outcome: str

    @classmethod
    def accept(cls, meta: Meta, *, provider: str, event_id: str, raw_body: str, invoice_id: str,
               outcome: str) -> "GatewayEvent":
        return cls._open(cls.Accepted, meta, id=gateway_event_id(provider, event_id), provider=provider,
                         event_id=str(event_id)[:200], raw_body=raw_body[:100_000],
                         invoice_id=str(invoice_id), outcome=outcome)


class BillingRun(Aggregate):
    """One run (generation, reminders, overdue, blocking) for a date, with its counts."""

    class Finished(Aggregate.Created):
        run_date: date
        trigger: str
        results: dict[str, Any]

    @classmethod
    def finish(cls, meta: Meta, run_date: date, trigger: str, results: dict[str, Any]) -> "BillingRun":
        return cls._open(cls.Finished, meta, id=uuid.uuid4(), run_date=run_date, trigger=trigger,
                         results=results)
