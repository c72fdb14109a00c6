"""E-mail templates: `EmailTemplate(name, render)` with `render(params, container) -> (subject, text)`.

A context declares its templates in `Context.email_templates`; bootstrap collects them into the
container's registry. Rendering happens in the actor at send time (the domain only records the
template name and its params), so a template may read settings (e.g. `settings.base_url` for
links).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retaguarda.notifications.mailers import PermanentMailError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

Render = Callable[[dict[str, Any], "Container"], tuple[str, str]]


@dataclass(frozen=True)
class EmailTemplate:
    name: str
    render: Render


def render(name: str, params: dict[str, Any], container: Container) -> tuple[str, str]:
    """(subject, text) with the container's templates; an unknown template or a render error is
    permanent (retrying won't help)."""
    template = container.registry.templates.get(name)
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


def _plain(params: dict[str, Any], container: Container) -> tuple[str, str]:
    return str(params["subject"]), str(params["text"])


PLAIN = EmailTemplate("plain", _plain)
