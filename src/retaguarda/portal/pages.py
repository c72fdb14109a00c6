"""HTML pages of the customer portal (filled below)."""

from __future__ import annotations

from typing import Any

pages: list[Any] = []
