"""Request bodies of the campaigns API (shapes only; the domain validates and names fields)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from retaguarda.shared.errors import ValidationError


class DispatchIn(msgspec.Struct):
    """What the WordPress plugin posts to `/api/v1/campaigns/dispatch`."""

    external_id: str | int
    name: str
    provider: str
    content: dict[str, Any]
    recipients: list[dict[str, Any]] = []
    recipients_url: str | None = None
    send_at: str | None = None
    options: dict[str, Any] = {}


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class OptOutIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: str
    note: str = ""


class InboundIn(msgspec.Struct):
    """An inbound SMS reply (`from`, `text`) as the SMS provider forwards it."""

    text: str
    phone: str | None = None
    from_: str | None = msgspec.field(default=None, name="from")


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    general: dict[str, Any] = {}
    providers: dict[str, dict[str, Any]] = {}
    credentials: dict[str, dict[str, Any]] = {}
    webhook_secret: str | None = None


def parse_send_at(value: str | None) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("send_at", "send_at must be an ISO 8601 date-time with time zone") from None
    if when.tzinfo is None:
        raise ValidationError("send_at", "send_at must carry a time zone (e.g. -03:00)")
    return when
