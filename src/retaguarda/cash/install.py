"""Installs the cash context: service and its ports (billing's open invoices and payments,
the PSP client factory), triggers (Pix notices, the NFS-e process manager) and the demo account.
All of the context's wiring is here, so moving it to a `Context` declaration is a one-file change."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retaguarda.cash.application import Cash, ImportFiles
from retaguarda.cash.domain import CashAccount, OpenInvoice

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def open_invoices_of(container: Container, tenant_id: str) -> list[OpenInvoice]:
    """Billing's open invoices with the references its charges carry: the PIX txid (derived from
    the invoice id) and the boleto nosso número (BB convênio 7: convênio + 10-digit number)."""
    from projections.billing.invoice_list import open_invoices

    agreement = str(container.billing.settings_for(tenant_id).values.get("boleto_agreement") or "")
    with container.engine.connect() as conn:
        rows = open_invoices(conn, tenant_id)
    out = []
    for r in rows:
        nn = f"{agreement}{int(r.number):010d}" if len(agreement) == 7 and agreement.isdigit() else ""
        out.append(
            OpenInvoice(
                id=str(r.id),
                number=int(r.number),
                customer_id=str(r.customer_id),
                balance=Decimal(r.balance).quantize(Decimal("0.01")),
                due_date=r.due_date,
                document=str(getattr(r, "document", "") or ""),
                txid=make_txid(str(r.id)),
                nosso_numero=nn,
                other_txids=(cob_txid(str(r.id)),),
            )
        )
    return out


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def make_txid(invoice_id: str) -> str:
    """The PIX txid billing puts in an invoice's BR Code: the invoice UUID in base62, 22 characters
    (billing's documented rule; `tests/cash` checks it against billing's own function)."""
    import uuid

    number = uuid.UUID(invoice_id).int
    out = []
    while number:
        number, rest = divmod(number, 62)
        out.append(_BASE62[rest])
    return "".join(reversed(out)).rjust(22, "0")


COB_PREFIX = "RTGCOB"


def cob_txid(invoice_id: str) -> str:
    """The txid of the invoice's PSP charge (`cob`): 26 to 35 characters in the BCB API Pix, so
    billing's 22-character txid gets a fixed prefix (28 in all); derived, so a retry re-uses it."""
    return COB_PREFIX + make_txid(invoice_id)


def invoice_id_of_txid(txid: str) -> str | None:
    """The invoice id a billing txid (or its charge's `cob_txid`) stands for."""
    import uuid

    if len(txid) == 22 + len(COB_PREFIX) and txid.startswith(COB_PREFIX):
        txid = txid[len(COB_PREFIX):]
    if len(txid) != 22 or any(ch not in _BASE62 for ch in txid):
        return None
    number = 0
    for ch in txid:
        number = number * 62 + _BASE62.index(ch)
    if number >= 1 << 128:
        return None
    candidate = str(uuid.UUID(int=number))
    return candidate if make_txid(candidate) == txid else None


def psp_client_for(container: Container, account: CashAccount) -> Any:
    """The API Pix client of an account (None when it has no PSP configured)."""
    psp = account.psp
    if not psp:
        return None
    from retaguarda.cash.pixapi import PixApiClient, mtls_context

    ctx = mtls_context(
        psp["cert_pem"].encode(), psp["key_pem"].encode(), psp.get("ca_pem", "").encode() or None
    )
    return PixApiClient(psp["base_url"], psp["client_id"], psp["client_secret"], ssl_context=ctx)


def install(container: Container) -> None:
    """The service and the PSP client factory; jobs and triggers are declared in `context.py`."""
    from projections.cash.ledger import known_keys

    def known(tenant_id: str, keys: list[str]) -> set[str]:
        with container.engine.connect() as conn:
            return known_keys(conn, tenant_id, keys)

    def pay(meta: Any, invoice_id: str, **kw: Any) -> Any:
        return container.billing.register_payment(meta, invoice_id, source="cash", **kw)

    cash = Cash(
        container.store,
        container.after_write,
        files=ImportFiles(container.settings.var_dir / "cash_imports"),
        known=known,
        open_invoices=lambda tenant_id: open_invoices_of(container, tenant_id),
        pay=pay,
    )

    def referenced_invoice(tenant_id: str, txid: str) -> Any:
        invoice_id = invoice_id_of_txid(txid) if txid else None
        if invoice_id is None:
            return None
        try:
            return container.billing.get_invoice(tenant_id, invoice_id)
        except Exception:
            return None

    cash.referenced_invoice = referenced_invoice
    cash.invoice_customer = lambda tenant_id, invoice_id: (
        container.billing.get_invoice(tenant_id, invoice_id).customer_id
    )
    container.cash = cash
    container.cash_psp_factory = lambda account: psp_client_for(container, account)


# Demo ----------------------------------------------------------------------------------------

DEMO_ACCOUNT = {
    "name": "Banco do Brasil - conta movimento",
    "bank": "001",
    "agency": "1234-5",
    "number": "12345-6",
    "opening_balance": "15000.00",
}


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """One bank account for the demo tenant (idempotent)."""
    from datetime import timedelta

    from retaguarda.cash.domain import account_uuid
    from retaguarda.shared.meta import Meta, new_correlation_id

    cash: Cash = container.cash
    acc_id = account_uuid(tenant_id, DEMO_ACCOUNT["bank"], DEMO_ACCOUNT["agency"], DEMO_ACCOUNT["number"])
    if cash.find(CashAccount, acc_id) is not None:
        return
    now = container.clock.now()
    meta = Meta(tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=now)
    saved = cash.open_account(meta, opening_date=(now - timedelta(days=60)).date(), **DEMO_ACCOUNT)
    account = saved.aggregate
    account.save_csv_mapping(
        meta, {"date": "Data", "amount": "Valor", "memo": "Histórico", "id": "Documento", "delimiter": ";"}
    )
    cash.save(account)
