"""Sample OutboundMessages for provider tests (and for anyone driving a fake by hand)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from retaguarda.campaigns.providers import OutboundMessage

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def message(n: int | str = 1, *, phone: str | None = "+5511987650001", **changes: Any) -> OutboundMessage:
    base = OutboundMessage(message_id=f"msg-{n}", campaign_id="camp-1", external_campaign_id="wp-42",
                           tenant_id="tenant-a", to_phone=phone, name="Ana", text="Olá Ana, promoção!",
                           attributes={"first_name": "Ana"})
    return replace(base, **changes)


def messages(count: int, start: int = 0) -> list[OutboundMessage]:
    """`count` messages to distinct valid-looking mobiles (+55 11 9xxxx-xxxx)."""
    return [message(i, phone=f"+55119{i:08d}") for i in range(start, start + count)]
