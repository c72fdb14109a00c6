"""HTML pages of the field context."""

from __future__ import annotations

from typing import Any

pages: list[Any] = []
