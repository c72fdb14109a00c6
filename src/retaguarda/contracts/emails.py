"""E-mails of the contracts context: the signing link and the 30-day expiry notice (Portuguese via `_`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.i18n import _, format_date, format_datetime

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

SIGNATURE_EMAIL = "contracts.signature_request"
EXPIRY_EMAIL = "contracts.expiry_notice"


def render_signature_request(params: dict[str, Any], container: Container) -> tuple[str, str]:
    subject = _("Contract %(number)s: please read and sign", number=params["number"])
    text = "\n".join(
        [
            _("Hello %(name)s,", name=params.get("name") or ""),
            "",
            _(
                "Your service contract %(number)s is ready. Read it and sign it electronically at:",
                number=params["number"],
            ),
            params["url"],
            "",
            _("The link can be used once and expires on %(when)s.", when=format_datetime(params["expires"])),
            _("If you did not expect this message, ignore it."),
        ]
    )
    return subject, text


def render_expiry_notice(params: dict[str, Any], container: Container) -> tuple[str, str]:
    end = format_date(params["end_date"])
    subject = _("Contract %(number)s ends on %(end)s", number=params["number"], end=end)
    what = (
        _("It will be renewed automatically under the same terms unless you tell us otherwise.")
        if params.get("auto_renew")
        else _("It will not be renewed automatically; contact us to renew it.")
    )
    text = "\n".join(
        [
            _("Hello %(name)s,", name=params.get("name") or ""),
            "",
            _("Your service contract %(number)s ends on %(end)s.", number=params["number"], end=end),
            what,
        ]
    )
    return subject, text


TEMPLATES = ((SIGNATURE_EMAIL, render_signature_request), (EXPIRY_EMAIL, render_expiry_notice))
