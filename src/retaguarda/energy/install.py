"""Installs the energy context: the service, the portal adapters, the PDF cache, demo data.

Adapters: `sandbox` (deterministic, no network) and `energisa` (Playwright login + httpx JSON
calls to `RETAGUARDA_ENERGY_PORTAL_URL`, default https://servicos.energisa.com.br). An account
keeps the adapter it was created with; new accounts take `RETAGUARDA_ENERGY_PORTAL`
(`sandbox` unless set). Tests put their own adapters in `container.energy_portals` first.
"""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

from retaguarda.energy.application import Energy
from retaguarda.energy.portal.base import EnergyPortal
from retaguarda.files import AttachmentStore
from retaguarda.shared.clock import SAO_PAULO

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

DEFAULT_URL = "https://servicos.energisa.com.br"


def install(container: Container) -> None:
    from retaguarda.energy import secrets

    settings = container.settings
    portals: dict[str, Any] = container.energy_portals

    def portal_for(name: str) -> EnergyPortal:
        found = portals.get(name)
        if found is None:
            if name == "sandbox":
                from retaguarda.energy.portal.sandbox import SandboxPortal

                found = SandboxPortal(today=lambda: container.clock.now().astimezone(SAO_PAULO).date())
            elif name == "energisa":
                from retaguarda.energy.portal.energisa import EnergisaPortal

                found = EnergisaPortal(os.environ.get("RETAGUARDA_ENERGY_PORTAL_URL", DEFAULT_URL))
                container.on_close.append(found.close)
            else:
                raise KeyError(name)
            portals[name] = found
        return found

    def customer_exists(tenant_id: str, customer_id: str) -> bool:
        from retaguarda.customers import Customer

        try:
            found = container.customers.find(Customer, uuid.UUID(str(customer_id)))
        except ValueError:
            return False
        return found is not None and found.tenant_id == tenant_id

    container.energy = Energy(
        container.store,
        container.after_write,
        portal_for=portal_for,
        session_key=secrets.derive_key(settings.event_key),
        pdfs=AttachmentStore(
            (settings.attachments_dir or settings.var_dir / "attachments") / "energy",
            max_bytes=20 * 1024 * 1024,
        ),
        now=container.clock.now,
        default_portal=os.environ.get("RETAGUARDA_ENERGY_PORTAL", "sandbox"),
        customer_exists=customer_exists,
    )


# Demo ------------------------------------------------------------------------------------------

DEMO = (("Padaria Pão Quente (sandbox)", "52998224725"), ("Mercado Bom Preço (sandbox)", "11222333000181"))


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """Two sandbox companies for the demo tenant, connected and synced (idempotent by name)."""
    from projections.energy.portfolio import list_accounts
    from retaguarda.energy.portal.sandbox import CODE
    from retaguarda.shared.meta import Meta, new_correlation_id

    energy = container.energy
    with container.engine.connect() as conn:
        existing = {a["name"] for a in list_accounts(conn, tenant_id)["items"]}
    for name, document in DEMO:
        if name in existing:
            continue
        meta = Meta(
            tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=container.clock.now()
        )
        account = energy.create_account(
            meta, name=name, document=document, phone_last4="1234", portal="sandbox"
        ).aggregate
        started = energy.connect(meta, str(account.id)).aggregate
        energy.submit_sms(meta, str(account.id), transaction_id=started.transaction_id, code=CODE)
    container.wait_for(container.store.head(), timeout=10)
