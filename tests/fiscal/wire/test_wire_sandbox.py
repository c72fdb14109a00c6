"""Sandbox: same pipeline, in-process authority, test A1 generated when none was uploaded."""

from __future__ import annotations

import itertools

from retaguarda.fiscal import dps as D
from retaguarda.fiscal.backends import make_backend
from retaguarda.fiscal.backends.base import Party
from tests.fiscal.wire.conftest import ISSUER_CNPJ, embedded_cert_pem, make_request, xmlsec1_verify

_numbers = itertools.count(5000)


def sandbox(clock):
    return make_backend("sandbox", settings=None, credentials={}, certificate=None,
                        issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita", clock=clock)


def test_sandbox_authorizes_a_signed_dps_that_xmlsec1_verifies_with_its_own_certificate(clock, tmp_path):
    b = sandbox(clock)
    outcome = b.emit(make_request(number=next(_numbers)), "sb-1")
    assert outcome.status == "authorized" and D.valid_access_key(outcome.access_key)
    D.validate(outcome.dps_xml.encode(), "DPS")
    D.validate(outcome.nfse_xml.encode(), "NFSe")
    cert = embedded_cert_pem(outcome.dps_xml)
    result = xmlsec1_verify(outcome.dps_xml, tmp_path, node="infDPS", cert_pem=cert)
    assert result.returncode == 0, result.stderr
    assert b.generated_certificate and b.certificate.cnpj == ISSUER_CNPJ
    assert outcome.calls[0].url.startswith("sandbox://")


def test_sandbox_rejects_what_the_rules_reject_and_cancels(clock):
    b = sandbox(clock)
    bad = b.emit(make_request(number=next(_numbers), tomador=Party(document="11111111112", name="X")), "sb-2")
    assert bad.status == "rejected" and bad.errors[0]["code"] == "SIM-E0215"
    good = b.emit(make_request(number=next(_numbers)), "sb-3")
    cancelled = b.cancel(good.access_key, "9", "Cliente desistiu do serviço contratado", "sb-3")
    assert cancelled.status == "cancelled"
    D.validate(cancelled.request_xml.encode(), "pedRegEvento")
    assert b.danfse(good.access_key, "sb-3") is None
    assert b.test_connection()["ok"] is True


def test_a_new_backend_instance_still_sees_earlier_notes(clock):
    first = sandbox(clock).emit(make_request(number=next(_numbers)), "sb-4")
    assert sandbox(clock).consult("sb-4", first.access_key).access_key == first.access_key


def test_separate_apps_do_not_share_the_simulated_authority(clock):
    one = make_backend("sandbox", settings=("app", 1), credentials={}, certificate=None,
                       issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita", clock=clock)
    two = make_backend("sandbox", settings=("app", 2), credentials={}, certificate=None,
                       issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita", clock=clock)
    req = make_request(number=1)
    assert one.emit(req, "a").status == "authorized"
    assert two.emit(req.__class__(**{**req.__dict__, "description": "Outro"}), "b").status == "authorized"
