"""Value types events may carry beyond JSON's own: the event store registers a transcoding for each.

Decimal, UUID, datetime and date are built in (`eventstore.py`); an Enum used in an event is
declared with `@transcoded_enum` in its domain module, which must be imported before the store
is built (bootstrap imports every projection, and so every domain, first).
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=type[Enum])

TRANSCODED_ENUMS: list[type[Enum]] = []


def transcoded_enum(enum_class: E) -> E:
    if enum_class not in TRANSCODED_ENUMS:
        TRANSCODED_ENUMS.append(enum_class)
    return enum_class
