"""E-mail templates: `register_template(name, render)` with `render(params, container) -> (subject, text)`.

Rendering happens in the actor at send time (the domain only records the template name and
its params), so a template may read settings (e.g. `settings.base_url` for links).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from retaguarda.notifications.mailers import PermanentMailError

Render = Callable[[dict[str, Any], Any], tuple[str, str]]

TEMPLATES: dict[str, Render] = {}


def register_template(name: str, render: Render) -> None:
    TEMPLATES[name] = render


def render(name: str, params: dict[str, Any], container: Any) -> tuple[str, str]:
    """(subject, text); an unknown template or a render error is permanent (retrying won't help)."""
    template = TEMPLATES.get(name)
    if template is None:
        raise PermanentMailError(f"unknown e-mail template {name!r}")
    from retaguarda.i18n import use_locale

    try:
        # In the recipient's language: params["locale"] when the sender knew it, else pt_BR.
        with use_locale(params.get("locale")):
            subject, text = template(dict(params), container)
    except Exception as exc:
        raise PermanentMailError(f"template {name!r} failed: {type(exc).__name__}: {exc}") from None
    return str(subject), str(text)


def _plain(params: dict[str, Any], container: Any) -> tuple[str, str]:
    return str(params["subject"]), str(params["text"])


register_template("plain", _plain)
