"""HTML responses: a Template that is always served as text/html.

Litestar takes a Template's media type from the handler when the handler is annotated with
anything but `Template` (e.g. a page that returns a Template or a Redirect), which would serve a
re-rendered form as JSON/plain text; pages import this Template instead.
"""

from __future__ import annotations

from typing import Any

from litestar.enums import MediaType
from litestar.response import Template as _Template


class Template(_Template):
    def __init__(self, template_name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("media_type", MediaType.HTML)
        super().__init__(template_name, **kwargs)
