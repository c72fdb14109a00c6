"""Campaigns: Campaign, CampaignMessage, RecipientBatch, OptOut, CampaignSettings. Pure: no I/O, no clock.

A campaign arrives from WordPress with its recipients (kept in `RecipientBatch` aggregates of at
most `BATCH_SIZE`, so the campaign itself stays small); the pipeline fans each batch out into
one `CampaignMessage` per recipient. Messages move `queued → sent → delivered`, or end `failed`
(with `dead` set when transient retries ran out: the dead-letter list) or `skipped`.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

PROVIDERS = ("cda", "gosac", "noah", "rcs", "salesforce")
CREDENTIAL_PROVIDERS = PROVIDERS + ("sms",)
"""`sms` is only the RCS fallback; its credentials live beside the five campaign providers."""
TWO_STEP = ("gosac", "salesforce")
STATUSES = ("received", "dispatching", "scheduled", "started", "completed",
            "completed_with_failures", "failed", "cancelled")
TERMINAL = frozenset({"completed", "completed_with_failures", "failed", "cancelled"})
MESSAGE_STATUSES = ("queued", "sent", "delivered", "failed", "skipped")
KINDS = ("marketing", "transactional")
BATCH_SIZE = 1000
MAX_RECIPIENTS = 200_000
CANCELLED = "campaign cancelled"
OPT_OUT_WORDS = frozenset({"SAIR", "PARE", "STOP", "CANCELAR", "DESCADASTRAR"})

_NS = uuid.UUID("a3c1f0de-5b7e-4a8e-9d3f-7c2b1e0f9a64")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CampaignError(Exception):
    """Base of campaign-context errors."""


def message_id(campaign_id: UUID | str, index: int) -> UUID:
    """Deterministic: a re-run fan-out creates the same ids, so the atomic save refuses copies."""
    return uuid.uuid5(_NS, f"message\x1f{campaign_id}\x1f{index}")


def batch_id(campaign_id: UUID | str, batch: int) -> UUID:
    return uuid.uuid5(_NS, f"batch\x1f{campaign_id}\x1f{batch}")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NS, f"settings\x1f{tenant_id}")


def optout_id(tenant_id: str, phone: str) -> UUID:
    return uuid.uuid5(_NS, f"optout\x1f{tenant_id}\x1f{phone}")


def fold(text: str) -> str:
    """Upper case without accents or punctuation around: ' Saír! ' → 'SAIR'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", str(text or ""))
                    if not unicodedata.combining(c))
    return re.sub(r"[^A-Z0-9 ]", "", plain.upper()).strip()


def is_opt_out_reply(text: str) -> bool:
    """A reply asks to stop when its first word is SAIR/PARE (accents and case ignored)."""
    words = fold(text).split()
    return bool(words) and words[0] in OPT_OUT_WORDS


def clean_email(value: Any) -> str | None:
    email = str(value or "").strip().lower()
    return email if _EMAIL_RE.match(email) and len(email) <= 254 else None


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = " ".join(str(value or "").split()) if "\n" not in str(value or "") else str(value).strip()
    if required and not text:
        raise ValidationError(field, f"{field.rsplit('.', 1)[-1]} is required")
    if len(text) > limit:
        raise ValidationError(field, f"must have at most {limit} characters")
    return text


def clean_content(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError("content", "content must be an object with text")
    text = _text(value.get("text"), "content.text", 2000)
    media_url = _text(value.get("media_url"), "content.media_url", 2000)
    if media_url and not media_url.startswith(("http://", "https://")):
        raise ValidationError("content.media_url", "media URL must be http(s)")
    rich_card = value.get("rich_card")
    if rich_card is not None and not isinstance(rich_card, dict):
        raise ValidationError("content.rich_card", "rich card must be an object")
    if not text and not media_url and not rich_card:
        raise ValidationError("content.text", "text is required (or a media URL / rich card)")
    return {"text": text, "media_url": media_url or None, "rich_card": rich_card or None}


def clean_options(value: Any) -> dict[str, Any]:
    value = value or {}
    if not isinstance(value, dict):
        raise ValidationError("options", "options must be an object")
    kind = value.get("kind", "marketing")
    if kind not in KINDS:
        raise ValidationError("options.kind", "kind must be 'marketing' or 'transactional'")
    return {"kind": kind, "sms_fallback": bool(value.get("sms_fallback", True)),
            "quiet_hours": bool(value.get("quiet_hours", True))}


class Campaign(Aggregate):
    """A WordPress campaign; state: external_id, name, provider, content, options, send_at,
    status, reason, recipient_count, batch_count, fanned_out (batches), prepared (batches),
    refs (two-step provider references), start_at, totals."""

    class Received(Aggregate.Created):
        external_id: str
        name: str
        provider: str
        content: dict[str, Any]
        options: dict[str, Any]
        send_at: datetime | None
        recipient_count: int
        batch_count: int
        recipients_url: str | None

        def apply(self, campaign: "Campaign") -> None:
            super().apply(campaign)
            campaign.status = "received"
            campaign.reason = ""
            campaign.fanned_out = 0
            campaign.created_messages = 0
            campaign.prepared = 0
            campaign.refs = {}
            campaign.start_at = None
            campaign.totals = {}

    class DispatchStarted(Aggregate.Event):
        def apply(self, campaign: "Campaign") -> None:
            campaign.status = "dispatching"

    class BatchFannedOut(Aggregate.Event):
        batch: int
        created: int
        last: bool

        def apply(self, campaign: "Campaign") -> None:
            campaign.fanned_out = self.batch + 1
            campaign.created_messages += self.created
            if self.last:
                campaign.batch_count = self.batch + 1

    class BatchPrepared(Aggregate.Event):
        batch: int
        refs: dict[str, Any]

        def apply(self, campaign: "Campaign") -> None:
            campaign.prepared = max(campaign.prepared, self.batch + 1)
            campaign.refs = {**campaign.refs, **self.refs}

    class Scheduled(Aggregate.Event):
        start_at: datetime
        why: str

        def apply(self, campaign: "Campaign") -> None:
            campaign.status = "scheduled"
            campaign.start_at = self.start_at

    class Started(Aggregate.Event):
        refs: dict[str, Any]

        def apply(self, campaign: "Campaign") -> None:
            campaign.status = "started"
            campaign.refs = {**campaign.refs, **self.refs}

    class Finished(Aggregate.Event):
        outcome: str
        totals: dict[str, int]

        def apply(self, campaign: "Campaign") -> None:
            campaign.status = self.outcome
            campaign.totals = dict(self.totals)

    class Cancelled(Aggregate.Event):
        reason: str

        def apply(self, campaign: "Campaign") -> None:
            campaign.status = "cancelled"
            campaign.reason = self.reason

    class Failed(Aggregate.Event):
        reason: str

        def apply(self, campaign: "Campaign") -> None:
            campaign.status = "failed"
            campaign.reason = self.reason

    @classmethod
    def receive(cls, campaign_id: UUID, meta: Meta, *, external_id: Any, name: Any, provider: Any,
                content: Any, options: Any, send_at: datetime | None, recipient_count: int,
                recipients_url: str | None = None, batch_size: int = BATCH_SIZE) -> "Campaign":
        errors: dict[str, str] = {}
        external = _text(external_id, "external_id", 100) if external_id not in (None, "") else ""
        if not external:
            errors["external_id"] = "external_id is required"
        try:
            clean = _text(name, "name", 200, required=True)
        except ValidationError as exc:
            errors.update(exc.errors)
            clean = ""
        if provider not in PROVIDERS:
            errors["provider"] = f"provider must be one of {', '.join(PROVIDERS)}"
        try:
            body = clean_content(content)
        except ValidationError as exc:
            errors.update(exc.errors)
            body = {}
        try:
            opts = clean_options(options)
        except ValidationError as exc:
            errors.update(exc.errors)
            opts = {}
        if recipient_count <= 0 and not recipients_url:
            errors.setdefault("recipients", "at least one recipient is required")
        if recipient_count > MAX_RECIPIENTS:
            errors["recipients"] = f"at most {MAX_RECIPIENTS} recipients per campaign"
        if recipients_url and not str(recipients_url).startswith(("http://", "https://")):
            errors["recipients_url"] = "recipients_url must be an http(s) URL"
        if send_at is not None and send_at.tzinfo is None:
            errors["send_at"] = "send_at must carry a time zone"
        if errors:
            raise ValidationError.many(errors)
        batches = -(-recipient_count // batch_size) if recipient_count else 0
        return cls._open(cls.Received, meta, id=campaign_id, external_id=external, name=clean,
                         provider=provider, content=body, options=opts, send_at=send_at,
                         recipient_count=recipient_count, batch_count=batches,
                         recipients_url=recipients_url)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def two_step(self) -> bool:
        return self.provider in TWO_STEP

    def start_dispatch(self, meta: Meta) -> None:
        if self.status in ("received", "scheduled") and not self.fanned_out:
            self._record(self.DispatchStarted, meta)

    def schedule(self, meta: Meta, start_at: datetime, why: str) -> None:
        if self.is_terminal:
            raise ConflictError(f"the campaign is {self.status}")
        if self.status != "scheduled" or self.start_at != start_at:
            self._record(self.Scheduled, meta, start_at=start_at, why=why)

    def fanned_out_batch(self, meta: Meta, batch: int, created: int, last: bool) -> None:
        if batch != self.fanned_out:
            raise ConflictError(f"batch {batch} is not the next one ({self.fanned_out})")
        self._record(self.BatchFannedOut, meta, batch=batch, created=created, last=last)

    @property
    def fan_out_done(self) -> bool:
        """Every batch has its messages (a paged campaign learns its batch count at the last page)."""
        return self.batch_count > 0 and self.fanned_out >= self.batch_count

    def batch_prepared(self, meta: Meta, batch: int, refs: dict[str, Any]) -> None:
        if batch < self.prepared:
            return
        self._record(self.BatchPrepared, meta, batch=batch, refs=dict(refs))

    def started(self, meta: Meta, refs: dict[str, Any]) -> None:
        if self.status == "started" or self.is_terminal:
            return
        self._record(self.Started, meta, refs=dict(refs))

    def finish(self, meta: Meta, totals: dict[str, int]) -> str:
        if self.is_terminal:
            return self.status
        sent = totals.get("sent", 0) + totals.get("delivered", 0)
        if totals.get("failed", 0) and not sent:
            outcome = "failed"
        elif totals.get("failed", 0):
            outcome = "completed_with_failures"
        else:
            outcome = "completed"
        self._record(self.Finished, meta, outcome=outcome, totals=dict(totals))
        return outcome

    def cancel(self, meta: Meta, reason: str) -> None:
        if self.is_terminal:
            raise ConflictError(f"the campaign is already {self.status}")
        self._record(self.Cancelled, meta, reason=_text(reason, "reason", 500) or "cancelled")

    def fail(self, meta: Meta, reason: str) -> None:
        if not self.is_terminal:
            self._record(self.Failed, meta, reason=reason[:500])


class RecipientBatch(Aggregate):
    """Up to BATCH_SIZE recipients of one campaign, as WordPress sent them (phone already E.164
    or None when invalid; `raw` keeps what was sent for the skip reason)."""

    class Stored(Aggregate.Created):
        campaign_id: str
        batch: int
        first_index: int
        recipients: list[dict[str, Any]]

    @classmethod
    def store(cls, meta: Meta, campaign_id: UUID, batch: int, first_index: int,
              recipients: list[dict[str, Any]]) -> "RecipientBatch":
        return cls._open(cls.Stored, meta, id=batch_id(campaign_id, batch), campaign_id=str(campaign_id),
                         batch=batch, first_index=first_index, recipients=recipients)


class CampaignMessage(Aggregate):
    """One recipient's message. State: campaign_id, provider, index, to, name, attributes,
    status, reason, attempts, channel, provider_message_id, dead, retry_at, force_channel."""

    class Created(Aggregate.Created):
        campaign_id: str
        provider: str
        index: int
        to: str
        name: str
        attributes: dict[str, Any]
        status: str
        reason: str

        def apply(self, message: "CampaignMessage") -> None:
            super().apply(message)
            message.attempts = 0
            message.channel = None
            message.provider_message_id = None
            message.dead = False
            message.retry_at = None
            message.force_channel = None

    class AttemptFailed(Aggregate.Event):
        attempt: int
        error: str
        retry_at: datetime

        def apply(self, message: "CampaignMessage") -> None:
            message.attempts = self.attempt
            message.reason = self.error
            message.retry_at = self.retry_at

    class Deferred(Aggregate.Event):
        until: datetime
        why: str

        def apply(self, message: "CampaignMessage") -> None:
            message.retry_at = self.until
            message.reason = self.why

    class Sent(Aggregate.Event):
        provider_message_id: str
        channel: str
        attempt: int
        fallback_reason: str
        was: str

        def apply(self, message: "CampaignMessage") -> None:
            message.status = "sent"
            message.provider_message_id = self.provider_message_id
            message.channel = self.channel
            message.attempts = self.attempt
            message.reason = self.fallback_reason
            message.retry_at = None

    class Delivered(Aggregate.Event):
        def apply(self, message: "CampaignMessage") -> None:
            message.status = "delivered"

    class Failed(Aggregate.Event):
        was: str
        reason: str
        attempts: int
        dead: bool

        def apply(self, message: "CampaignMessage") -> None:
            message.status = "failed"
            message.reason = self.reason
            message.attempts = self.attempts
            message.dead = self.dead
            message.retry_at = None

    class Skipped(Aggregate.Event):
        reason: str

        def apply(self, message: "CampaignMessage") -> None:
            message.status = "skipped"
            message.reason = self.reason

    class Requeued(Aggregate.Event):
        reason: str

        def apply(self, message: "CampaignMessage") -> None:
            message.status = "queued"
            message.reason = self.reason
            message.attempts = 0
            message.dead = False

    class Discarded(Aggregate.Event):
        reason: str

        def apply(self, message: "CampaignMessage") -> None:
            message.dead = False
            message.reason = self.reason

    class FallbackRequested(Aggregate.Event):
        channel: str
        reason: str

        def apply(self, message: "CampaignMessage") -> None:
            message.status = "queued"
            message.force_channel = self.channel
            message.reason = self.reason

    @classmethod
    def create(cls, meta: Meta, campaign_id: UUID, *, provider: str, index: int, to: str, name: str,
               attributes: dict[str, Any], skip_reason: str = "") -> "CampaignMessage":
        return cls._open(cls.Created, meta, id=message_id(campaign_id, index), campaign_id=str(campaign_id),
                         provider=provider, index=index, to=to, name=name, attributes=attributes,
                         status="skipped" if skip_reason else "queued", reason=skip_reason)

    @property
    def is_pending(self) -> bool:
        return self.status == "queued"

    def attempt_failed(self, meta: Meta, attempt: int, error: str, retry_at: datetime) -> None:
        self._require("queued")
        self._record(self.AttemptFailed, meta, attempt=attempt, error=error[:500], retry_at=retry_at)

    def defer(self, meta: Meta, until: datetime, why: str) -> None:
        self._require("queued")
        if self.retry_at != until:
            self._record(self.Deferred, meta, until=until, why=why)

    def sent(self, meta: Meta, provider_message_id: str, channel: str, attempt: int,
             fallback_reason: str = "") -> None:
        """Also from `skipped` by a cancel that raced a send already accepted by the provider:
        the record follows what the provider has."""
        if not (self.status == "skipped" and self.reason == CANCELLED):
            self._require("queued")
        self._record(self.Sent, meta, provider_message_id=provider_message_id or "", channel=channel,
                     attempt=attempt, fallback_reason=fallback_reason or "", was=self.status)

    def delivered(self, meta: Meta) -> bool:
        if self.status != "sent":
            return False  # receipts are idempotent: a repeated or late receipt changes nothing
        self._record(self.Delivered, meta)
        return True

    def fail(self, meta: Meta, reason: str, *, attempts: int | None = None, dead: bool = False) -> None:
        if self.status not in ("queued", "sent"):
            raise ConflictError(f"a {self.status} message cannot fail")
        self._record(self.Failed, meta, was=self.status, reason=reason[:500],
                     attempts=self.attempts if attempts is None else attempts, dead=dead)

    def skip(self, meta: Meta, reason: str) -> None:
        self._require("queued")
        self._record(self.Skipped, meta, reason=reason)

    def requeue(self, meta: Meta, reason: str = "retried by hand") -> None:
        if self.status != "failed" or not self.dead:
            raise ConflictError("only a dead-lettered message can be retried")
        self._record(self.Requeued, meta, reason=reason)

    def discard(self, meta: Meta, reason: str = "discarded by hand") -> None:
        if self.status != "failed" or not self.dead:
            raise ConflictError("only a dead-lettered message can be discarded")
        self._record(self.Discarded, meta, reason=reason)

    def fall_back(self, meta: Meta, channel: str, reason: str) -> bool:
        if self.status != "sent" or self.channel == channel:
            return False
        self._record(self.FallbackRequested, meta, channel=channel, reason=reason)
        return True

    def _require(self, status: str) -> None:
        if self.status != status:
            raise ConflictError(f"the message is {self.status}, not {status}")


class OptOut(Aggregate):
    """One phone (E.164) of one tenant that must not receive marketing; `active` False once removed."""

    class Added(Aggregate.Created):
        phone: str
        source: str
        note: str

        def apply(self, optout: "OptOut") -> None:
            super().apply(optout)
            optout.active = True

    class Readded(Aggregate.Event):
        source: str
        note: str

        def apply(self, optout: "OptOut") -> None:
            optout.active = True
            optout.source = self.source
            optout.note = self.note

    class Removed(Aggregate.Event):
        note: str

        def apply(self, optout: "OptOut") -> None:
            optout.active = False
            optout.note = self.note

    @classmethod
    def add(cls, meta: Meta, phone: str, source: str, note: str = "") -> "OptOut":
        return cls._open(cls.Added, meta, id=optout_id(meta.tenant_id, phone), phone=phone, source=source,
                         note=_text(note, "note", 500))

    def readd(self, meta: Meta, source: str, note: str = "") -> bool:
        if self.active:
            return False
        self._record(self.Readded, meta, source=source, note=_text(note, "note", 500))
        return True

    def remove(self, meta: Meta, note: str) -> None:
        if not self.active:
            raise ConflictError("this number is not opted out")
        self._record(self.Removed, meta, note=_text(note, "note", 500) or "consent given again")


# --- settings -------------------------------------------------------------------------------

DEFAULT_ATTEMPTS = {"cda": 3}
DEFAULT_PROVIDER = {"max_attempts": 5, "rate_per_second": 50, "concurrency": 8, "enabled": True}
DEFAULT_GENERAL = {
    "backoff_initial_seconds": 2.0, "backoff_max_seconds": 60.0,
    "quiet_start": "09:00", "quiet_end": "21:00", "timezone": "America/Sao_Paulo",
    "webhook_url": "", "stall_seconds": 60,
}


def default_provider_options(provider: str) -> dict[str, Any]:
    return {**DEFAULT_PROVIDER, "max_attempts": DEFAULT_ATTEMPTS.get(provider, 5)}


def clean_provider_options(provider: str, values: dict[str, Any]) -> dict[str, Any]:
    if provider not in CREDENTIAL_PROVIDERS:
        raise ValidationError("provider", "unknown provider")
    out: dict[str, Any] = {}
    limits = {"max_attempts": (1, 20), "rate_per_second": (1, 10_000), "concurrency": (1, 512)}
    for key, (low, high) in limits.items():
        if key in values and values[key] not in (None, ""):
            try:
                number = int(values[key])
            except (TypeError, ValueError):
                raise ValidationError(key, "must be a whole number") from None
            if not low <= number <= high:
                raise ValidationError(key, f"must be between {low} and {high}")
            out[key] = number
    if "enabled" in values:
        out["enabled"] = bool(values["enabled"])
    return out


def clean_general(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("backoff_initial_seconds", "backoff_max_seconds"):
        if key in values and values[key] not in (None, ""):
            try:
                number = float(values[key])
            except (TypeError, ValueError):
                raise ValidationError(key, "must be a number of seconds") from None
            if not 0 <= number <= 3600:
                raise ValidationError(key, "must be between 0 and 3600 seconds")
            out[key] = number
    for key in ("quiet_start", "quiet_end"):
        if key in values and values[key] not in (None, ""):
            if not _HHMM.match(str(values[key])):
                raise ValidationError(key, "use HH:MM (24 h)")
            out[key] = str(values[key])
    if "timezone" in values and values["timezone"]:
        zone = str(values["timezone"])
        if not re.match(r"^[A-Za-z_]+(/[A-Za-z_+\-0-9]+)*$", zone):
            raise ValidationError("timezone", "unknown time zone")
        out["timezone"] = zone
    if "webhook_url" in values:
        url = str(values["webhook_url"] or "").strip()
        if url and not url.startswith(("http://", "https://")):
            raise ValidationError("webhook_url", "webhook URL must be http(s)")
        out["webhook_url"] = url
    if "stall_seconds" in values and values["stall_seconds"] not in (None, ""):
        try:
            stall = float(values["stall_seconds"])
        except (TypeError, ValueError):
            raise ValidationError("stall_seconds", "must be a number of seconds") from None
        if not 0.5 <= stall <= 86400:
            raise ValidationError("stall_seconds", "must be between 0.5 and 86400")
        out["stall_seconds"] = stall
    return out


class CampaignSettings(Aggregate):
    """A tenant's campaign options: `general` (backoff, quiet hours, webhook URL), `providers`
    (rate limit, concurrency cap, attempts per provider) and the secrets — provider
    `credentials` and the webhook `webhook_secret` — which exist only inside (encrypted) events."""

    class Created(Aggregate.Created):
        general: dict[str, Any]
        providers: dict[str, dict[str, Any]]

        def apply(self, settings: "CampaignSettings") -> None:
            super().apply(settings)
            settings.credentials = {}
            settings.webhook_secret = ""

    class Configured(Aggregate.Event):
        general: dict[str, Any]
        providers: dict[str, dict[str, Any]]

        def apply(self, settings: "CampaignSettings") -> None:
            settings.general = {**settings.general, **self.general}
            merged = {k: dict(v) for k, v in settings.providers.items()}
            for name, values in self.providers.items():
                merged[name] = {**merged.get(name, default_provider_options(name)), **values}
            settings.providers = merged

    class CredentialsSet(Aggregate.Event):
        provider: str
        credentials: dict[str, Any]

        def apply(self, settings: "CampaignSettings") -> None:
            settings.credentials = {**settings.credentials, self.provider: dict(self.credentials)}

    class WebhookSecretSet(Aggregate.Event):
        secret: str

        def apply(self, settings: "CampaignSettings") -> None:
            settings.webhook_secret = self.secret

    @classmethod
    def create(cls, meta: Meta) -> "CampaignSettings":
        return cls._open(cls.Created, meta, id=settings_id(meta.tenant_id), general=dict(DEFAULT_GENERAL),
                         providers={p: default_provider_options(p) for p in CREDENTIAL_PROVIDERS})

    def configure(self, meta: Meta, general: dict[str, Any] | None = None,
                  providers: dict[str, dict[str, Any]] | None = None) -> bool:
        clean_g = clean_general(general or {})
        clean_p = {name: clean_provider_options(name, values) for name, values in (providers or {}).items()}
        diff_g = {k: v for k, v in clean_g.items() if self.general.get(k) != v}
        diff_p = {}
        for name, values in clean_p.items():
            current = self.providers.get(name, default_provider_options(name))
            changed = {k: v for k, v in values.items() if current.get(k) != v}
            if changed:
                diff_p[name] = changed
        if not diff_g and not diff_p:
            return False
        self._record(self.Configured, meta, general=diff_g, providers=diff_p)
        return True

    def set_credentials(self, meta: Meta, provider: str, credentials: dict[str, Any]) -> bool:
        if provider not in CREDENTIAL_PROVIDERS:
            raise ValidationError("provider", "unknown provider")
        if not isinstance(credentials, dict):
            raise ValidationError("credentials", "credentials must be an object")
        clean = {str(k): v for k, v in credentials.items() if v not in (None, "")}
        if self.credentials.get(provider) == clean:
            return False
        self._record(self.CredentialsSet, meta, provider=provider, credentials=clean)
        return True

    def set_webhook_secret(self, meta: Meta, secret: str) -> None:
        if len(secret or "") < 16:
            raise ValidationError("webhook_secret", "the secret must have at least 16 characters")
        if secret != self.webhook_secret:
            self._record(self.WebhookSecretSet, meta, secret=secret)

    def provider_options(self, provider: str) -> dict[str, Any]:
        return {**default_provider_options(provider), **self.providers.get(provider, {})}

    def public_view(self) -> dict[str, Any]:
        """What a screen may show: no credential values, no secret; which are set."""
        return {
            "general": dict(self.general),
            "providers": {p: self.provider_options(p) for p in CREDENTIAL_PROVIDERS},
            "credentials_set": {p: sorted(self.credentials.get(p, {})) for p in CREDENTIAL_PROVIDERS},
            "webhook_secret_set": bool(self.webhook_secret),
        }
