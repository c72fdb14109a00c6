"""Read models of in-app notifications: each user's inbox."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.notifications.inbox import Inbox

    return [Inbox()]
