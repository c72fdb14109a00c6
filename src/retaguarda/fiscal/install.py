"""Installs the fiscal context: service, triggers, reconciler, daily certificate check, e-mails,
and the demo tenant's sandbox settings."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from retaguarda.fiscal.application import Fiscal

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

DEMO_ISSUER_CNPJ = "11222333000181"
"""Fictitious (the classic test CNPJ 11.222.333/0001-81): valid check digits, nobody's company."""

DEMO_SETTINGS: dict[str, Any] = {
    "backend": "sandbox",
    "environment": "producao_restrita",
    "issuer": {
        "cnpj": DEMO_ISSUER_CNPJ, "name": "Retaguarda Demo Telecom Ltda (SANDBOX)",
        "municipal_registration": "12345678", "tax_regime": "simples_nacional", "special_regime": 0,
        "municipality_ibge": "3550308", "uf": "SP", "street": "Avenida Paulista", "number": "1000",
        "district": "Bela Vista", "cep": "01310100", "email": "fiscal@demo.test", "phone": "1130000000",
    },
    "series": "900",
    "next_number": 1,
    "default_service": {
        "code": "010701", "nbs": "115013000",
        "description": "Suporte técnico em informática e manutenção de redes (plano de internet)",
        "iss_rate": "2.00", "iss_withheld": False,
    },
    "cbs_rate": "0.90", "ibs_uf_rate": "0.10", "ibs_mun_rate": "0.00",
    "emit_on_cash_confirm": False,
}


def note_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def find_stuck_notes(container: Container, older_than: datetime) -> list[tuple[str, tuple[Any, ...]]]:
    """Notes in flight that did not move for a while: emit/poll/cancel again (all idempotent)."""
    from projections.fiscal.nfse_list import stuck_notes

    with container.engine.connect() as conn:
        rows = stuck_notes(conn, older_than)
    out: list[tuple[str, tuple[Any, ...]]] = []
    for note_id, status in rows:
        if status == "requested":
            out.append(("fiscal.emit_nfse", (note_id, 0)))
        elif status == "submitted":
            out.append(("fiscal.consult_nfse", (note_id, 0)))
        else:
            out.append(("fiscal.cancel_nfse", (note_id, 0)))
    return out


def certificate_tenants(container: Container) -> list[str]:
    from projections.fiscal.settings_view import certificate_tenants as tenants

    with container.engine.connect() as conn:
        return tenants(conn)


def admin_emails(container: Container, tenant_id: str) -> list[str]:
    from retaguarda.identity import active_users

    with container.engine.connect() as conn:
        return sorted(u["email"] for u in active_users(conn, tenant_id, roles=("admin",)))


def notify_admins(container: Container, tenant_id: str, what: str) -> int:
    """E-mails every active admin of the tenant about the certificate (expiring/expired)."""
    cert = container.fiscal.get_certificate(tenant_id)
    if cert is None:
        return 0
    meta = container.fiscal.system_meta(tenant_id, "fiscal.check_certificates")
    params = {"what": what, "subject": cert.subject, "cnpj": cert.cnpj,
              "valid_until": cert.valid_until.strftime("%Y-%m-%d %H:%M UTC")}
    sent = 0
    for email in admin_emails(container, tenant_id):
        container.notifications.send_email(meta, email, "fiscal.certificate_expiry", params)
        sent += 1
    return sent


def certificate_email(params: dict[str, Any], container: Container) -> tuple[str, str]:
    from retaguarda.i18n import format_datetime, ngettext
    from retaguarda.i18n import gettext as _
    what = str(params["what"])
    link = f"{container.settings.base_url}/fiscal/settings"
    valid_until = str(params["valid_until"])
    try:  # stored as "YYYY-MM-DD HH:MM UTC"
        from datetime import UTC, datetime

        valid_until = format_datetime(datetime.strptime(valid_until, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC))
    except ValueError:
        pass
    if what == "expired":
        subject = _("The NFS-e certificate has expired")
        lead = _("The A1 certificate %(subject)s expired on %(date)s.", subject=params["subject"], date=valid_until)
    else:
        days = int(what.split(":", 1)[1])
        subject = ngettext("The NFS-e certificate expires in %(num)s day",
                           "The NFS-e certificate expires in %(num)s days", days)
        lead = _("The A1 certificate %(subject)s expires on %(date)s.", subject=params["subject"], date=valid_until)
    text = (lead + "\n\n" + _("Notes cannot be issued through the Portal Nacional without a valid certificate. "
                              "Upload the renewed .pfx at %(link)s.", link=link) + "\n")
    return subject, text


def install(container: Container) -> None:
    from retaguarda.integrations.broker import is_embedded

    container.fiscal = Fiscal(container.store, container.after_write, container.clock, container.customers)
    from retaguarda.fiscal.nfcom.install import install as install_nfcom

    install_nfcom(container)  # NFCom (model 62) lives in the fiscal context
    if is_embedded(container.broker) and container.fiscal_poll_ms is None:
        # The embedded server (demo, development) polls async gateways every 0.5 s; with
        # Redis (production) polls back off exponentially (1 s → 60 s) to spare rate limits.
        container.fiscal_poll_ms = 500


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """Sandbox settings for the demo tenant (idempotent: kept as they are once configured)."""
    from retaguarda.fiscal.nfcom.install import seed_demo as seed_nfcom
    from retaguarda.shared.meta import Meta, new_correlation_id

    if container.fiscal.get_settings(tenant_id) is not None:
        seed_nfcom(container, tenant_id, actor)
        return
    meta = Meta(tenant_id=tenant_id, actor=actor, correlation_id=new_correlation_id(),
                at=container.clock.now())
    container.fiscal.save_settings(meta, DEMO_SETTINGS)
    # Two notes to look at: one sent (the worker issues it when the server starts), one draft.
    from retaguarda.shared.documents import make_cnpj

    customer_id = container.customers.owner_of(f"customer-document:{tenant_id}", make_cnpj("283746510001"))
    if customer_id is None:
        return
    sent = container.fiscal.create_draft(meta, {"customer_id": customer_id, "amount": "899.90"})
    container.fiscal.emit(meta, str(sent.aggregate.id))
    container.fiscal.create_draft(meta, {"customer_id": customer_id, "amount": "149.90",
                                         "service": {"description": "Instalação e configuração de roteador"}})
    seed_nfcom(container, tenant_id, actor)
