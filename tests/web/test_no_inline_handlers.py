"""Defect 4: our CSP (`script-src 'self'`) blocks inline handlers and inline scripts, so a template
with `onchange="…"` ships a dead control. None may exist; behaviour lives in static JS, HTMX or
Alpine attributes."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "retaguarda" / "web" / "templates"
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def test_no_template_has_an_inline_handler_script_or_javascript_url() -> None:
    offenders = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 40
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_HANDLER, INLINE_SCRIPT, JS_URL):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(TEMPLATES)}:{line}: {match.group(0)[:80]!r}")
    assert not offenders, "\n".join(offenders)
