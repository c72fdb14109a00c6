"""The web shell as a context: the home page (dashboard), health checks and metrics.

(Its `CONTEXT` lives here, not in `web/context.py`, which holds the per-request helpers every
handler imports.)
"""

from __future__ import annotations

from retaguarda.plugin import Context
from retaguarda.web import ops, settings, shell

CONTEXT = Context(
    name="web",
    routes=ops.routes,
    pages=[*shell.pages, *settings.pages, *ops.pages],
)
