"""The one list of contexts plugged into the spine, in install order.

Read by the composition root (`bootstrap`: installers, registries), the app (`main`: routes and
pages), the projection registry (runner, replay), Alembic (`migrate.load_metadata`: projection
and other read-side tables), the demo seed and the home page (dashboard cards). Each entry is the
`CONTEXT` of `retaguarda/<ctx>/context.py` (see `retaguarda.plugin.Context`); an import that
fails here fails the application at start-up, loudly.

Add a context: write its `context.py`, import it here, append it to CONTEXTS.
"""

from __future__ import annotations

from retaguarda.audit.context import CONTEXT as AUDIT
from retaguarda.billing.context import CONTEXT as BILLING
from retaguarda.campaigns.context import CONTEXT as CAMPAIGNS
from retaguarda.cash.context import CONTEXT as CASH
from retaguarda.cnpj.context import CONTEXT as CNPJ
from retaguarda.contracts.context import CONTEXT as CONTRACTS
from retaguarda.customers.context import CONTEXT as CUSTOMERS
from retaguarda.energy.context import CONTEXT as ENERGY
from retaguarda.field.context import CONTEXT as FIELD
from retaguarda.fiscal.context import CONTEXT as FISCAL
from retaguarda.identity.context import CONTEXT as IDENTITY
from retaguarda.integrations.context import CONTEXT as INTEGRATIONS
from retaguarda.notifications.context import CONTEXT as NOTIFICATIONS
from retaguarda.plugin import Context
from retaguarda.portal.context import CONTEXT as PORTAL
from retaguarda.reports.context import CONTEXT as REPORTS
from retaguarda.support.context import CONTEXT as SUPPORT
from retaguarda.web.shell_context import CONTEXT as WEB

SPINE: tuple[Context, ...] = (CUSTOMERS, IDENTITY, AUDIT, NOTIFICATIONS, INTEGRATIONS, WEB)
"""Always present: the register, users and permissions, the audit trail, e-mail, the job
backbone, the web shell (home page, health, metrics)."""

BUSINESS: tuple[Context, ...] = (
    SUPPORT, FISCAL, CNPJ, BILLING, CAMPAIGNS, CONTRACTS, FIELD, CASH, PORTAL, ENERGY,
    REPORTS,  # last: its dashboard and KPIs read the others
)

CONTEXTS: tuple[Context, ...] = SPINE + BUSINESS


def by_name(name: str) -> Context:
    for ctx in CONTEXTS:
        if ctx.name == name:
            return ctx
    raise KeyError(name)
