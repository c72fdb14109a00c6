"""Campaign commands: load → aggregate → save. Providers are never called here (see `pipeline`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from retaguarda.campaigns.domain import (
    BATCH_SIZE,
    TWO_STEP,
    Campaign,
    CampaignMessage,
    CampaignSettings,
    OptOut,
    RecipientBatch,
    batch_id,
    clean_email,
    message_id,
    optout_id,
    settings_id,
)
from retaguarda.services import Saved, Service
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta


def external_scope(tenant_id: str) -> str:
    return f"campaign-external:{tenant_id}"


def normalize_recipient(index: int, raw: Any) -> dict[str, Any]:
    """One recipient as stored: E.164 `phone` (None when invalid), `email`, `name`, `consent`,
    `attributes`, and `invalid` naming why it cannot be reached (the message is then skipped)."""
    from retaguarda.campaigns.phones import InvalidPhoneError, normalize_phone

    if not isinstance(raw, dict):
        raise ValidationError(f"recipients[{index}]", "each recipient must be an object")
    phone_raw = raw.get("phone")
    email_raw = raw.get("email")
    if not phone_raw and not email_raw:
        raise ValidationError(f"recipients[{index}].phone", "a phone (or e-mail) is required")
    consent = raw.get("consent")
    if consent is not None and not isinstance(consent, bool):
        raise ValidationError(f"recipients[{index}].consent", "consent must be true or false")
    attributes = raw.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ValidationError(f"recipients[{index}].attributes", "attributes must be an object")
    out: dict[str, Any] = {"name": str(raw.get("name") or "")[:200], "consent": bool(consent),
                           "attributes": {str(k): v for k, v in attributes.items()}, "phone": None,
                           "email": None, "invalid": ""}
    if phone_raw:
        try:
            out["phone"] = normalize_phone(str(phone_raw))
        except InvalidPhoneError as exc:
            out["invalid"] = "invalid number" if exc.reason == "invalid" else "not a mobile number"
            out["raw"] = str(phone_raw)[:40]
    if email_raw:
        out["email"] = clean_email(email_raw)
        if out["email"] is None and not out["phone"]:
            out["invalid"] = out["invalid"] or "invalid e-mail"
    if out["phone"] or out["email"]:
        out["invalid"] = ""
    return out


class Campaigns(Service):
    """Receives campaigns, records the pipeline's outcomes, opt-outs and settings."""

    def __init__(self, store: Any, on_saved: Callable[[int], None] | None = None,
                 clock: Any = None) -> None:
        super().__init__(store, on_saved)
        self.clock = clock

    # Campaigns ------------------------------------------------------------------------------
    def dispatch_campaign(self, meta: Meta, *, external_id: Any, name: Any, provider: Any, content: Any,
                          recipients: Any, send_at: datetime | None = None, options: Any = None,
                          recipients_url: str | None = None,
                          batch_size: int = BATCH_SIZE) -> tuple[Saved, bool]:
        """(saved, created): a repeated external id returns the existing campaign, created False."""
        scope = external_scope(meta.tenant_id)
        key = str(external_id or "").strip()
        existing = self.owner_of(scope, key) if key else None
        if existing:
            return Saved(self.load(Campaign, existing, meta.tenant_id), 0), False
        if recipients is None:
            recipients = []
        if not isinstance(recipients, list):
            raise ValidationError("recipients", "recipients must be a list")
        people = [normalize_recipient(i, r) for i, r in enumerate(recipients)]

        def command() -> tuple[Saved, bool]:
            campaign = Campaign.receive(uuid.uuid4(), meta, external_id=external_id, name=name,
                                        provider=provider, content=content, options=options,
                                        send_at=send_at, recipient_count=len(people),
                                        recipients_url=recipients_url, batch_size=batch_size)
            try:
                claim = self.claim(scope, campaign.external_id, str(campaign.id), meta)
            except ConflictError:
                owner = self.owner_of(scope, campaign.external_id)
                return Saved(self.load(Campaign, owner, meta.tenant_id), 0), False
            batches = [RecipientBatch.store(meta, campaign.id, b, b * batch_size,
                                            people[b * batch_size:(b + 1) * batch_size])
                       for b in range(campaign.batch_count)]
            return Saved(campaign, self.save(campaign, claim, *batches)), True

        return self.retrying(command)

    def get_campaign(self, tenant_id: str | None, campaign_id: str) -> Campaign:
        return self.load(Campaign, campaign_id, tenant_id)

    def find_campaign(self, campaign_id: str) -> Campaign | None:
        try:
            return self.find(Campaign, uuid.UUID(str(campaign_id)))
        except ValueError:
            return None

    def get_batch(self, campaign_id: str, batch: int) -> RecipientBatch | None:
        return self.find(RecipientBatch, batch_id(campaign_id, batch))

    def cancel_campaign(self, meta: Meta, campaign_id: str, reason: str = "") -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.cancel(meta, reason or "cancelled by user"))

    def _campaign(self, meta: Meta, campaign_id: str, change: Callable[[Campaign], Any]) -> Saved:
        def command() -> Saved:
            campaign = self.load(Campaign, campaign_id, meta.tenant_id)
            change(campaign)
            return Saved(campaign, self.save(campaign))

        return self.retrying(command)

    def record_dispatch_started(self, meta: Meta, campaign_id: str) -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.start_dispatch(meta))

    def record_scheduled(self, meta: Meta, campaign_id: str, start_at: datetime, why: str) -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.schedule(meta, start_at, why))

    def record_prepared(self, meta: Meta, campaign_id: str, batch: int, refs: dict[str, Any]) -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.batch_prepared(meta, batch, refs))

    def record_started(self, meta: Meta, campaign_id: str, refs: dict[str, Any]) -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.started(meta, refs))

    def record_finished(self, meta: Meta, campaign_id: str, totals: dict[str, int]) -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.finish(meta, totals))

    def record_campaign_failed(self, meta: Meta, campaign_id: str, reason: str) -> Saved:
        return self._campaign(meta, campaign_id, lambda c: c.fail(meta, reason))

    def fan_out_batch(self, meta: Meta, campaign_id: str, batch: int,
                      people: list[dict[str, Any]], first_index: int, opted_out: set[str],
                      last: bool) -> tuple[Campaign, list[CampaignMessage]]:
        """Creates the batch's messages with the campaign's `BatchFannedOut`, in one save.

        Returns the messages; when the batch was already fanned out (a redelivered job), returns
        ([]) and the caller re-enqueues the batch's queued messages from their ids.
        """
        def command() -> tuple[Campaign, list[CampaignMessage]]:
            campaign = self.load(Campaign, campaign_id, meta.tenant_id)
            if batch < campaign.fanned_out:
                return campaign, []
            if campaign.is_terminal:
                return campaign, []
            campaign.start_dispatch(meta)
            marketing = campaign.options.get("kind", "marketing") == "marketing"
            messages = []
            for offset, person in enumerate(people):
                to = person.get("phone") or person.get("email") or person.get("raw") or ""
                reason = ""
                if person.get("invalid"):
                    reason = person["invalid"]
                elif person.get("phone") and person["phone"] in opted_out:
                    reason = "opted out"
                elif marketing and not person.get("consent"):
                    reason = "no consent"
                elif campaign.provider != "salesforce" and not person.get("phone"):
                    reason = "no phone for an SMS/RCS provider"
                messages.append(CampaignMessage.create(
                    meta, campaign.id, provider=campaign.provider, index=first_index + offset, to=to,
                    name=person.get("name", ""), attributes=person.get("attributes") or {},
                    skip_reason=reason))
            campaign.fanned_out_batch(meta, batch, len(messages), last)
            self.save(campaign, *messages)
            return campaign, messages

        return self.retrying(command)

    # Messages -------------------------------------------------------------------------------
    def find_message(self, message_id_: str) -> CampaignMessage | None:
        try:
            return self.find(CampaignMessage, uuid.UUID(str(message_id_)))
        except ValueError:
            return None

    def message_ids(self, campaign_id: str, first_index: int, count: int) -> list[str]:
        return [str(message_id(campaign_id, i)) for i in range(first_index, first_index + count)]

    def _message(self, meta: Meta | None, msg_id: str, change: Callable[[CampaignMessage, Meta], Any],
                 tenant_id: str | None = None, actor: str = "system:campaigns") -> Any:
        def command() -> Any:
            message = self.load(CampaignMessage, msg_id, tenant_id or (meta.tenant_id if meta else None))
            m = meta or Meta(tenant_id=message.tenant_id, actor=actor, correlation_id=str(message.campaign_id),
                             at=self.clock.now())
            result = change(message, m)
            self.save(message)
            return message if result is None else result

        return self.retrying(command)

    def record_sent(self, msg_id: str, *, provider_message_id: str, channel: str, attempt: int,
                    fallback_reason: str = "") -> CampaignMessage:
        return self._message(None, msg_id, lambda m, meta: m.sent(meta, provider_message_id, channel, attempt,
                                                                  fallback_reason))

    def record_attempt_failed(self, msg_id: str, *, attempt: int, error: str, retry_at: datetime) -> Any:
        return self._message(None, msg_id, lambda m, meta: m.attempt_failed(meta, attempt, error, retry_at))

    def record_deferred(self, msg_id: str, *, until: datetime, why: str) -> Any:
        return self._message(None, msg_id, lambda m, meta: m.defer(meta, until, why))

    def record_message_failed(self, msg_id: str, *, reason: str, attempts: int | None = None,
                              dead: bool = False) -> Any:
        return self._message(None, msg_id, lambda m, meta: m.fail(meta, reason, attempts=attempts, dead=dead))

    def record_skipped(self, msg_id: str, *, reason: str) -> Any:
        return self._message(None, msg_id, lambda m, meta: m.skip(meta, reason))

    def retry_dead_letter(self, meta: Meta, msg_id: str) -> CampaignMessage:
        def requeue(m: CampaignMessage, mm: Meta) -> None:
            if m.provider in TWO_STEP:
                raise ConflictError("GOSAC and Salesforce send whole campaigns in two steps; a single "
                                    "message cannot be retried — dispatch a new campaign for it")
            m.requeue(mm)

        return self._message(meta, msg_id, requeue)

    def discard_dead_letter(self, meta: Meta, msg_id: str) -> CampaignMessage:
        return self._message(meta, msg_id, lambda m, mm: m.discard(mm))

    def apply_receipt(self, meta: Meta, msg_id: str, status: str, reason: str = "",
                      fallback: bool = False) -> str:
        """Delivery receipt → delivered / failed / SMS fallback; repeated receipts change nothing."""
        def change(m: CampaignMessage, mm: Meta) -> str:
            if status == "delivered":
                return "delivered" if m.delivered(mm) else "unchanged"
            if fallback and m.channel == "rcs":
                return "fallback" if m.fall_back(mm, "sms", reason or "rcs ttl expired") else "unchanged"
            if m.status == "sent":
                m.fail(mm, reason or "not delivered")
                return "failed"
            return "unchanged"

        return self._message(meta, msg_id, change)

    # Opt-outs -------------------------------------------------------------------------------
    def opt_out(self, meta: Meta, phone: str, source: str, note: str = "") -> Saved:
        from retaguarda.campaigns.phones import InvalidPhoneError, normalize_phone

        try:
            e164 = normalize_phone(phone)
        except InvalidPhoneError:
            raise ValidationError("phone", "not a valid phone number") from None

        def command() -> Saved:
            existing = self.find(OptOut, optout_id(meta.tenant_id, e164))
            if existing is None:
                optout = OptOut.add(meta, e164, source, note)
                return Saved(optout, self.save(optout))
            existing.readd(meta, source, note)
            return Saved(existing, self.save(existing))

        return self.retrying(command)

    def remove_opt_out(self, meta: Meta, phone: str, note: str) -> Saved:
        from retaguarda.campaigns.phones import InvalidPhoneError, normalize_phone

        try:
            e164 = normalize_phone(phone)
        except InvalidPhoneError:
            raise ValidationError("phone", "not a valid phone number") from None

        def command() -> Saved:
            optout = self.find(OptOut, optout_id(meta.tenant_id, e164))
            if optout is None or optout.tenant_id != meta.tenant_id:
                raise NotFoundError("OptOut", e164)
            optout.remove(meta, note)
            return Saved(optout, self.save(optout))

        return self.retrying(command)

    def is_opted_out(self, tenant_id: str, e164: str) -> bool:
        optout = self.find(OptOut, optout_id(tenant_id, e164))
        return bool(optout and optout.active)

    # Settings -------------------------------------------------------------------------------
    def get_settings(self, tenant_id: str) -> CampaignSettings | None:
        return self.find(CampaignSettings, settings_id(tenant_id))

    def configure(self, meta: Meta, *, general: dict[str, Any] | None = None,
                  providers: dict[str, dict[str, Any]] | None = None,
                  credentials: dict[str, dict[str, Any]] | None = None,
                  webhook_secret: str | None = None) -> Saved:
        def command() -> Saved:
            settings = self.get_settings(meta.tenant_id) or CampaignSettings.create(meta)
            settings.configure(meta, general, providers)
            for provider, values in (credentials or {}).items():
                merged = {**settings.credentials.get(provider, {}), **values}
                settings.set_credentials(meta, provider, merged)
            if webhook_secret:
                settings.set_webhook_secret(meta, webhook_secret)
            return Saved(settings, self.save(settings))

        return self.retrying(command)
