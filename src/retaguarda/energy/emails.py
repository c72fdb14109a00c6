"""Alert e-mails of the energy context (one template, one text per kind of alert)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retaguarda.i18n import format_date, format_money
from retaguarda.i18n import gettext as _

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

ALERT = "energy.alert"


def render_alert(params: dict[str, Any], container: Container) -> tuple[str, str]:
    kind = params.get("kind")
    account = str(params.get("account", ""))
    unit = params.get("unit", "")
    link = f"{container.settings.base_url.rstrip('/')}/energy/accounts/{params.get('account_id', '')}"
    due = str(params.get("due_date") or "")
    due_text = format_date(date.fromisoformat(due)) if due else ""
    amount = format_money(Decimal(str(params["amount"]))) if params.get("amount") else ""
    if kind == "new_bill":
        subject = _("%(account)s: new energy bill for UC %(unit)s", account=account, unit=unit)
        lead = _(
            "A new bill of %(amount)s for %(month)s is due on %(date)s.",
            amount=amount,
            month=params.get("month", ""),
            date=due_text,
        )
    elif kind == "due_soon":
        subject = _(
            "%(account)s: energy bill of UC %(unit)s due on %(date)s",
            account=account,
            unit=unit,
            date=due_text,
        )
        lead = _(
            "The bill of %(amount)s for %(month)s is still unpaid and due on %(date)s.",
            amount=amount,
            month=params.get("month", ""),
            date=due_text,
        )
    elif kind == "unit_cut":
        subject = _("%(account)s: UC %(unit)s is cut", account=account, unit=unit)
        lead = _("The utility reports the supply of UC %(unit)s as cut.", unit=unit)
    elif kind == "beneficiaries":
        subject = _("%(account)s: beneficiaries of plant %(unit)s changed", account=account, unit=unit)
        lead = _("The credit split of the plant is now: %(split)s.", split=params.get("split", ""))
    else:
        subject = _("%(account)s: utility portal session expired", account=account)
        lead = _("The portal session expired. Connect again with a new SMS code to keep the data up to date.")
    text = lead + "\n\n" + _("Open the company: %(link)s", link=link) + "\n"
    return subject, text
