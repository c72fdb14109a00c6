"""Request bodies of the reports API (shapes only; the domain validates values)."""

from __future__ import annotations

from typing import Any

import msgspec


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Any = None
    frequency: Any = None
    recipients: Any = None
    format: Any = "xlsx"
    weekday: Any = None
    day: Any = None
    time: Any = "08:00"
    filters: Any = None


class SchedulePatch(msgspec.Struct, forbid_unknown_fields=True):
    kind: Any = None
    frequency: Any = None
    recipients: Any = None
    format: Any = None
    weekday: Any = msgspec.UNSET
    day: Any = msgspec.UNSET
    time: Any = None
    filters: Any = None
    paused: Any = None

    def given(self) -> dict[str, Any]:
        return {
            f: getattr(self, f)
            for f in self.__struct_fields__
            if getattr(self, f) is not msgspec.UNSET
            and (getattr(self, f) is not None or f in ("weekday", "day"))
        }
