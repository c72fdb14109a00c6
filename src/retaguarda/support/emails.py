"""E-mails of the support context: SLA warnings and breaches for the assignee and managers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from retaguarda.i18n import N_, format_datetime, label
from retaguarda.i18n import gettext as _

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

SLA_ALERT = "support.sla_alert"
TARGET_LABELS = {"first_response": N_("first response"), "resolution": N_("resolution")}


def render_sla_alert(params: dict[str, Any], container: Container) -> tuple[str, str]:
    target = _(TARGET_LABELS.get(str(params["target"]), str(params["target"])))
    breached = params["kind"] == "breached"
    due = str(params.get("due") or "")
    if due:
        due = format_datetime(datetime.fromisoformat(due)) + " (America/Sao_Paulo)"
    link = f"{container.settings.base_url.rstrip('/')}/support/tickets/{params['ticket_id']}"
    number = params["number"]
    if breached:
        subject = _("[%(number)s] SLA breached: %(target)s", number=number, target=target)
        lead = _("The %(target)s target breached its time.", target=target)
    else:
        subject = _("[%(number)s] SLA warning: %(target)s", number=number, target=target)
        lead = _("The %(target)s target is at 80%% of its time.", target=target)
    if due:
        lead += " " + _("(due %(date)s)", date=due)
    text = (
        _("Ticket %(number)s — %(title)s", number=number, title=params["title"]) + "\n"
        + _("Priority: %(priority)s", priority=label(params["priority"])) + "\n\n"
        + lead + "\n\n"
        + _("Open the ticket: %(link)s", link=link) + "\n"
    )
    return subject, text
