"""Portal Nacional adapter against the fake Sefin over real mutual TLS."""

from __future__ import annotations

import itertools
import ssl

import httpx
import pytest

from retaguarda.fiscal import dps as D
from retaguarda.fiscal import xmlsign
from retaguarda.fiscal.backends import TransientBackendError, make_backend
from retaguarda.fiscal.backends.base import Party
from tests.fiscal.wire.conftest import ISSUER_CNPJ, make_request, xmlsec1_verify

_numbers = itertools.count(1000)


def backend(sefin, clock, certificate=None, timeout=2.0):
    return make_backend("portal_nacional", settings=sefin.settings, credentials={},
                        certificate=certificate or sefin.client_certificate, issuer_cnpj=ISSUER_CNPJ,
                        environment="producao_restrita", clock=clock, ca_bundle=str(sefin.ca_path),
                        timeout=timeout)


def test_emission_is_authorized_and_what_was_sent_verifies_with_xmlsec1(sefin, clock, tmp_path):
    b = backend(sefin, clock)
    outcome = b.emit(make_request(number=next(_numbers)), "note-1")
    assert outcome.status == "authorized", outcome.errors
    assert D.valid_access_key(outcome.access_key) and outcome.number
    assert outcome.authorized_at is not None and outcome.authorized_at.tzinfo is not None
    # the authority's NFS-e is valid and embeds our DPS
    D.validate(outcome.nfse_xml.encode(), "NFSe")
    assert outcome.dps_id in outcome.nfse_xml
    signed_by = xmlsign.verify(outcome.nfse_xml.encode(),
                               trusted_ca=sefin.authority.signer_ca.certificate)
    assert signed_by.reference_id == "NFS" + outcome.access_key
    assert signed_by.signature_method.endswith("rsa-sha256")
    # the bytes the server received are exactly the DPS we report, and xmlsec1 accepts them
    assert sefin.received_dps[-1].decode() == outcome.dps_xml
    result = xmlsec1_verify(sefin.received_dps[-1], tmp_path, node="infDPS", ca_pem=sefin.ca.certificate_pem())
    assert result.returncode == 0, result.stderr
    # the call log is sanitized: no gzip blob, no key material
    (call,) = outcome.calls
    assert call.status == 201 and call.method == "POST" and call.url.endswith("/SefinNacional/nfse")
    assert "PRIVATE" not in call.request and "dpsXmlGZipB64" in call.request and len(call.request) < 300


def test_consult_danfse_and_cancellation(sefin, clock, tmp_path):
    b = backend(sefin, clock)
    outcome = b.emit(make_request(number=next(_numbers)), "note-2")
    again = b.consult("note-2", outcome.access_key)
    assert again.status == "authorized" and again.access_key == outcome.access_key
    pdf = b.danfse(outcome.access_key, "note-2")
    assert pdf.startswith(b"%PDF-")
    cancelled = b.cancel(outcome.access_key, "1", "Erro na emissão do valor do serviço", "note-2")
    assert cancelled.status == "cancelled", cancelled.errors
    D.validate(cancelled.event_xml.encode(), "evento")
    sent = sefin.received_events[-1]
    D.validate(sent, "pedRegEvento")
    assert xmlsec1_verify(sent, tmp_path, node="infPedReg", ca_pem=sefin.ca.certificate_pem()).returncode == 0
    twice = b.cancel(outcome.access_key, "1", "Erro na emissão do valor do serviço", "note-2")
    assert twice.status == "rejected" and twice.errors[0]["code"] == "SIM-E1830"


def test_a_repeated_dps_id_is_rejected_by_the_authority(sefin, clock):
    b = backend(sefin, clock)
    req = make_request(number=next(_numbers))
    first = b.emit(req, "note-3")
    # the same signed DPS posted again, straight over mTLS
    ctx = sefin.client_certificate.ssl_context(sefin.ca_path)
    with httpx.Client(verify=ctx) as client:
        r = client.post(f"{sefin.base_url}/SefinNacional/nfse",
                        json={"dpsXmlGZipB64": D.pack(first.dps_xml.encode())})
    assert r.status_code == 409 and r.json()["erros"][0]["Codigo"] == "SIM-E0014"
    # our client, retrying the same note, recovers the existing note instead of failing
    retry = b.emit(req, "note-3")
    assert retry.status == "authorized" and retry.access_key == first.access_key
    assert [c.operation for c in retry.calls] == ["emit", "recover_by_dps", "consult"]


def test_business_rejection_keeps_the_authority_code_verbatim(sefin, clock):
    b = backend(sefin, clock)
    bad = make_request(number=next(_numbers), tomador=Party(document="52998224724", name="CPF ERRADO"))
    outcome = b.emit(bad, "note-4")
    assert outcome.status == "rejected"
    assert outcome.errors[0]["code"] == "SIM-E0215" and outcome.errors[0]["message"] == "CPF do tomador inválido."
    assert "hint" in outcome.errors[0]


def test_a_certificate_from_an_unknown_ca_is_refused_by_the_authority(sefin, clock, test_ca):
    stranger = test_ca.issue_a1(ISSUER_CNPJ, "OUTRA AC")
    # the TLS layer already refuses a client the fake's CA did not issue
    b = backend(sefin, clock, certificate=stranger)
    with pytest.raises(TransientBackendError):
        b.emit(make_request(number=next(_numbers)), "note-5")


def test_local_checks_stop_before_sending(sefin, clock):
    other = sefin.certificate_for("11444777000161")
    b = backend(sefin, clock, certificate=other)
    before = sefin.control.count("POST", "/nfse")
    outcome = b.emit(make_request(number=next(_numbers)), "note-6")
    assert outcome.status == "rejected" and outcome.errors[0]["code"] == "LOCAL-CERTIFICATE"
    assert sefin.control.count("POST", "/nfse") == before


@pytest.mark.parametrize("fault,expected_retry_after", [
    ("500", None), ("503", None), ("429", 7.0), ("malformed", None), ("e999", None), ("timeout", None),
])
def test_transient_faults_raise_transient_errors(sefin, clock, fault, expected_retry_after):
    b = backend(sefin, clock, timeout=0.5)
    sefin.control.fail_next(fault, path="/SefinNacional/nfse", retry_after=7, delay=1.0)
    with pytest.raises(TransientBackendError) as err:
        b.emit(make_request(number=next(_numbers)), "note-7")
    assert err.value.retry_after == expected_retry_after
    assert err.value.calls and err.value.calls[-1].operation == "emit"


def test_a_timeout_after_processing_is_recovered_on_retry_without_a_second_note(sefin, clock):
    b = backend(sefin, clock, timeout=0.5)
    req = make_request(number=next(_numbers))
    notes_before = len(sefin.authority.notes)
    sefin.control.fail_next("timeout_after", path="/SefinNacional/nfse", delay=1.0)
    with pytest.raises(TransientBackendError):
        b.emit(req, "note-8")
    outcome = b.emit(req, "note-8")
    assert outcome.status == "authorized"
    assert len(sefin.authority.notes) == notes_before + 1


def test_a_client_without_certificate_is_refused(sefin):
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{sefin.base_url}/SefinNacional/nfse/{'0' * 50}",
                  verify=ssl.create_default_context(cafile=str(sefin.ca_path)), timeout=3)


def test_test_connection_does_a_handshake_and_a_consult(sefin, clock):
    result = backend(sefin, clock).test_connection()
    assert result["ok"] is True and result["calls"][0]["status"] == 404
    assert result["certificate"]["cnpj"] == ISSUER_CNPJ


def test_a_different_document_reusing_a_dps_number_stays_rejected(sefin, clock):
    b = backend(sefin, clock)
    number = next(_numbers)
    first = b.emit(make_request(number=number), "note-9")
    other = b.emit(make_request(number=number, description="Outro serviço"), "note-10")
    assert first.status == "authorized"
    assert other.status == "rejected" and other.errors[0]["code"] == "SIM-E0014"
    assert other.access_key is None
