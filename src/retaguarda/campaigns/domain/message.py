"""CampaignMessage (one recipient's delivery: queued, sent, delivered, failed or skipped) and OptOut."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from retaguarda.campaigns.domain.common import CANCELLED, _text, message_id, optout_id
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError
from retaguarda.shared.meta import Meta


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
