"""HTML pages of the energy context (filled in below)."""

from __future__ import annotations

from typing import Any

pages: list[Any] = []
