"""NFCom XML against the official schema, and its signature checked twice: by re-parsing with our
verifier and independently with the xmlsec1 command line."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from retaguarda.fiscal.nfcom import sign as S
from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.key import is_valid
from tests.fiscal.nfcom.helpers import CNPJ, certificate, request

NS = {"n": X.NS, "ds": S.DSIG_NS}


def xmlsec1_verifies(data: bytes, tmp_path: Path, id_attr: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "doc.xml"
    path.write_bytes(data)
    return subprocess.run(
        ["xmlsec1", "--verify", "--insecure", "--id-attr:Id", f"{X.NS}:{id_attr}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_groups_come_in_schema_order_with_totals_that_add_up():
    doc = X.build_nfcom(request())
    inf = doc[0]
    assert [etree.QName(c).localname for c in inf] == [
        "ide",
        "emit",
        "dest",
        "assinante",
        "det",
        "det",
        "total",
        "gFat",
        "infAdic",
        "gRespTec",
    ]
    assert [etree.QName(c).localname for c in doc] == ["infNFCom", "infNFComSupl"]
    assert doc.findtext("n:infNFCom/n:det[2]/n:prod/n:vItem", namespaces=NS) == "10.005"
    assert doc.findtext("n:infNFCom/n:det[2]/n:prod/n:vProd", namespaces=NS) == "20.01"
    total = doc.find("n:infNFCom/n:total", NS)
    assert total.findtext("n:vProd", namespaces=NS) == "119.91"
    assert total.findtext("n:ICMSTot/n:vICMS", namespaces=NS) == "21.58"  # 17.98 + 3.60
    assert total.findtext("n:vFUST", namespaces=NS) == "1.20"  # 1.00 + 0.20
    assert total.findtext("n:vFUNTTEL", namespaces=NS) == "0.60"  # 0.50 + 0.10
    assert total.findtext("n:vNF", namespaces=NS) == "119.91"
    fat = doc.find("n:infNFCom/n:gFat", NS)
    assert fat.findtext("n:CompetFat", namespaces=NS) == "202612"
    assert fat.findtext("n:gPIX/n:urlQRCodePIX", namespaces=NS) == "https://pix.demo.test/qr/abc"
    key = inf.get("Id")[5:]
    assert is_valid(key)
    assert doc.findtext("n:infNFComSupl/n:qrCodNFCom", namespaces=NS).endswith(f"?chNFCom={key}&tpAmb=2")


@pytest.mark.parametrize("ibscbs", [False, True])
def test_signed_document_is_schema_valid_and_verifies_after_a_reparse(tmp_path, ibscbs):
    r = request(taxes=replace(request().taxes, ibscbs=ibscbs))
    doc = S.sign(X.build_nfcom(r), certificate())
    data = X.to_bytes(doc)
    assert b"ds:" not in data and b"\n" not in data.split(b"?>", 1)[1]
    reparsed = X.parse(data)
    assert X.validation_errors(reparsed) == []
    assert [etree.QName(c).localname for c in reparsed] == ["infNFCom", "infNFComSupl", "Signature"]
    assert (reparsed.find("n:infNFCom/n:total/n:IBSCBSTot", NS) is not None) is ibscbs
    verified = S.verify(data)
    assert verified.signature_method.endswith("rsa-sha1") and verified.digest_method.endswith("sha1")
    assert verified.reference_id == f"NFCom{r.access_key}"
    result = xmlsec1_verifies(data, tmp_path, "infNFCom")
    assert result.returncode == 0, result.stderr


def test_a_tampered_document_fails_both_verifications(tmp_path):
    data = X.to_bytes(S.sign(X.build_nfcom(request()), certificate()))
    tampered = data.replace(b"<vNF>119.91</vNF>", b"<vNF>19.91</vNF>")
    with pytest.raises(S.SignatureError):
        S.verify(tampered)
    assert xmlsec1_verifies(tampered, tmp_path, "infNFCom").returncode != 0


def test_the_schema_catches_what_the_builder_was_given_wrong():
    bad = request(items=(replace(request().items[0], cclass="12"),))
    errors = X.validation_errors(X.build_nfcom(bad))
    assert errors and "cClass" in errors[0]
    with pytest.raises(X.NfcomXmlError):
        X.validate(X.build_nfcom(bad))


def test_the_cancellation_event_is_valid_signed_and_verifies(tmp_path):
    r = request()
    ev = X.build_cancel_event(
        key=r.access_key,
        environment="homologacao",
        cnpj=CNPJ,
        protocol="3352600000000001",
        reason="Valor cobrado em duplicidade",
        at=r.issued_at,
    )
    data = X.to_bytes(S.sign(ev, certificate()))
    assert X.validation_errors(X.parse(data)) == []
    assert X.parse(data)[0].get("Id") == f"ID110111{r.access_key}001"
    result = xmlsec1_verifies(data, tmp_path, "infEvento")
    assert result.returncode == 0, result.stderr


def test_simples_nacional_issuers_use_icmssn_without_icms_values():
    r = request(taxes=replace(request().taxes, icms_mode="simples"), issuer=replace(request().issuer, crt=1))
    doc = X.build_nfcom(r)
    assert doc.find("n:infNFCom/n:det/n:imposto/n:ICMSSN", NS) is not None
    assert doc.findtext("n:infNFCom/n:total/n:ICMSTot/n:vICMS", namespaces=NS) == "0.00"
    assert X.validation_errors(S.sign(doc, certificate())) == []


def test_unit_prices_keep_up_to_eight_places():
    assert X.unit_price_text(Decimal("99.9")) == "99.90"
    assert X.unit_price_text(Decimal("0.12345678")) == "0.12345678"
    assert X.unit_price_text(Decimal("5")) == "5.00"


def test_a_recipient_with_an_alphanumeric_cnpj_is_schema_valid():
    from retaguarda.fiscal.nfcom.domain import clean_draft

    r = request(recipient=replace(request().recipient, document="12ABC34501DE35"))
    doc = S.sign(X.build_nfcom(r), certificate())
    assert doc.findtext("n:infNFCom/n:dest/n:CNPJ", namespaces=NS) == "12ABC34501DE35"
    assert X.validation_errors(X.parse(X.to_bytes(doc))) == []
    body = {
        "customer_id": "c",
        "competence": "2026-12",
        "recipient": {"document": "12ABC34501DE35", "municipality_ibge": "3550308", "uf": "SP"},
        "items": [{"description": "x", "quantity": "1", "unit_price": "1.00", "cclass": "0100401"}],
    }
    assert clean_draft(body, {})["recipient"]["document"] == "12ABC34501DE35"
