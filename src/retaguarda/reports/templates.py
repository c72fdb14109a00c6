"""The e-mail that carries a scheduled report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.i18n import format_datetime
from retaguarda.i18n import gettext as _
from retaguarda.notifications import EmailTemplate

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def _scheduled(params: dict[str, Any], container: Container) -> tuple[str, str]:
    subject = _("Report: %(title)s", title=params.get("title", ""))
    text = "\n".join(
        [
            _(
                "Attached: %(filename)s (%(rows)s rows).",
                filename=params.get("filename", ""),
                rows=params.get("rows", 0),
            ),
            _("Generated at %(when)s", when=format_datetime(params.get("generated_at"))),
            "",
            _(
                "Change or pause this sending at %(url)s",
                url=f"{container.settings.base_url}/reports/schedules",
            ),
        ]
    )
    return subject, text


SCHEDULED = EmailTemplate("reports.scheduled", _scheduled)
