"""The Focus NFe NFCom client (/v2/nfcom) against the extended fake over a real socket."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from retaguarda.fiscal.nfcom.backends import BackendConfigError, TransientBackendError, make_backend
from retaguarda.fiscal.nfcom.key import is_valid
from retaguarda.shared.clock import SystemClock
from tests.fakes.fiscal.focus_nfcom import start_fake_focus_nfcom
from tests.fiscal.nfcom.helpers import request


@pytest.fixture
def focus():
    fake = start_fake_focus_nfcom("tok-nfcom")
    yield fake
    fake.stop()


def backend(focus, token: str = "tok-nfcom"):
    return make_backend(
        "focus_nfe",
        certificate=None,
        issuer_cnpj="11222333000181",
        environment="homologacao",
        clock=SystemClock(),
        credentials={"focus_token": token},
        focus_url=focus.base_url,
        poll_interval=0,
        sleep=lambda s: None,
    )


def test_emitted_then_authorized_after_polls_with_our_series_and_number(focus):
    focus.nfcom_polls_to_authorize = 2
    r = request(issued_at=datetime.now(timezone.utc))
    out = backend(focus).emit(r, "ref-1")
    assert out.status == "authorized" and is_valid(out.access_key) and out.access_key[22:34] == "001000000042"
    assert len(out.protocol) == 16 and "<nfcomProc" in out.proc_xml
    assert [c.operation for c in out.calls] == ["emit", "consult", "consult", "consult", "xml"]
    sent = focus.nfcoms["ref-1"].body
    assert sent["serie"] == "1" and sent["numero"] == "42" and sent["itens"][0]["classificacao"] == "0100401"
    assert sent["competencia_fatura"] == "202612" and sent["cpf_destinatario"] == "52998224725"


def test_a_sefaz_rejection_comes_back_with_its_code(focus):
    focus.nfcom_reject_next = ("539", "Rejeição: Duplicidade de NFCom com diferença na Chave de Acesso")
    out = backend(focus).emit(request(), "ref-2")
    assert (out.status, out.cstat) == ("rejected", "539")


def test_still_processing_is_transient_and_a_resend_consults_instead_of_duplicating(focus):
    focus.nfcom_polls_to_authorize = 50
    b = backend(focus)
    with pytest.raises(TransientBackendError, match="still processing"):
        b.emit(request(), "ref-3")
    focus.nfcom_polls_to_authorize = 0
    out = b.emit(request(), "ref-3")  # 422 em_processamento -> consult
    assert out.status == "authorized" and len(focus.nfcoms) == 1


def test_wrong_token_and_server_errors(focus):
    with pytest.raises(BackendConfigError, match="401"):
        backend(focus, "wrong").emit(request(), "ref-4")
    focus.control.fail_next("500")
    with pytest.raises(TransientBackendError, match="HTTP 500"):
        backend(focus).emit(request(), "ref-5")


def test_cancellation_and_its_reason(focus):
    b = backend(focus)
    assert b.emit(request(), "ref-6").status == "authorized"
    now = datetime.now(timezone.utc)
    assert b.cancel("", "", "curta", now, "ref-6").status == "rejected"
    done = b.cancel("", "", "Fatura emitida em duplicidade", now, "ref-6")
    assert done.status == "cancelled" and done.cstat == "135"
    assert b.consult("", "ref-6").cancelled is True
