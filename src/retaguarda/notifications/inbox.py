"""In-app notifications (the bell) and each person's choice of what to be told. Pure.

A `Notice` is one message to one user about one event. Its id is derived from the event
(originator id + version) and the recipient, so however often the routing actor runs for the
same event, a second save of the same notice fails on the id and nothing is told twice.
`NotificationPreferences` holds, per user, the kinds turned off for the inbox and for e-mail.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ValidationError
from retaguarda.shared.meta import Meta

# kind → what it tells (English msgids; the pages translate them).
KINDS: dict[str, str] = {
    "ticket_opened": "A ticket was opened in your queue",
    "ticket_assigned": "A ticket was assigned to you",
    "ticket_public_reply": "Your ticket has a new answer",
    "ticket_customer_reply": "The customer answered a ticket of yours",
    "ticket_resolved": "Your ticket was resolved",
    "order_scheduled": "A visit was scheduled",
    "order_completed": "A visit was completed",
}
CHANNELS = ("inbox", "email")
_NAMESPACE = uuid.UUID("9a3d7c1e-4f52-4b8a-a6e0-2d9c5b7f1e34")


def notice_id(source_id: str, source_version: int, recipient_id: str, kind: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"notice\x1f{source_id}\x1f{source_version}\x1f{recipient_id}\x1f{kind}")


def preferences_id(tenant_id: str, user_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"preferences\x1f{tenant_id}\x1f{user_id}")


class Notice(Aggregate):
    """State: recipient_id, kind, title, body, link, params, source_id, source_version, read, read_at.

    `title`/`body` are English msgids with `%(name)s` placeholders filled from `params` when shown,
    in the reader's language."""

    class Posted(Aggregate.Created):
        recipient_id: str
        kind: str
        title: str
        body: str
        link: str
        source_id: str
        source_version: int
        params: dict[str, Any]

        def apply(self, n: Any) -> None:
            super().apply(n)
            n.read = False
            n.read_at = None

    class Read(Aggregate.Event):
        def apply(self, n: Any) -> None:
            n.read = True
            n.read_at = self.timestamp

    @classmethod
    def post(cls, meta: Meta, *, recipient_id: str, kind: str, title: str, body: str = "", link: str = "",
             source_id: str, source_version: int, params: dict[str, Any] | None = None) -> Notice:
        if kind not in KINDS:
            raise ValidationError("kind", f"kind must be one of: {', '.join(KINDS)}")
        notice: Notice = cls._open(
            cls.Posted, meta, id=notice_id(source_id, source_version, recipient_id, kind),
            recipient_id=str(recipient_id), kind=kind, title=str(title)[:200], body=str(body)[:2000],
            link=str(link)[:500], source_id=str(source_id), source_version=int(source_version),
            params={str(k): v if isinstance(v, (str, int, bool)) or v is None else str(v)
                    for k, v in (params or {}).items()})
        return notice

    def mark_read(self, meta: Meta) -> bool:
        if self.read:
            return False
        self._record(self.Read, meta)
        return True


class NotificationPreferences(Aggregate):
    """State: user_id, muted ({channel: [kind, …]})."""

    class Started(Aggregate.Created):
        user_id: str

        def apply(self, p: Any) -> None:
            super().apply(p)
            p.muted = {channel: [] for channel in CHANNELS}

    class Changed(Aggregate.Event):
        muted: dict[str, list[str]]

        def apply(self, p: Any) -> None:
            p.muted = self.muted

    @classmethod
    def start(cls, meta: Meta, user_id: str) -> NotificationPreferences:
        prefs: NotificationPreferences = cls._open(cls.Started, meta, id=preferences_id(meta.tenant_id, user_id),
                                                   user_id=str(user_id))
        return prefs

    def change(self, meta: Meta, muted: Any) -> bool:
        if not isinstance(muted, dict):
            raise ValidationError("muted", "muted is {channel: [kind, …]}")
        clean: dict[str, list[str]] = {}
        for channel in CHANNELS:
            kinds = muted.get(channel) or []
            if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
                raise ValidationError(f"muted.{channel}", f"kinds must be among: {', '.join(KINDS)}")
            clean[channel] = sorted(set(kinds))
        unknown = set(muted) - set(CHANNELS)
        if unknown:
            raise ValidationError("muted", f"channels are {', '.join(CHANNELS)}")
        if clean == self.muted:
            return False
        self._record(self.Changed, meta, muted=clean)
        return True

    def wants(self, channel: str, kind: str) -> bool:
        return kind not in self.muted.get(channel, [])
