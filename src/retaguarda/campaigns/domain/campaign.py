"""Campaign (the dispatch as a whole) and RecipientBatch (its recipients, at most BATCH_SIZE each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from retaguarda.campaigns.domain.common import (
    BATCH_SIZE,
    MAX_RECIPIENTS,
    PROVIDERS,
    TERMINAL,
    TWO_STEP,
    _text,
    batch_id,
    clean_content,
    clean_options,
)
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta


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
