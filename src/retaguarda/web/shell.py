"""The layout's home: dashboard with counts the user may see, and the site icon."""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request, Response, get
from litestar.response import Redirect

from projections.customers.customer_list import count_by_status
from retaguarda.readdb import tenant_reader
from retaguarda.web.context import container_of, require_principal
from retaguarda.web.html import Template


@get("/", sync_to_thread=True, include_in_schema=False)
def dashboard(request: Request[Any, Any, Any]) -> Template | Redirect:
    principal = require_principal(request)
    if principal.can("portal:self"):
        return Redirect("/portal", status_code=303)  # a customer's home is their portal
    from retaguarda.contexts import CONTEXTS

    cards: dict[str, Any] = {}
    sections: list[dict[str, Any]] = []
    with tenant_reader(container_of(request).engine, principal.tenant_id) as conn:
        if principal.can("customers:read"):
            cards["customers"] = count_by_status(conn, principal.tenant_id)
        for ctx in CONTEXTS:
            found = ctx.dashboard(conn, principal) if ctx.dashboard is not None else None
            if found:
                sections.append({"context": ctx.name, "cards": found})
    return Template("dashboard.html", context={"cards": cards, "sections": sections})


@cache
def _favicon_ico() -> bytes:
    """A 16/32/48 px ICO drawn once (Pillow comes with fpdf2): the "R" of static/favicon.svg."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    size = 96
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=18, fill=(30, 90, 160, 255))
    white = (255, 255, 255, 255)
    draw.rectangle((30, 21, 42, 75), fill=white)  # stem
    draw.ellipse((30, 21, 66, 54), fill=white)  # bowl
    draw.ellipse((42, 31, 56, 44), fill=(30, 90, 160, 255))
    draw.polygon([(46, 50), (58, 50), (72, 75), (59, 75)], fill=white)  # leg
    out = BytesIO()
    image.save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


@get("/favicon.ico", opt={"public": True}, sync_to_thread=False, include_in_schema=False)
def favicon() -> Response[bytes]:
    return Response(_favicon_ico(), media_type="image/x-icon",
                    headers={"cache-control": "public, max-age=86400"})


pages = [dashboard, favicon]
