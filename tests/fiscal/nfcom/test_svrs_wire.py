"""The SVRS client against the fake SVRS over mutual TLS: authorization, rejections, a timeout
followed by a consult, duplicates, cancellation and the status service."""

from __future__ import annotations

import ssl
import subprocess
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.backends import TransientBackendError, soap
from retaguarda.fiscal.nfcom.backends.svrs import SvrsBackend
from retaguarda.shared.clock import SystemClock
from tests.fakes.fiscal.svrs import start_fake_svrs
from tests.fiscal.nfcom.helpers import request


@pytest.fixture
def svrs(tmp_path):
    fake = start_fake_svrs(tmp_path)
    yield fake
    fake.stop()


def client(svrs: Any, **kw: Any) -> SvrsBackend:
    return SvrsBackend(
        certificate=kw.pop("cert", svrs.client_certificate),
        environment="homologacao",
        clock=SystemClock(),
        base_url=svrs.base_url,
        ca_bundle=str(svrs.ca_path),
        timeout=kw.pop("timeout", 5.0),
        **kw,
    )


def now_request(**kw: Any) -> X.NfcomRequest:
    return request(issued_at=datetime.now(timezone.utc) - timedelta(seconds=5), **kw)


def test_an_nfcom_is_authorized_with_a_protocol_and_the_processed_xml_verifies(svrs, tmp_path):
    b = client(svrs)
    out = b.emit(now_request(), "ref-1")
    assert (out.status, out.cstat) == ("authorized", "100"), out.reason
    assert len(out.protocol) == 16 and out.protocol.startswith("335")
    # the data area went gzip+base64 inside nfcomDadosMsg of NFComRecepcao, with the SOAP action
    sent = svrs.received[0]
    service, payload = soap.request_payload(sent)
    assert service is soap.RECEPTION and soap.unpack(payload).startswith(b'<?xml version="1.0"')
    headers = svrs.control.requests[0]["headers"]
    assert (
        'action="http://www.portalfiscal.inf.br/nfcom/wsdl/NFComRecepcao/nfcomRecepcao"'
        in headers["Content-Type"]
    )
    proc = X.parse(out.proc_xml.encode())
    assert X.validation_errors(proc) == []
    path = tmp_path / "proc.xml"
    path.write_text(out.proc_xml)
    r = subprocess.run(
        ["xmlsec1", "--verify", "--insecure", "--id-attr:Id", f"{X.NS}:infNFCom", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    # the call log carries the size of the data area, not the document
    assert [c.operation for c in out.calls] == ["emit"] and "gzip" in out.calls[0].request


def test_an_injected_rejection_comes_back_with_its_cstat(svrs):
    svrs.authority.inject("478", "Rejeição: Local da entrega não informado")
    out = client(svrs).emit(now_request(), "ref-2")
    assert (out.status, out.cstat, out.reason) == (
        "rejected",
        "478",
        "Rejeição: Local da entrega não informado",
    )


def test_a_signature_from_another_companys_certificate_is_rejected_213(svrs):
    other = svrs.ca.issue_a1("99888777000161", "OUTRA EMPRESA")
    out = client(svrs, cert=other).emit(now_request(), "ref-3")
    assert (out.status, out.cstat) == ("rejected", "213")


def test_a_timeout_after_processing_then_a_consult_finds_it_authorized(svrs):
    svrs.control.fail_next("timeout_after", delay=2.0)
    b = client(svrs, timeout=0.5)
    r = now_request()
    with pytest.raises(TransientBackendError) as caught:
        b.emit(r, "ref-4")
    assert caught.value.calls[0].error.startswith("timeout")
    found = b.consult(r.access_key, "ref-4")
    assert found.status == "authorized" and len(found.protocol) == 16
    # and sending it again is answered 204 "already authorized": the client returns the original
    again = b.emit(r, "ref-4")
    assert again.status == "authorized" and again.protocol == found.protocol
    assert [c.operation for c in again.calls] == ["emit", "consult"]


def test_the_same_number_with_another_key_is_a_duplicate_539(svrs):
    b = client(svrs)
    assert b.emit(now_request(), "a").status == "authorized"
    out = b.emit(now_request(random_code="7654321"), "b")
    assert (out.status, out.cstat) == ("rejected", "539")


def test_a_server_error_is_transient(svrs):
    svrs.control.fail_next("500")
    with pytest.raises(TransientBackendError, match="HTTP 500"):
        client(svrs).emit(now_request(), "ref-5")


def test_a_client_without_a_certificate_of_the_ca_is_refused_in_the_handshake(svrs):
    with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.post(
            svrs.base_url + soap.STATUS.path(),
            content=b"x",
            verify=ssl.create_default_context(cafile=str(svrs.ca_path)),
            timeout=3,
        )


def test_cancellation_event_110111_and_its_rules(svrs):
    b = client(svrs)
    r = now_request()
    out = b.emit(r, "c")
    wrong = b.cancel(
        r.access_key, "3352600000009999", "Cobrança indevida no período", datetime.now(timezone.utc), "c"
    )
    assert (wrong.status, wrong.cstat) == ("rejected", "222")
    done = b.cancel(
        r.access_key, out.protocol, "Cobrança indevida no período", datetime.now(timezone.utc), "c"
    )
    assert (done.status, done.cstat) == ("cancelled", "135") and len(done.protocol) == 16
    assert X.validation_errors(X.parse(done.event_xml.encode())) == []
    again = b.cancel(
        r.access_key, out.protocol, "Cobrança indevida no período", datetime.now(timezone.utc), "c"
    )
    assert again.status == "cancelled" and again.cstat == "218"
    assert b.consult(r.access_key, "c").cancelled is True


def test_the_status_service_answers_107(svrs):
    status = client(svrs).status()
    assert status["ok"] is True and status["cstat"] == "107"


def test_the_local_schema_check_refuses_before_sending(svrs):
    from dataclasses import replace

    bad = now_request(items=(replace(request().items[0], cclass="12"),))
    out = client(svrs).emit(bad, "x")
    assert (out.status, out.cstat) == ("rejected", "215") and svrs.received == []


def test_cancellation_window_ends_120_hours_after_the_month(svrs):
    from retaguarda.fiscal.nfcom.backends.authority import cancel_deadline

    deadline = cancel_deadline(datetime(2026, 11, 15, 12, tzinfo=timezone.utc))
    assert deadline.astimezone(X.TZ).isoformat() == "2026-12-06T00:00:00-03:00"
