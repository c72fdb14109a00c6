"""Request bodies of the support API (shapes only; the domain validates values)."""

from __future__ import annotations

from typing import Any

import msgspec


class TicketIn(msgspec.Struct, forbid_unknown_fields=True):
    customer_id: str
    title: str
    priority: str
    channel: str
    description: str = ""
    category: str = ""


class TicketPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: str | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    category: str | msgspec.UnsetType = msgspec.UNSET
    priority: str | msgspec.UnsetType = msgspec.UNSET

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__struct_fields__ if getattr(self, k) is not msgspec.UNSET}


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    assignee_id: str | None
    """A user id, "me" for the caller, or null to unassign."""


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    body: str
    visibility: str = "public"


class StatusIn(msgspec.Struct, forbid_unknown_fields=True):
    status: str
    reason: str = ""


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True):
    hours: dict[str, list[list[str]]] | msgspec.UnsetType = msgspec.UNSET
    holidays: list[str] | msgspec.UnsetType = msgspec.UNSET
    reopen_window_days: int | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET


class CategoriesIn(msgspec.Struct, forbid_unknown_fields=True):
    categories: list[str]
