"""Fake Sefin Nacional + ADN over mutual TLS on 127.0.0.1, with a test CA made at test time.

    with start_fake_sefin(tmp_path, issuer_cnpj="11222333000181") as sefin:
        backend = make_backend("portal_nacional", settings=sefin.settings, credentials={},
                               certificate=sefin.client_certificate, issuer_cnpj=...,
                               environment="producao_restrita", clock=clock,
                               ca_bundle=sefin.ca_path, timeout=1.0)
        sefin.control.fail_next("429", retry_after=2)     # faults on demand
        sefin.received_dps                                  # signed DPS bytes as received

Routes (the documented paths): POST /SefinNacional/nfse, GET /SefinNacional/nfse/{key},
GET|HEAD /SefinNacional/dps/{id}, POST /SefinNacional/nfse/{key}/eventos,
GET /SefinNacional/nfse/{key}/eventos/{type}/{seq}, GET /danfse/{key} (ADN, same host).
A client without a certificate issued by the test CA is refused in the TLS handshake. The
document rules (XSD validation, signature verification against the test CA, repeated DPS Id,
access key, NFS-e XML signed by the fake authority) are those of SimulatedAuthority.
"""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from retaguarda.fiscal import dps as D
from retaguarda.fiscal.backends.authority import SimulatedAuthority, simple_pdf
from retaguarda.fiscal.certificates import A1Certificate, TestCA, generate_test_ca
from tests.fakes.fiscal.common import Control, FakeHttpServer, json_reply

PFX_PASSWORD = "test-a1-password"


@dataclass
class FakeSefin:
    server: FakeHttpServer
    authority: SimulatedAuthority
    ca: TestCA
    ca_path: Path
    client_certificate: A1Certificate
    client_pfx: bytes
    pfx_password: str = PFX_PASSWORD
    received_dps: list[bytes] = field(default_factory=list)
    received_events: list[bytes] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def control(self) -> Control:
        return self.server.control

    @property
    def settings(self) -> Any:
        """Stand-in for Settings with both Sefin and ADN pointing here."""
        return SimpleNamespace(nfse_nacional_url=self.base_url, nfse_danfse_url=self.base_url,
                               focus_url="", plugnotas_url="")

    def certificate_for(self, cnpj: str, name: str = "OUTRO EMISSOR") -> A1Certificate:
        return self.ca.issue_a1(cnpj, name)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeSefin:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_fake_sefin(tmp_path: Path, *, issuer_cnpj: str = "11222333000181",
                     issuer_name: str = "EMPRESA TESTE LTDA", clock: Any = None,
                     environment: str = "producao_restrita") -> FakeSefin:
    ca = generate_test_ca("Fake ICP-Brasil test CA")
    tmp_path.mkdir(parents=True, exist_ok=True)
    ca_path = tmp_path / "fake-sefin-ca.pem"
    ca_path.write_bytes(ca.certificate_pem())
    cert_pem, key_pem = ca.issue_server(("127.0.0.1", "localhost"))
    server_pem = tmp_path / "fake-sefin-server.pem"
    server_pem.write_bytes(key_pem + cert_pem)
    server_pem.chmod(0o600)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(server_pem))
    ctx.load_verify_locations(cadata=ca.certificate_pem().decode())
    ctx.verify_mode = ssl.CERT_REQUIRED
    server_pem.unlink()

    authority = SimulatedAuthority(clock=clock, environment=environment, trusted_ca=ca.certificate)
    client = ca.issue_a1(issuer_cnpj, issuer_name)
    holder: dict[str, FakeSefin] = {}

    def app(handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        fake = holder["fake"]
        if handler.connection.getpeercert() is None:  # pragma: no cover - TLS already refuses
            return json_reply(403, {"erros": [{"Codigo": "SIM-403", "Descricao": "certificado ausente"}]})
        parts = [p for p in path.split("?")[0].split("/") if p]
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return json_reply(400, {"erros": [{"Codigo": "SIM-E0001", "Descricao": "JSON inválido"}]})
        if parts[:1] == ["danfse"] and len(parts) == 2 and method == "GET":
            pdf = authority.danfse_pdf(parts[1])
            if pdf is None:
                return json_reply(404, {"erros": [{"Codigo": "SIM-E404", "Descricao": "não encontrada"}]})
            return 200, {"Content-Type": "application/pdf"}, pdf
        if parts[:1] != ["SefinNacional"]:
            return json_reply(404, {"erros": [{"Codigo": "SIM-E404", "Descricao": "rota desconhecida"}]})
        parts = parts[1:]
        if method == "POST" and parts == ["nfse"]:
            try:
                fake.received_dps.append(D.unpack(data.get("dpsXmlGZipB64", "")))
            except Exception:  # noqa: BLE001
                pass
            status, out = authority.receive_dps(data)
        elif method == "GET" and len(parts) == 2 and parts[0] == "nfse":
            status, out = authority.get_nfse(parts[1])
        elif method in ("GET", "HEAD") and len(parts) == 2 and parts[0] == "dps":
            status, out = authority.get_dps(parts[1])
            if method == "HEAD":
                return status, {}, b""
        elif method == "POST" and len(parts) == 3 and parts[0] == "nfse" and parts[2] == "eventos":
            try:
                fake.received_events.append(D.unpack(data.get("pedidoRegistroEventoXmlGZipB64", "")))
            except Exception:  # noqa: BLE001
                pass
            status, out = authority.receive_event(parts[1], data)
        elif method == "GET" and len(parts) == 5 and parts[0] == "nfse" and parts[2] == "eventos":
            status, out = authority.get_event(parts[1], parts[3], int(parts[4]))
        else:
            status, out = 404, {"erros": [{"Codigo": "SIM-E404", "Descricao": "rota desconhecida"}]}
        return json_reply(status, out)

    server = FakeHttpServer(app, ssl_context=ctx)
    fake = FakeSefin(server=server, authority=authority, ca=ca, ca_path=ca_path,
                     client_certificate=client, client_pfx=client.to_pkcs12(PFX_PASSWORD))
    holder["fake"] = fake
    server.start()
    return fake


__all__ = ("FakeSefin", "simple_pdf", "start_fake_sefin")
