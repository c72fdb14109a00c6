"""Sandbox: the Portal Nacional pipeline (build, XSD-validate, sign, gzip+base64 JSON) with only
the HTTP call replaced by the in-process SimulatedAuthority. No network. Labelled "sandbox".

Without an uploaded certificate it signs with a test A1 generated for the issuer's CNPJ by a
process-wide sandbox CA (`sandbox_certificate`). The authority keeps its notes in process memory
(one per environment); after a restart it still accepts the cancellation of a key it could have
issued for that issuer. DANFSe: none (the caller renders its own).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

from retaguarda.fiscal.backends.authority import Contributor, SimulatedAuthority
from retaguarda.fiscal.backends.base import DpsRequest, EmissionOutcome
from retaguarda.fiscal.backends.http import Exchanger, Response
from retaguarda.fiscal.backends.portal_nacional import SEFIN_PATH, PortalNacionalBackend
from retaguarda.fiscal.certificates import A1Certificate, TestCA, generate_test_ca

SANDBOX_URL = "sandbox://sefin.simulada"
_lock = threading.Lock()
_authorities: dict[tuple[str, Any], SimulatedAuthority] = {}
_ca: TestCA | None = None
_certs: dict[str, A1Certificate] = {}


def sandbox_ca() -> TestCA:
    global _ca
    with _lock:
        if _ca is None:
            _ca = generate_test_ca("Retaguarda SANDBOX CA (not ICP-Brasil)")
        return _ca


def sandbox_certificate(issuer_cnpj: str, name: str = "SANDBOX ISSUER") -> A1Certificate:
    """The process-wide test A1 for `issuer_cnpj` (made on first use, valid one year)."""
    ca = sandbox_ca()
    with _lock:
        cert = _certs.get(issuer_cnpj)
        if cert is None or cert.not_after < datetime.now(timezone.utc):
            cert = _certs[issuer_cnpj] = ca.issue_a1(issuer_cnpj, name)
        return cert


def sandbox_authority(environment: str, clock: Any = None, scope: Any = None) -> SimulatedAuthority:
    """The simulated authority of `environment` within `scope` (make_backend passes the app's
    Settings: one authority per running app, so separate test apps do not share DPS numbers)."""
    try:
        hash(scope)
        key: tuple[str, Any] = (environment, scope)
    except TypeError:
        key = (environment, id(scope))
    with _lock:
        auth = _authorities.get(key)
        if auth is None:
            if len(_authorities) > 256:
                _authorities.clear()
            auth = _authorities[key] = SimulatedAuthority(clock=clock, environment=environment)
        if clock is not None:
            auth.clock = clock
        return auth


class _InProcessExchanger(Exchanger):
    """Same recording and error handling as over HTTP; the 'request' goes to the authority."""

    def __init__(self, authority: SimulatedAuthority, clock: Any) -> None:
        super().__init__(lambda: None, clock)
        self.authority = authority

    def _do(self, method: str, url: str, json_body: Any, headers: dict[str, str]) -> Response:
        path = urlsplit(url).path
        if path.startswith(SEFIN_PATH):
            path = path[len(SEFIN_PATH):]
        parts = [p for p in path.split("/") if p]
        a = self.authority
        if method == "POST" and parts == ["nfse"]:
            status, body = a.receive_dps(json_body or {})
        elif method == "GET" and len(parts) == 2 and parts[0] == "nfse":
            status, body = a.get_nfse(parts[1])
        elif method == "GET" and len(parts) == 2 and parts[0] == "dps":
            status, body = a.get_dps(parts[1])
        elif method == "POST" and len(parts) == 3 and parts[0] == "nfse" and parts[2] == "eventos":
            status, body = a.receive_event(parts[1], json_body or {})
        elif method == "GET" and len(parts) == 2 and parts[0] == "danfse":
            return Response(404, httpx.Headers({"content-type": "application/json"}),
                            b'{"erros":[{"Codigo":"SIM-E404","Descricao":"sandbox: sem DANFSe"}]}')
        else:
            status, body = 404, {"erros": [{"Codigo": "SIM-E404", "Descricao": f"{method} {path}"}]}
        return Response(status, httpx.Headers({"content-type": "application/json"}),
                        json.dumps(body).encode())


class SandboxBackend(PortalNacionalBackend):
    name = "sandbox"
    label = "Sandbox (simulated Sefin Nacional — nothing is sent to the authority)"

    def __init__(self, *, certificate: A1Certificate | None, issuer_cnpj: str, environment: str,
                 clock: Any, issuer_name: str = "SANDBOX ISSUER",
                 authority: SimulatedAuthority | None = None, scope: Any = None,
                 **options: Any) -> None:
        self.authority = authority or sandbox_authority(environment, clock, scope)
        cert = certificate or sandbox_certificate(issuer_cnpj, issuer_name)
        self.generated_certificate = certificate is None
        super().__init__(base_url=SANDBOX_URL, danfse_url=SANDBOX_URL, certificate=cert,
                         issuer_cnpj=issuer_cnpj, environment=environment, clock=clock, **options)

    def _exchanger(self) -> Exchanger:
        return _InProcessExchanger(self.authority, self.clock)

    def emit(self, request: DpsRequest, ref: str) -> EmissionOutcome:
        i = request.issuer
        if i.document not in self.authority.contributors:
            self.authority.register_contributor(i.document, Contributor(
                name=i.name, street=i.street or "Rua do Contribuinte", number=i.number or "S/N",
                district=i.district or "Centro", municipality_ibge=i.municipality_ibge or "3550308",
                uf=i.uf or "SP", cep=(i.cep or "01001000").replace("-", ""), email=i.email))
        return super().emit(request, ref)

    def danfse(self, access_key: str, ref: str) -> bytes | None:
        self.last_calls = []
        return None

    def test_connection(self) -> dict[str, Any]:
        result = super().test_connection()
        result["message"] = "sandbox: " + result["message"].replace(
            "mutual TLS handshake accepted; ", "simulated authority reachable; ")
        result["sandbox"] = True
        return result
