"""What a CNAB 240 remessa needs, gathered from the other contexts' public surfaces: the
beneficiary (billing's boleto agreement, the tenant's CNPJ from the fiscal issuer) and one
title per open invoice with a boleto (nosso número = convênio + invoice number)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retaguarda.cash.domain import CashAccount
from retaguarda.cash.formats.cnab240 import Beneficiary, Title
from retaguarda.shared.errors import ValidationError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def remittance_input(
    container: Container, tenant_id: str, account_id: str
) -> tuple[Beneficiary, list[tuple[str, Title]]]:
    from retaguarda.cash.install import open_invoices_of

    try:
        account: CashAccount = container.cash.get_account(tenant_id, account_id)
    except Exception:
        raise ValidationError("account_id", "unknown account") from None
    values = container.billing.settings_for(tenant_id).values
    agreement = str(values.get("boleto_agreement") or "")
    if values.get("boleto_bank") != "001" or not re.fullmatch(r"\d{7}", agreement):
        raise ValidationError(
            "account_id",
            "configure a Banco do Brasil boleto agreement (7-digit convênio) in the billing settings first",
        )
    fs = container.fiscal.get_settings(tenant_id)
    issuer = getattr(fs, "issuer", None) or {}
    document = _digits(issuer.get("cnpj", ""))
    if len(document) != 14:
        raise ValidationError("account_id", "the company CNPJ is missing (fiscal settings, issuer)")
    agency = _digits(str(values.get("boleto_agency") or account.agency))
    number = _digits(str(values.get("boleto_account") or account.number))
    ben = Beneficiary(
        bank="001",
        document=document,
        name=str(issuer.get("name") or "")[:30],
        agency=agency[:-1] if len(agency) > 4 else agency,
        agency_dv=agency[-1] if len(agency) > 4 else "",
        account=number[:-1],
        account_dv=number[-1:],
        convenio=agreement,
        carteira=str(values.get("boleto_wallet") or "17"),
    )
    titles: list[tuple[str, Title]] = []
    interest = Decimal(str(values.get("interest_percent_month") or "0"))
    for inv in open_invoices_of(container, tenant_id):
        if not inv.nosso_numero:
            continue
        customer: Any = container.customers.get_customer(tenant_id, inv.customer_id)
        address = getattr(customer, "address", None) or {}
        per_day = (inv.balance * interest / Decimal(100) / Decimal(30)).quantize(Decimal("0.01"))
        issue = container.billing.get_invoice(tenant_id, inv.id).issue_date or inv.due_date
        titles.append(
            (
                inv.id,
                Title(
                    nosso_numero=inv.nosso_numero,
                    seu_numero=str(inv.number),
                    due_date=inv.due_date,
                    amount=inv.balance,
                    issue_date=issue,
                    payer_document=inv.document or "0" * 11,
                    payer_name=str(customer.name)[:40],
                    payer_address=f"{address.get('street', '')} {address.get('number', '')}".strip(),
                    payer_district=address.get("district", ""),
                    payer_cep=address.get("cep", ""),
                    payer_city=address.get("city", ""),
                    payer_uf=address.get("uf", ""),
                    interest_per_day=per_day,
                    company_use=inv.id.replace("-", "")[:25],
                ),
            )
        )
    return ben, titles
