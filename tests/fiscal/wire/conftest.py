"""Fixtures of the wire tests: a test CA and A1, a DpsRequest factory, the fake Sefin (mTLS) and an
independent check with Debian's `xmlsec1 --verify`."""

from __future__ import annotations

import base64
import dataclasses
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from retaguarda.fiscal.backends.base import DpsRequest, Issuer, Party
from retaguarda.fiscal.certificates import A1Certificate, TestCA, generate_test_ca
from retaguarda.fiscal.taxes import ibscbs_for
from retaguarda.shared.clock import SystemClock
from retaguarda.shared.documents import make_cnpj, make_cpf
from tests.fakes.fiscal import FakeSefin, start_fake_sefin

ISSUER_CNPJ = make_cnpj("112223330001")
TOMADOR_CPF = make_cpf("529982247")
TOMADOR_CNPJ = make_cnpj("283746510001")
NS = "http://www.sped.fazenda.gov.br/nfse"


def xmlsec1_verify(xml: bytes | str, tmp_path: Path, *, node: str, ca_pem: bytes | None = None,
                   cert_pem: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Runs Debian's xmlsec1 on the document: with the CA (chain check) or the signer's cert."""
    path = tmp_path / f"doc-{node}-{abs(hash(xml)) % 10**8}.xml"
    path.write_bytes(xml if isinstance(xml, bytes) else xml.encode())
    args = ["xmlsec1", "--verify", "--id-attr:Id", f"{NS}:{node}"]
    if ca_pem is not None:
        ca = tmp_path / "xmlsec1-ca.pem"
        ca.write_bytes(ca_pem)
        args += ["--trusted-pem", str(ca)]
    if cert_pem is not None:
        cert = tmp_path / "xmlsec1-signer.pem"
        cert.write_bytes(cert_pem)
        args += ["--pubkey-cert-pem", str(cert)]
    return subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=30)


def embedded_cert_pem(xml: bytes | str) -> bytes:
    from lxml import etree

    root = etree.fromstring(xml if isinstance(xml, bytes) else xml.encode())
    b64 = root.findtext("{http://www.w3.org/2000/09/xmldsig#}Signature/"
                        "{http://www.w3.org/2000/09/xmldsig#}KeyInfo/"
                        "{http://www.w3.org/2000/09/xmldsig#}X509Data/"
                        "{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


@pytest.fixture(scope="session")
def test_ca() -> TestCA:
    return generate_test_ca("Wire tests CA")


@pytest.fixture(scope="session")
def a1(test_ca: TestCA) -> A1Certificate:
    return test_ca.issue_a1(ISSUER_CNPJ, "EMPRESA TESTE LTDA")


def make_request(**changes: Any) -> DpsRequest:
    now = datetime.now(timezone.utc) - timedelta(minutes=1)
    issuer = Issuer(document=ISSUER_CNPJ, name="EMPRESA TESTE LTDA", municipality_ibge="3550308",
                    municipal_registration="1234567", email="fiscal@empresa.test",
                    tax_regime="simples_nacional", special_regime=0)
    tomador = Party(document=TOMADOR_CPF, name="Maria da Conceição", email="maria@cliente.test",
                    municipality_ibge="3550308", street="Rua das Flores", number="10",
                    district="Centro", cep="01001-000", uf="SP")
    base: dict[str, Any] = dict(
        environment="producao_restrita", series="1", number=1, issued_at=now,
        competence=date(now.year, now.month, 1), issuer=issuer, tomador=tomador,
        service_code="010701", nbs="115021000", description="Suporte técnico mensal",
        municipality_ibge="3550308", amount=Decimal("1000.00"), deductions=Decimal("0.00"),
        iss_rate=Decimal("2.00"), iss_withheld=False,
        ibscbs=ibscbs_for(Decimal("1000.00"), Decimal("0"), Decimal("2.00")))
    base.update(changes)
    return DpsRequest(**base)


@pytest.fixture
def request_factory():
    return make_request


@pytest.fixture(scope="module")
def sefin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeSefin]:
    fake = start_fake_sefin(tmp_path_factory.mktemp("sefin"), issuer_cnpj=ISSUER_CNPJ)
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock()


def replace(req: DpsRequest, **changes: Any) -> DpsRequest:
    return dataclasses.replace(req, **changes)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
