"""Fake SVRS NFCom web services: SOAP 1.2 over mutual TLS on 127.0.0.1, test CA made at test time.

    with start_fake_svrs(tmp_path) as svrs:
        backend = SvrsBackend(certificate=svrs.client_certificate, environment="homologacao",
                              clock=clock, base_url=svrs.base_url, ca_bundle=str(svrs.ca_path),
                              timeout=1.0)
        svrs.authority.inject("539", "Rejeição: ...")    # a canned rejection for the next NFCom
        svrs.control.fail_next("timeout_after")          # processed, but the answer comes too late
        svrs.control.fail_next("500")                    # a server error

Paths: /WS/<Svc>/<Svc>.asmx for NFComRecepcao, NFComConsulta, NFComStatusServico,
NFComRecepcaoEvento (POST, Content-Type application/soap+xml with the action). A client without
a certificate from the test CA is refused in the TLS handshake. The document rules are those of
`retaguarda.fiscal.nfcom.backends.authority.SimulatedSvrs`.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retaguarda.fiscal.certificates import A1Certificate, TestCA, generate_test_ca
from retaguarda.fiscal.nfcom.backends import soap
from retaguarda.fiscal.nfcom.backends.authority import SimulatedSvrs
from retaguarda.fiscal.nfcom.backends.sandbox import serve
from tests.fakes.fiscal.common import Control, FakeHttpServer


@dataclass
class FakeSvrs:
    server: FakeHttpServer
    authority: SimulatedSvrs
    ca: TestCA
    ca_path: Path
    client_certificate: A1Certificate
    received: list[bytes] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def control(self) -> Control:
        return self.server.control

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeSvrs:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_fake_svrs(
    tmp_path: Path,
    *,
    issuer_cnpj: str = "11222333000181",
    clock: Any = None,
    environment: str = "homologacao",
) -> FakeSvrs:
    ca = generate_test_ca("Fake SVRS test CA")
    tmp_path.mkdir(parents=True, exist_ok=True)
    ca_path = tmp_path / "fake-svrs-ca.pem"
    ca_path.write_bytes(ca.certificate_pem())
    cert_pem, key_pem = ca.issue_server(("127.0.0.1", "localhost"))
    server_pem = tmp_path / "fake-svrs-server.pem"
    server_pem.write_bytes(key_pem + cert_pem)
    server_pem.chmod(0o600)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(server_pem))
    ctx.load_verify_locations(cadata=ca.certificate_pem().decode())
    ctx.verify_mode = ssl.CERT_REQUIRED
    server_pem.unlink()
    authority = SimulatedSvrs(environment=environment, clock=clock)
    holder: dict[str, FakeSvrs] = {}

    def app(handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if handler.connection.getpeercert() is None:  # pragma: no cover - TLS already refuses
            return 403, {"Content-Type": "text/plain"}, b"client certificate required"
        ctype = handler.headers.get("Content-Type", "")
        known = {s.path(): s for s in soap.SERVICES.values()}
        service = known.get(path.split("?")[0])
        if method != "POST" or service is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        if "application/soap+xml" not in ctype or f'action="{service.action}"' not in ctype:
            return 415, {"Content-Type": "application/soap+xml"}, soap.fault("wrong content type or action")
        holder["fake"].received.append(body)
        answer = serve(authority, body)
        status = 500 if b"Fault>" in answer else 200
        return status, {"Content-Type": "application/soap+xml; charset=utf-8"}, answer

    server = FakeHttpServer(app, ssl_context=ctx)
    fake = FakeSvrs(
        server=server,
        authority=authority,
        ca=ca,
        ca_path=ca_path,
        client_certificate=ca.issue_a1(issuer_cnpj, "EMPRESA TESTE NFCOM"),
    )
    holder["fake"] = fake
    server.start()
    return fake


__all__ = ("FakeSvrs", "start_fake_svrs")
