"""Billing invoices → fiscal documents: the SCM lines of an invoice become one NFCom, the SVA lines
one NFS-e, each issued through the queue when the tenant's setting says so (on issue or on payment).

Reads billing only through its public surface (`Invoice` events, `container.billing.get_invoice`).
An item's fiscal class is its `fiscal_class` ("scm" or "sva") when billing carries one, else
derived from its kind (`scm_kinds` in the NFCom settings; plans by default). Both documents get ids
derived from the invoice id, so a redelivered or retried message finds them instead of creating
twice, and each document finds its invoice (and its sibling) from that id: linked both ways.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog

from retaguarda.integrations import job
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:  # pragma: no cover
    from retaguarda.bootstrap import Container

log = structlog.get_logger("retaguarda.fiscal.nfcom")

INVOICE_DOCUMENTS = "fiscal.invoice_documents"
_NAMESPACE = uuid.UUID("9c7e4b1a-62f0-4d2e-8a31-0f6a2b7c9d62")


def nfcom_id_for(tenant_id: str, invoice_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"nfcom\x1f{tenant_id}\x1f{invoice_id}")


def nfse_id_for(tenant_id: str, invoice_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"nfse\x1f{tenant_id}\x1f{invoice_id}")


def split_items(
    items: list[dict[str, Any]], scm_kinds: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(SCM items, SVA items) of an invoice."""
    scm: list[dict[str, Any]] = []
    sva: list[dict[str, Any]] = []
    for item in items:
        cls = str(item.get("fiscal_class") or ("scm" if item.get("kind") in scm_kinds else "sva")).lower()
        (scm if cls == "scm" else sva).append(item)
    return scm, sva


def _create_once(create: Any, find: Any) -> None:
    """Creates the document unless it exists; a concurrent creation is found afterwards."""
    if find() is not None:
        return
    try:
        create()
    except Exception:
        if find() is None:
            raise


def documents_for_invoice(
    container: Container, tenant_id: str, invoice_id: str, trigger: str
) -> dict[str, Any]:
    """Creates and sends the NFCom (SCM) and the NFS-e (SVA) of one invoice; idempotent. `trigger`
    is the tenant's `issue_on` moment (`invoice_issued`, `paid`) or `bulk` (a bulk run: always)."""
    settings = container.nfcom.settings_of(tenant_id)
    if trigger != "bulk" and settings.get("issue_on") != trigger:
        return {"skipped": f"issue_on is {settings.get('issue_on')}"}
    invoice = container.billing.get_invoice(tenant_id, invoice_id)
    if trigger == "paid" and invoice.status != "paid":
        return {"skipped": f"invoice is {invoice.status}"}
    if invoice.status in ("draft", "cancelled"):
        return {"skipped": f"invoice is {invoice.status}"}
    scm, sva = split_items(list(invoice.items), list(settings.get("scm_kinds") or ["plan"]))
    meta = Meta(
        tenant_id=tenant_id,
        actor=f"system:{INVOICE_DOCUMENTS}",
        correlation_id=uuid.uuid4().hex,
        at=container.clock.now(),
    )
    out: dict[str, Any] = {}
    competence = invoice.period_start or invoice.due_date
    if scm:
        nid = nfcom_id_for(tenant_id, invoice_id)
        boleto = dict(invoice.boleto or {})
        data = {
            "customer_id": invoice.customer_id,
            "competence": f"{competence:%Y-%m}",
            "due_date": invoice.due_date.isoformat(),
            "invoice_id": invoice_id,
            "barcode": str(boleto.get("digitable_line") or boleto.get("barcode") or ""),
            "contract": str(invoice.subscription_id or "")[:20],
            "items": [
                {
                    "description": i["description"][:120],
                    "quantity": str(i["quantity"]),
                    "unit_price": str(i["unit_price"]),
                    "unit": "UN",
                    "cclass": i.get("cclass") or settings["cclass"],
                }
                for i in scm
            ],
        }
        _create_once(
            lambda: container.nfcom.create_draft(meta, data, nfcom_id=nid),
            lambda: container.nfcom.find_nfcom(nid),
        )
        if container.nfcom.find_nfcom(nid).status == "draft":
            container.nfcom.emit(meta, str(nid))
        out["nfcom_id"] = str(nid)
    if sva:
        sid = nfse_id_for(tenant_id, invoice_id)
        amount = sum(
            (
                Decimal(str(i.get("amount") or Decimal(str(i["quantity"])) * Decimal(str(i["unit_price"]))))
                for i in sva
            ),
            Decimal("0"),
        )
        description = "; ".join(i["description"] for i in sva)[:1900]
        service: dict[str, Any] = {"description": f"{description} (fatura {invoice.number})"}
        code = next((str(i["service_code"]) for i in sva if i.get("service_code")), "")
        if code:
            service["code"] = code
        data = {
            "customer_id": invoice.customer_id,
            "amount": str(amount.quantize(Decimal("0.01"))),
            "competence": competence.isoformat(),
            "service": service,
        }
        if amount > 0:
            _create_once(
                lambda: container.fiscal.create_draft(meta, data, note_id=sid),
                lambda: container.fiscal.find_note(sid),
            )
            if container.fiscal.find_note(sid).status == "draft":
                container.fiscal.emit(meta, str(sid))
            out["nfse_id"] = str(sid)
    return out


@job(
    actor_name=INVOICE_DOCUMENTS,
    queue_name="fiscal",
    max_retries=5,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=120_000,
)
def invoice_documents(container: Container, invoice_id: str, tenant_id: str, trigger: str) -> str:
    """One message per issued (or paid) invoice; the billing run's invoices arrive in bulk through the
    queue. Failures of the documents themselves park them in the fiscal dead-letter lists."""
    result = documents_for_invoice(container, tenant_id, invoice_id, trigger)
    return ", ".join(f"{k}={v}" for k, v in result.items()) or "nothing to issue"


def documents_of_invoice(container: Container, tenant_id: str, invoice_id: str) -> dict[str, Any]:
    """The NFCom and NFS-e of an invoice (ids and status), for the invoice page, portal and API."""
    out: dict[str, Any] = {"invoice_id": invoice_id, "nfcom": None, "nfse": None}
    nfcom = container.nfcom.find_nfcom(nfcom_id_for(tenant_id, invoice_id))
    if nfcom is not None and nfcom.tenant_id == tenant_id:
        out["nfcom"] = {
            "id": str(nfcom.id),
            "status": nfcom.status,
            "access_key": nfcom.access_key,
            "number": nfcom.number,
            "protocol": nfcom.protocol,
            "url": f"/fiscal/nfcom/{nfcom.id}",
        }
    nfse = container.fiscal.find_note(nfse_id_for(tenant_id, invoice_id))
    if nfse is not None and nfse.tenant_id == tenant_id:
        out["nfse"] = {
            "id": str(nfse.id),
            "status": nfse.status,
            "access_key": nfse.access_key,
            "number": nfse.number,
            "url": f"/fiscal/nfse/{nfse.id}",
        }
    return out
