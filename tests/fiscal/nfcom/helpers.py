"""Builders shared by the NFCom tests: a complete request and a test A1 certificate."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from retaguarda.fiscal.certificates import A1Certificate, TestCA, generate_test_ca
from retaguarda.fiscal.nfcom import xml as X

CNPJ = "11222333000181"


@functools.lru_cache(maxsize=1)
def test_ca() -> TestCA:
    return generate_test_ca("NFCom tests CA")


@functools.lru_cache(maxsize=4)
def certificate(cnpj: str = CNPJ) -> A1Certificate:
    return test_ca().issue_a1(cnpj, "NFCOM TEST ISSUER")


def address(**changes: Any) -> X.Address:
    base = X.Address(
        street="Avenida Paulista",
        number="1000",
        district="Bela Vista",
        municipality_ibge="3550308",
        city="São Paulo",
        uf="SP",
        cep="01310100",
        phone="1130000000",
        email="fiscal@demo.test",
    )
    return replace(base, **changes)


def request(**changes: Any) -> X.NfcomRequest:
    base = X.NfcomRequest(
        environment="homologacao",
        series=1,
        number=42,
        random_code="4829173",
        issued_at=datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc),
        issuer=X.Issuer(
            cnpj=CNPJ,
            state_registration="111111111111",
            name="Demo Telecom Ltda",
            address=address(),
            trade_name="Demo Net",
        ),
        recipient=X.Recipient(
            name="Maria da Silva",
            document="52998224725",
            address=address(street="Rua das Flores", number="12"),
        ),
        subscriber=X.Subscriber(
            code="CLI-0001",
            contract="2025-0001",
            contract_start=date(2025, 1, 10),
            terminal="11999990000",
            terminal_uf="SP",
        ),
        items=(
            X.Item(
                code="SCM-300",
                description="Internet fibra 300 Mbps",
                cclass="0100401",
                unit="UN",
                quantity=Decimal("1"),
                unit_price=Decimal("99.90"),
            ),
            X.Item(
                code="IP-FIXO",
                description="IP fixo",
                cclass="0100401",
                unit="UN",
                quantity=Decimal("2"),
                unit_price=Decimal("10.005"),
            ),
        ),
        taxes=X.Taxes(
            icms_rate=Decimal("18.00"),
            pis_rate=Decimal("0.65"),
            cofins_rate=Decimal("3.00"),
            fust_rate=Decimal("1.00"),
            funttel_rate=Decimal("0.50"),
        ),
        billing=X.Billing(
            competence=date(2026, 12, 1),
            due_date=date(2026, 12, 10),
            barcode="34191790010104351004791020150008291070026000",
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            pix_url="https://pix.demo.test/qr/abc",
        ),
        additional_info="Documento emitido em ambiente de homologação",
        tech=X.TechResponsible(
            cnpj=CNPJ, contact="Suporte Retaguarda", email="dev@demo.test", phone="1130000000"
        ),
    )
    return replace(base, **changes)
