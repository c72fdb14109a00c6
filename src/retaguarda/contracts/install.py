"""Installs the contracts context: the service with its lookups into customers, billing and
identity (the only place that reads other contexts), the signature providers, and the demo data.
Jobs, triggers, periodic jobs and e-mail templates are declared in `context.py`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from retaguarda.contracts.application import Contracts, Lookups
from retaguarda.contracts.defaults import DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

def make_lookups(container: Container) -> Lookups:
    def customer(tenant_id: str, customer_id: str) -> Any:
        from retaguarda.customers import Customer

        try:
            found: Any = container.customers.find(Customer, uuid.UUID(str(customer_id)))
        except ValueError:
            return None
        return found if found is not None and found.tenant_id == tenant_id else None

    def plan(tenant_id: str, plan_id: str) -> Any:
        from retaguarda.billing import Plan

        billing = getattr(container, "billing", None)
        if billing is None:
            return None
        try:
            found = billing.find(Plan, uuid.UUID(str(plan_id)))
        except ValueError:
            return None
        return found if found is not None and found.tenant_id == tenant_id else None

    def company(tenant_id: str) -> dict[str, str]:
        name = ""
        billing = getattr(container, "billing", None)
        if billing is not None:
            name = str(billing.settings_for(tenant_id).values.get("merchant_name") or "")
        identity = getattr(container, "identity", None)
        if not name and identity is not None:
            try:
                name = identity.get_tenant(tenant_id).name
            except Exception:  # a missing tenant leaves the name empty rather than failing a render
                name = ""
        return {"nome": name or "-", "documento": "-"}

    def plans(tenant_id: str) -> list[dict[str, Any]]:
        from projections.billing.catalogue import list_plans
        from retaguarda.readdb import tenant_reader

        with tenant_reader(container.engine, tenant_id) as conn:
            return [
                p
                for p in list_plans(conn, tenant_id, active_only=True)
                if p["kind"] == "plan" and p["cycle"] != "once"
            ]

    def customer_options(tenant_id: str) -> list[dict[str, str]]:
        import sqlalchemy as sa

        from projections.customers.customer_list import customers
        from retaguarda.readdb import tenant_reader

        with tenant_reader(container.engine, tenant_id) as conn:
            rows = conn.execute(
                sa.select(customers.c.id, customers.c.name)
                .where(customers.c.tenant_id == tenant_id)
                .order_by(customers.c.name)
                .limit(500)
            ).all()
        return [{"id": r.id, "name": r.name} for r in rows]

    def subscriptions(tenant_id: str, customer_id: str) -> list[dict[str, Any]]:
        from projections.billing.catalogue import list_subscriptions

        with container.engine.connect() as conn:
            return list(list_subscriptions(conn, tenant_id, customer_id, 1, 200)["items"])

    return Lookups(
        customer=customer,
        plan=plan,
        company=company,
        plans=plans,
        customer_options=customer_options,
        subscriptions=subscriptions,
    )


def make_providers(container: Container) -> Any:
    from retaguarda.contracts.signing import BuiltinSigner, ClicksignClient

    base_url = container.settings.base_url

    def providers(values: dict[str, Any]) -> Any:
        if values.get("provider") == "clicksign":
            return ClicksignClient(values["clicksign_url"], values["clicksign_token"])
        return BuiltinSigner(base_url)

    return providers


def install(container: Container) -> None:
    container.contracts = Contracts(
        container.store,
        container.after_write,
        lookups=make_lookups(container),
        base_url=container.settings.base_url,
        providers=make_providers(container),
    )


# Demo data ---------------------------------------------------------------------------------

DEMO_CONTRACTS = [
    # (customer index, loyalty months, start days ago, action)
    (0, 12, 40, "activate"),
    (2, 12, 350, "activate"),
    (1, 0, 5, "draft"),
]


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """The default ISP template in Portuguese and a few contracts; idempotent."""
    from projections.contracts.contract_list import list_templates
    from retaguarda.contracts.application import local_date
    from retaguarda.seed import CUSTOMERS
    from retaguarda.shared.documents import make_cnpj, make_cpf
    from retaguarda.shared.meta import Meta, new_correlation_id

    service: Contracts = container.contracts
    now = container.clock.now()
    meta = Meta(tenant_id, actor, new_correlation_id(), now)
    container.wait_for(container.store.head(), timeout=10)
    with container.engine.connect() as conn:
        if any(t["name"] == DEFAULT_TEMPLATE_NAME for t in list_templates(conn, tenant_id)):
            return
    template = service.create_template(meta, name=DEFAULT_TEMPLATE_NAME, body=DEFAULT_TEMPLATE).aggregate
    plans = service.lookups.plans(tenant_id)
    if not plans:
        return
    today = local_date(now)
    for index, loyalty, days_ago, action in DEMO_CONTRACTS:
        if index >= len(CUSTOMERS):
            continue
        _, kind, base, *_ = CUSTOMERS[index]
        document = make_cpf(base) if kind == "person" else make_cnpj(base)
        customer_id = container.customers.owner_of(f"customer-document:{tenant_id}", document)
        if customer_id is None:
            continue
        plan = plans[index % len(plans)]
        c = service.create_contract(
            meta,
            customer_id=customer_id,
            plan_id=plan["id"],
            template_id=str(template.id),
            start_date=today - timedelta(days=days_ago),
            loyalty_months=loyalty,
            auto_renew=True,
            due_day=10,
        ).aggregate
        if action == "activate":
            service.activate(meta, str(c.id), "Contrato em papel assinado na loja (demo)")
