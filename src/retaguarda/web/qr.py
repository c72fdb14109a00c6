"""QR codes for pages: an inline SVG that scales to its container without cropping.

The SVG carries a `viewBox` (no fixed width/height), a white background that includes the
4-module quiet zone the QR standard requires, and is never a Micro QR, so any size the CSS gives
it shows all three finder patterns and stays scannable."""

from __future__ import annotations

from markupsafe import Markup


def qr_svg(text: str, *, label: str = "") -> Markup:
    import segno

    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass=None,
                          dark="#000", light="#fff")
    aria = f' role="img" aria-label="{Markup.escape(label)}"' if label else ""
    return Markup(svg.replace("<svg ", f'<svg data-testid="qr"{aria} ', 1))
