"""Installs the billing context: service, charge builders (PIX, boleto), gateway and access-network
factories, the reminder template, triggers, the daily run, and the demo tenant's billing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retaguarda.billing.application import Billing, local_date
from retaguarda.billing.domain import Invoice

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def make_charges(settings: Any, invoice: Invoice, amount: Decimal) -> tuple[dict | None, dict | None]:
    """PIX BR Code (static key, amount, txid from the invoice id) and boleto (agreement data)."""
    from retaguarda.billing.boleto import free_field_for, make_boleto
    from retaguarda.billing.pix import build_brcode, make_txid

    v = settings.values
    pix = boleto = None
    if amount <= 0:
        return None, None
    if v.get("pix_key") and v.get("merchant_name") and v.get("merchant_city"):
        txid = make_txid(str(invoice.id))
        pix = {"brcode": build_brcode(key=v["pix_key"], merchant_name=v["merchant_name"],
                                      merchant_city=v["merchant_city"], amount=amount, txid=txid),
               "txid": txid}
    if v.get("boleto_bank") and v.get("boleto_agreement") and v.get("boleto_wallet"):
        b = make_boleto(bank_code=v["boleto_bank"], due_date=invoice.due_date, amount=amount,
                        free_field=free_field_for({"convenio": v["boleto_agreement"],
                                                   "carteira": v["boleto_wallet"]}, invoice.number))
        boleto = {"barcode": b.barcode, "digitable_line": b.digitable_line}
    return pix, boleto


def reminder_email(params: dict[str, Any], container: Container) -> tuple[str, str]:
    from retaguarda.i18n import format_date, format_money
    from retaguarda.i18n import gettext as _
    key = params.get("key", "")
    due = format_date(params["due_date"])
    number = params["number"]
    if key.startswith("+"):
        subject = _("Invoice %(number)s is overdue (due %(date)s)", number=number, date=due)
    else:
        subject = _("Invoice %(number)s is due on %(date)s", number=number, date=due)
    name = params.get("customer_name") or ""
    lines = [
        _("Hello %(name)s,", name=name) if name else _("Hello,"),
        "",
        subject + ". " + _("Amount due today: %(amount)s.", amount=format_money(params["amount"])),
        "",
        _("Pay online (PIX, boleto or card): %(link)s", link=params["link"]),
    ]
    if params.get("brcode"):
        lines += ["", _("PIX copy-and-paste code:"), params["brcode"]]
    if params.get("digitable_line"):
        lines += ["", _("Boleto: %(line)s", line=params["digitable_line"])]
        if key.startswith("+"):
            lines.append(_("The boleto shows its original amount; the bank adds the fine and interest "
                           "when it is paid after the due date."))
    lines += ["", _("If you have already paid, please ignore this message.")]
    return subject, "\n".join(lines)


def network_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def refund_args(event: Any) -> tuple[str, str]:
    return str(event.originator_id), event.refund_id


def _access_network_factory(settings: Any) -> Any:
    url = settings.values.get("access_network_url")
    secret = settings.values.get("access_network_secret")
    if not url or not secret:
        return None
    from retaguarda.billing.access_network import AccessNetworkWebhook

    return AccessNetworkWebhook(url, secret, max_retries=0)


def find_stuck_network(container: Container, older_than: datetime) -> list[tuple[str, tuple[str, int]]]:
    from projections.billing.catalogue import pending_network

    with container.engine.connect() as conn:
        rows = pending_network(conn, older_than)
    return [("billing.access_network", (r.id, r.version)) for r in rows]


def install(container: Container) -> None:
    billing = Billing(container.store, container.after_write, container.clock, container.settings.secret_key)
    billing.charges = make_charges
    container.billing = billing
    settings = container.settings

    def stripe(tenant_settings: Any) -> Any:
        from retaguarda.billing.gateways.stripe import StripeClient

        key = tenant_settings.values.get("stripe_secret_key")
        return StripeClient(settings.stripe_url, key) if key else None

    def mercadopago(tenant_settings: Any) -> Any:
        from retaguarda.billing.gateways.mercadopago import MercadoPagoClient

        token = tenant_settings.values.get("mercadopago_access_token")
        return MercadoPagoClient(settings.mercadopago_url, token) if token else None

    container.stripe_factory = stripe
    container.mercadopago_factory = mercadopago
    container.access_network_factory = _access_network_factory


# Demo ----------------------------------------------------------------------------------------

DEMO_SETTINGS = {
    "pix_key": "financeiro@provedor.demo", "merchant_name": "Provedor Demo", "merchant_city": "Sao Paulo",
    "boleto_bank": "001", "boleto_agreement": "1234567", "boleto_wallet": "17",
}


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """PIX key and boleto agreement, two plans, a few subscriptions with their invoices, one
    one-off invoice, one payment. Idempotent: does nothing once the tenant has billing settings."""
    from retaguarda.billing.domain import BillingSettings, settings_id
    from retaguarda.billing.runs import generate, run_for_tenant
    from retaguarda.seed import CUSTOMERS
    from retaguarda.shared.documents import make_cnpj, make_cpf
    from retaguarda.shared.meta import Meta, new_correlation_id

    billing: Billing = container.billing
    if billing.find(BillingSettings, settings_id(tenant_id)) is not None:
        return
    now = container.clock.now()

    def meta(at: datetime = now) -> Meta:
        return Meta(tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(), at=at)

    customers = []
    for _name, kind, base, *_ in CUSTOMERS[:6]:
        document = make_cpf(base) if kind == "person" else make_cnpj(base)
        owner = container.customers.owner_of(f"customer-document:{tenant_id}", document)
        if owner:
            customers.append(owner)
    if not customers:
        return
    billing.configure(meta(), **DEMO_SETTINGS)
    home = billing.create_plan(meta(), name="Residencial 100M", price="99.90", cycle="monthly").aggregate
    biz = billing.create_plan(meta(), name="Empresarial 500M", price="399.00", cycle="monthly").aggregate
    billing.create_plan(meta(), name="Installation", price="150.00", kind="service", cycle="once")
    today = local_date(now)
    start = today - timedelta(days=45)
    for i, customer_id in enumerate(customers[:5]):
        plan = biz if i == 0 else home
        billing.subscribe(meta(now - timedelta(days=45)), customer_id=customer_id, plan_id=str(plan.id),
                          due_day=10, start_date=start)
    container.wait_for(container.store.head(), timeout=10)
    generate(container, tenant_id, today, actor=actor)
    container.wait_for(container.store.head(), timeout=10)
    # Most customers paid their past invoices (PIX, a day late for some); one did not and is
    # blocked by the run below, with the overdue reminders queued.
    late_payer = customers[2]
    for i, customer_id in enumerate(customers[:5]):
        if customer_id == late_payer:
            continue
        for inv in _invoices_of(container, tenant_id, customer_id):
            if inv.due_date < today - timedelta(days=10):
                paid_at = datetime.combine(inv.due_date + timedelta(days=i % 2), datetime.min.time(),
                                           tzinfo=now.tzinfo) + timedelta(hours=15)
                billing.register_payment(meta(), str(inv.id), amount=str(inv.due_on(local_date(paid_at),
                                         billing.settings_for(tenant_id).terms)), method="pix",
                                         paid_at=paid_at, reference=f"demo-{inv.number}", source="pix")
    container.wait_for(container.store.head(), timeout=10)
    run_for_tenant(container, tenant_id, today, actor=actor, trigger="seed")
    draft = billing.create_invoice(meta(), customer_id=customers[-1], due_date=today + timedelta(days=7),
                                   items=[{"description": "Installation", "quantity": "1",
                                           "unit_price": "150.00", "kind": "service"},
                                          {"description": "Wi-Fi router", "quantity": "1",
                                           "unit_price": "249.90", "kind": "product"}])
    billing.issue_invoice(meta(), str(draft.aggregate.id))
    container.wait_for(container.store.head(), timeout=10)


def _invoices_of(container: Container, tenant_id: str, customer_id: str) -> list[Invoice]:
    from projections.billing.invoice_list import list_invoices
    from retaguarda.readdb import tenant_reader

    with tenant_reader(container.engine, tenant_id) as conn:
        rows = list_invoices(conn, tenant_id, customer=customer_id, per_page=100)["items"]
    return [container.billing.get_invoice(tenant_id, r["id"]) for r in rows]
