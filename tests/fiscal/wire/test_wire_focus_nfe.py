"""Focus NFe adapter against the fake Focus: async polling, webhook, rate limit, faults."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from retaguarda.fiscal.backends import TransientBackendError, make_backend
from retaguarda.fiscal.backends.base import Party
from retaguarda.fiscal.backends.focus_nfe import FocusNfeBackend
from tests.fakes.fiscal import start_fake_focus
from tests.fakes.fiscal.common import FakeHttpServer, json_reply
from tests.fiscal.wire.conftest import ISSUER_CNPJ, make_request

TOKEN = "focus-secret-token"
_refs = itertools.count(1)


@pytest.fixture
def focus():
    fake = start_fake_focus(TOKEN)
    yield fake
    fake.stop()


def backend(focus, clock, **kw):
    return make_backend("focus_nfe", settings=focus.settings, credentials={"focus_token": TOKEN},
                        certificate=None, issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita",
                        clock=clock, sleep=lambda s: None, **{"timeout": 2.0, **kw})


def test_emission_polls_until_authorized_and_never_logs_the_token(focus, clock):
    focus.polls_to_authorize = 2
    outcome = backend(focus, clock).emit(make_request(), "ref-1")
    assert outcome.status == "authorized", outcome.errors
    assert len(outcome.access_key) == 50 and outcome.number == "1"
    assert outcome.nfse_xml.startswith("<?xml") and outcome.danfse_url.endswith("danfse.pdf")
    ops = [c.operation for c in outcome.calls]
    assert ops[0] == "emit" and ops.count("consult") == 3 and ops[-1] == "xml"
    sent = json.loads(focus.control.requests[0]["body"])
    assert sent["codigo_tributacao_nacional_iss"] == "010701" and sent["cpf_tomador"]
    for call in outcome.calls:
        assert TOKEN not in (call.request or "") + (call.response or "") + call.url


def test_still_processing_then_webhook_then_consult(focus, clock):
    received = []

    def app(handler, method, path, body):
        received.append((handler.headers.get("Authorization"), json.loads(body)))
        return json_reply(200, {})

    receiver = FakeHttpServer(app).start()
    try:
        b = backend(focus, clock, poll_attempts=2)
        assert b.register_webhook(f"{receiver.base_url}/hook/tok", "hook-secret")["ok"]
        focus.polls_to_authorize = 99
        first = b.emit(make_request(), "ref-2")
        assert first.status == "processing"
        focus.process("ref-2")
        for _ in range(100):
            if received:
                break
            time.sleep(0.05)
        auth, payload = received[0]
        assert auth == "hook-secret" and FocusNfeBackend.webhook_ref(payload) == "ref-2"
        # the webhook is only a trigger: the consult gives the truth
        final = b.consult(FocusNfeBackend.webhook_ref(payload), None)
        assert final.status == "authorized"
    finally:
        receiver.stop()


def test_rejection_is_kept_verbatim(focus, clock):
    outcome = backend(focus, clock).emit(make_request(tomador=Party(document="11111111112", name="X")), "ref-3")
    assert outcome.status == "rejected"
    assert outcome.errors[0] == {"code": "E0215", "message": "CPF/CNPJ do tomador inválido",
                                 "complement": "Informe um documento válido"}


def test_retrying_an_authorized_ref_returns_the_same_note(focus, clock):
    b = backend(focus, clock)
    first = b.emit(make_request(), "ref-4")
    again = b.emit(make_request(), "ref-4")
    assert again.status == "authorized" and again.access_key == first.access_key
    assert len(focus.notes) == 1


def test_cancel_is_synchronous_and_idempotent(focus, clock):
    b = backend(focus, clock)
    note = b.emit(make_request(), "ref-5")
    assert b.cancel(note.access_key, "1", "short", "ref-5").status == "rejected"
    assert b.cancel(note.access_key, "1", "Serviço cobrado em duplicidade", "ref-5").status == "cancelled"
    assert b.cancel(note.access_key, "1", "Serviço cobrado em duplicidade", "ref-5").status == "cancelled"
    assert b.consult("ref-5", None).cancelled is True
    assert b.danfse(note.access_key, "ref-5").startswith(b"%PDF-")


def test_429_gives_retry_after_and_exhausted_credits_stop_the_client_first(focus, clock):
    b = backend(focus, clock)
    focus.control.fail_next("429", retry_after=5)
    with pytest.raises(TransientBackendError) as err:
        b.emit(make_request(), "ref-6")
    assert err.value.retry_after == 5.0
    # the window allows 3 credits: the client reads Rate-Limit-Remaining and stops before a 429
    focus.credits, focus.used = 3, 0
    other = make_backend("focus_nfe", settings=focus.settings, credentials={"focus_token": TOKEN},
                         certificate=None, issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita",
                         clock=clock, sleep=lambda s: None, poll_attempts=5)
    with pytest.raises(TransientBackendError) as err:
        other.emit(make_request(), f"ref-{next(_refs)}-x")
    assert err.value.retry_after and err.value.retry_after > 0
    assert focus.used == 3  # no request beyond the announced budget


@pytest.mark.parametrize("fault", ["500", "malformed", "timeout"])
def test_faults_are_transient(focus, clock, fault):
    b = backend(focus, clock, timeout=0.5)
    focus.control.fail_next(fault, delay=1.0)
    with pytest.raises(TransientBackendError):
        b.emit(make_request(), f"ref-f-{fault}")


def test_a_bad_token_fails_the_connection_test(focus, clock):
    assert backend(focus, clock).test_connection()["ok"] is True
    wrong = make_backend("focus_nfe", settings=focus.settings, credentials={"focus_token": "nope"},
                         certificate=None, issuer_cnpj=ISSUER_CNPJ, environment="producao_restrita",
                         clock=clock)
    result = wrong.test_connection()
    assert result["ok"] is False and "nope" not in json.dumps(result)
