"""E-mails of the support context: SLA warnings and breaches for the assignee and managers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from retaguarda.shared.clock import SAO_PAULO

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

SLA_ALERT = "support.sla_alert"
TARGET_LABELS = {"first_response": "first response", "resolution": "resolution"}


def render_sla_alert(params: dict[str, Any], container: Container) -> tuple[str, str]:
    target = TARGET_LABELS.get(str(params["target"]), str(params["target"]))
    breached = params["kind"] == "breached"
    due = str(params.get("due") or "")
    if due:
        due = datetime.fromisoformat(due).astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M (America/Sao_Paulo)")
    link = f"{container.settings.base_url.rstrip('/')}/support/tickets/{params['ticket_id']}"
    what = "breached" if breached else "is at 80 % of"
    subject = f"[{params['number']}] SLA {'breached' if breached else 'warning'}: {target}"
    text = (
        f"Ticket {params['number']} — {params['title']}\n"
        f"Priority: {params['priority']}\n\n"
        f"The {target} target {what} its time{f' (due {due})' if due else ''}.\n\n"
        f"Open the ticket: {link}\n"
    )
    return subject, text
