"""Installs NFCom inside the fiscal context: the service (`container.nfcom`), the reconciler's
query, the trigger arguments and the demo tenant's sandbox settings. Called from
`retaguarda.fiscal.install`; jobs, triggers and the reconciler are declared in `context_parts`,
which the fiscal `CONTEXT` includes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from retaguarda.bootstrap import Container

DEMO_NFCOM_SETTINGS: dict[str, Any] = {
    "backend": "sandbox",
    "environment": "homologacao",
    "series": 1,
    "next_number": 1,
    "state_registration": "110042490114",
    "crt": 3,
    "icms_rate": "18.00",
    "pis_rate": "0.65",
    "cofins_rate": "3.00",
    "fust_rate": "1.00",
    "funttel_rate": "0.50",
    "cclass": "0100401",
    "cfop": "5307",
    "subscriber_kind": 3,
    "service_type": 4,
    "ibscbs": False,
    "due_days": 10,
    "city": "São Paulo",
}
"""Sandbox (simulated SVRS, homologação): nothing reaches an authority. The IE is fictitious."""


def nfcom_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def find_stuck(container: Container, older_than: datetime) -> list[tuple[str, tuple[Any, ...]]]:
    """NFCom in flight that did not move for a while: emit / cancel again (both idempotent)."""
    import sqlalchemy as sa

    from projections.fiscal.nfcom_list import nfcom_rows as t

    with container.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.id, t.c.status).where(
                t.c.status.in_(("requested", "cancelling")), t.c.updated_at < older_than
            )
        ).all()
    return [
        ("fiscal.emit_nfcom" if status == "requested" else "fiscal.cancel_nfcom", (str(i), 0))
        for i, status in rows
    ]


def install(container: Container) -> None:
    from retaguarda.fiscal.nfcom.application import NfcomService

    container.nfcom = NfcomService(
        container.store, container.after_write, container.clock, container.customers, container.fiscal
    )
    _warm_up_pdf()


def invoice_issued(event: Any) -> tuple[str, str, str]:
    return str(event.originator_id), event.tenant_id, "invoice_issued"


def invoice_paid(event: Any) -> tuple[str, str, str]:
    return str(event.originator_id), event.tenant_id, "paid"


def _warm_up_pdf() -> None:
    """fpdf2 takes seconds to import on a busy machine: load it in the background once per
    process, so the first DANFE-COM (or DANFSe) a user opens is not the one that pays for it."""
    import importlib
    import sys
    import threading

    if "fpdf" not in sys.modules:
        threading.Thread(
            target=importlib.import_module, args=("fpdf",), daemon=True, name="warm-up-fpdf"
        ).start()


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """Sandbox NFCom settings for the demo tenant and one authorized NFCom to look at (idempotent)."""
    from retaguarda.shared.meta import Meta, new_correlation_id

    service = container.nfcom
    if service.get_settings(tenant_id) is not None:
        return
    meta = Meta(
        tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=container.clock.now()
    )
    service.save_settings(meta, DEMO_NFCOM_SETTINGS)
    from retaguarda.shared.documents import make_cnpj

    customer_id = container.customers.owner_of(f"customer-document:{tenant_id}", make_cnpj("283746510001"))
    if customer_id is None:
        return
    competence = f"{meta.at:%Y-%m}"
    sent = service.create_draft(
        meta,
        {
            "customer_id": customer_id,
            "competence": competence,
            "items": [
                {
                    "cclass": "0100401",
                    "description": "Internet fibra 500 Mbps (SCM)",
                    "quantity": "1",
                    "unit": "UN",
                    "unit_price": "149.90",
                },
                {
                    "cclass": "0100401",
                    "description": "IP fixo",
                    "quantity": "1",
                    "unit": "UN",
                    "unit_price": "30.00",
                },
            ],
        },
    )
    service.emit(meta, str(sent.aggregate.id))
