"""TecnoSpeed PlugNotas adapter against the fake PlugNotas."""

from __future__ import annotations

import json
import time

import pytest

from retaguarda.fiscal.backends import TransientBackendError, make_backend
from retaguarda.fiscal.backends.base import Party
from retaguarda.fiscal.backends.tecnospeed import PlugNotasBackend
from tests.fakes.fiscal import start_fake_plugnotas
from tests.fakes.fiscal.common import FakeHttpServer, json_reply
from tests.fiscal.wire.conftest import ISSUER_CNPJ, make_request

KEY = "plugnotas-secret-key"


@pytest.fixture
def pn():
    fake = start_fake_plugnotas(KEY)
    yield fake
    fake.stop()


def backend(pn, clock, **kw):
    return make_backend("tecnospeed", settings=pn.settings, credentials={"plugnotas_api_key": KEY},
                        certificate=None, issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita",
                        clock=clock, sleep=lambda s: None, **{"timeout": 2.0, **kw})


def test_emission_is_polled_to_authorized_and_the_key_is_never_logged(pn, clock):
    outcome = backend(pn, clock).emit(make_request(), "pn-1")
    assert outcome.status == "authorized" and outcome.number == "1" and len(outcome.access_key) == 50
    assert outcome.nfse_xml and "NFS" in outcome.nfse_xml
    body = json.loads(pn.control.requests[0]["body"])
    assert isinstance(body, list) and body[0]["idIntegracao"] == "pn-1"
    assert all(KEY not in (c.request or "") + (c.response or "") for c in outcome.calls)


def test_rejection_and_resend_of_the_same_integration_id(pn, clock):
    b = backend(pn, clock)
    bad = b.emit(make_request(tomador=Party(document="11111111112", name="X")), "pn-2")
    assert bad.status == "rejected" and "inválido" in bad.errors[0]["message"]
    ok = b.emit(make_request(), "pn-3")
    again = b.emit(make_request(), "pn-3")  # 409 -> consult by idIntegracao
    assert again.status == "authorized" and again.access_key == ok.access_key
    assert len(pn.notes) == 2


def test_cancel_pdf_and_webhook(pn, clock):
    received = []
    receiver = FakeHttpServer(lambda h, m, p, body: (received.append(json.loads(body)) or json_reply(200, {}))).start()
    try:
        b = backend(pn, clock)
        assert b.register_webhook(f"{receiver.base_url}/hook")["ok"]
        note = b.emit(make_request(), "pn-4")
        assert b.danfse(note.access_key, "pn-4").startswith(b"%PDF-")
        assert b.cancel(note.access_key, "1", "Emitida com valor errado", "pn-4").status == "cancelled"
        for _ in range(100):
            if any(p["situacao"] == "CANCELADO" for p in received):
                break
            time.sleep(0.05)
        assert PlugNotasBackend.webhook_ref(received[0]) == "pn-4"
        assert any(p["situacao"] == "CANCELADO" for p in received)
    finally:
        receiver.stop()


@pytest.mark.parametrize("fault", ["500", "429", "malformed"])
def test_faults_are_transient(pn, clock, fault):
    pn.control.fail_next(fault, retry_after=3)
    with pytest.raises(TransientBackendError) as err:
        backend(pn, clock).emit(make_request(), f"pn-f-{fault}")
    assert err.value.retry_after == (3.0 if fault == "429" else None)


def test_connection_test(pn, clock):
    assert backend(pn, clock).test_connection()["ok"] is True
    wrong = make_backend("tecnospeed", settings=pn.settings, credentials={"plugnotas_api_key": "x"},
                         certificate=None, issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita",
                         clock=clock)
    assert wrong.test_connection()["ok"] is False
