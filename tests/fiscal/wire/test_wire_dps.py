"""DPS and cancellation event: official XSD, Id rule, element order, XMLDSIG checked by xmlsec1."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from retaguarda.fiscal import dps as D
from retaguarda.fiscal import xmlsign
from retaguarda.fiscal.backends.base import Issuer, Party
from tests.fiscal.wire.conftest import (
    ISSUER_CNPJ,
    NS,
    TOMADOR_CNPJ,
    make_request,
    xmlsec1_verify,
)

VARIANTS = {
    "simples_cpf_ibscbs": {},
    "cnpj_tomador_withheld_deductions": dict(
        tomador=Party(document=TOMADOR_CNPJ, name="Provedor Serra Azul Ltda"),
        iss_withheld=True, deductions=Decimal("100.00")),
    "normal_regime_no_ibscbs": dict(ibscbs=None),
    "mei_special_regime": dict(ibscbs=None),
}


def _issuer(kind: str) -> Issuer:
    if kind == "normal_regime_no_ibscbs":
        return Issuer(document=ISSUER_CNPJ, name="X", municipality_ibge="3304557", tax_regime="normal",
                      special_regime=6)
    if kind == "mei_special_regime":
        return Issuer(document=ISSUER_CNPJ, name="X", municipality_ibge="3304557", tax_regime="mei",
                      special_regime=0)
    return make_request().issuer


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_generated_dps_validates_and_verifies_with_xmlsec1(variant, a1, test_ca, tmp_path):
    # Given a request of each shape we produce
    req = make_request(number=17, issuer=_issuer(variant), **VARIANTS[variant])
    # When it is built, validated and signed
    root = D.build_dps(req)
    D.validate(root, "DPS")
    xmlsign.sign(root, a1)
    signed = D.to_bytes(root)
    # Then the signed document is valid against the official XSD …
    D.validate(signed)
    # … and the independent xmlsec1 verifies it against the test CA
    result = xmlsec1_verify(signed, tmp_path, node="infDPS", ca_pem=test_ca.certificate_pem())
    assert result.returncode == 0, result.stderr
    assert xmlsign.verify(signed, trusted_ca=test_ca.certificate).reference_id.startswith("DPS")


def test_dps_id_follows_the_layout_rule_and_children_keep_the_schema_order(a1):
    root = D.build_dps(make_request(series="12", number=345))
    inf = root[0]
    assert root.get("versao") == "1.01" and etree.QName(root).namespace == NS
    assert inf.get("Id") == "DPS3550308" + "2" + ISSUER_CNPJ + "00012" + "000000000000345"
    assert len(inf.get("Id")) == 45
    assert [etree.QName(c).localname for c in inf] == [
        "tpAmb", "dhEmi", "verAplic", "serie", "nDPS", "dCompet", "tpEmit", "cLocEmi", "prest",
        "toma", "serv", "valores", "IBSCBS"]
    trib = inf.find(f"{{{NS}}}valores/{{{NS}}}trib/{{{NS}}}tribMun")
    assert [etree.QName(c).localname for c in trib] == ["tribISSQN", "tpRetISSQN", "pAliq"]
    assert inf.findtext(f"{{{NS}}}dhEmi").endswith("-03:00")


def test_a_cpf_issuer_is_padded_in_the_id():
    assert D.dps_id("3550308", "52998224725", "1", 9) == "DPS355030810005299822472500001000000000000009"


def test_alphanumeric_cnpj_is_refused_with_a_message_that_says_why():
    req = make_request(tomador=Party(document="12ABC34501DE35", name="Nova Empresa"))
    with pytest.raises(D.DpsBuildError) as err:
        D.build_dps(req)
    assert err.value.field == "tomador.document"
    assert "alphanumeric" in err.value.message and "1.01" in err.value.message


@pytest.mark.parametrize("changes,field", [
    (dict(service_code="1234"), "service_code"),
    (dict(amount=Decimal("0")), "amount"),
    (dict(series="ABC"), "series"),
    (dict(iss_rate=Decimal("12.00")), "iss_rate"),
    (dict(nbs="12"), "nbs"),
])
def test_bad_input_names_the_field(changes, field):
    with pytest.raises(D.DpsBuildError) as err:
        D.build_dps(make_request(**changes))
    assert err.value.field == field


def test_a_tampered_dps_fails_both_verifiers(a1, test_ca, tmp_path):
    root = xmlsign.sign(D.build_dps(make_request()), a1)
    tampered = D.to_bytes(root).replace(b"<vServ>1000.00</vServ>", b"<vServ>1.00</vServ>")
    assert xmlsec1_verify(tampered, tmp_path, node="infDPS", ca_pem=test_ca.certificate_pem()).returncode != 0
    with pytest.raises(xmlsign.SignatureError):
        xmlsign.verify(tampered)


def test_cancellation_event_validates_and_verifies_with_xmlsec1(a1, test_ca, tmp_path):
    key = D.make_access_key("3550308", ISSUER_CNPJ, 42, datetime(2026, 11, 1), 123456789)
    root = D.build_cancellation(access_key=key, author_document=ISSUER_CNPJ, reason_code="2",
                                reason="Serviço não prestado ao cliente", environment="producao_restrita",
                                at=datetime.now(timezone.utc))
    xmlsign.sign(root, a1)
    signed = D.to_bytes(root)
    D.validate(signed, "pedRegEvento")
    assert root[0].get("Id") == f"PRE{key}101101"
    result = xmlsec1_verify(signed, tmp_path, node="infPedReg", ca_pem=test_ca.certificate_pem())
    assert result.returncode == 0, result.stderr


def test_cancellation_reason_must_have_15_characters():
    key = D.make_access_key("3550308", ISSUER_CNPJ, 1, datetime(2026, 11, 1), 1)
    with pytest.raises(D.DpsBuildError) as err:
        D.build_cancellation(access_key=key, author_document=ISSUER_CNPJ, reason_code="1",
                             reason="curto", environment="producao", at=datetime.now(timezone.utc))
    assert err.value.field == "reason"


def test_access_key_check_digit_and_transport_encoding():
    key = D.make_access_key("1505486", ISSUER_CNPJ, 2, datetime(2025, 12, 3), 987654321)
    assert len(key) == 50 and D.valid_access_key(key)
    assert key[:7] == "1505486" and key[7] == "2" and key[8] == "2" and key[36:40] == "2512"
    wrong = key[:49] + str((int(key[49]) + 1) % 10)
    assert not D.valid_access_key(wrong)
    assert D.unpack(D.pack(b"<DPS/>")) == b"<DPS/>"


# any assigned, visible characters (the builder folds what Latin-1 cannot carry)
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co", "Cf", "Mn", "Mc", "Me",
                                                             "Zl", "Zp")),
                min_size=1, max_size=60).filter(lambda s: s.strip())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_text, description=_text, cents=st.integers(1, 10**11), number=st.integers(1, 10**15 - 1),
       rate=st.integers(0, 999), withheld=st.booleans())
def test_any_valid_input_gives_a_schema_valid_dps_and_both_engines_sign_identically(
        a1, name, description, cents, number, rate, withheld):
    req = make_request(number=number, amount=Decimal(cents) / 100, iss_rate=Decimal(rate) / 100,
                       iss_withheld=withheld, description=description,
                       tomador=Party(document=TOMADOR_CNPJ, name=name))
    by_xmlsec = xmlsign.sign(D.build_dps(req), a1, engine="xmlsec")
    by_openssl = xmlsign.sign(D.build_dps(req), a1, engine="openssl")
    D.validate(by_xmlsec, "DPS")
    assert D.to_bytes(by_xmlsec) == D.to_bytes(by_openssl)
    xmlsign.verify(D.to_bytes(by_openssl))


def test_openssl_engine_output_verifies_with_xmlsec1(a1, test_ca, tmp_path):
    for c14n in (xmlsign.C14N, xmlsign.EXC_C14N_WITH_COMMENTS):
        signed = D.to_bytes(xmlsign.sign(D.build_dps(make_request()), a1, c14n=c14n, engine="openssl"))
        result = xmlsec1_verify(signed, tmp_path, node="infDPS", ca_pem=test_ca.certificate_pem())
        assert result.returncode == 0, result.stderr
