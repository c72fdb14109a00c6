"""Sandbox: the SVRS client's whole pipeline (build, XSD-validate, sign, gzip+base64, SOAP 1.2
envelope) with only the socket replaced by an in-process call to the SimulatedSvrs. No network.

Without an uploaded certificate it signs with the process-wide sandbox A1 of the issuer's CNPJ
(the same test CA the NFS-e sandbox uses). One simulated authority per environment and scope.
"""

from __future__ import annotations

import threading
from typing import Any

from retaguarda.fiscal.certificates import A1Certificate
from retaguarda.fiscal.nfcom.backends import soap
from retaguarda.fiscal.nfcom.backends.authority import SimulatedSvrs
from retaguarda.fiscal.nfcom.backends.svrs import SvrsBackend

SANDBOX_URL = "sandbox://nfcom-svrs.simulada"
_lock = threading.Lock()
_authorities: dict[tuple[str, int], SimulatedSvrs] = {}


def sandbox_authority(environment: str, clock: Any = None, scope: Any = None) -> SimulatedSvrs:
    key = (environment, id(scope))
    with _lock:
        found = _authorities.get(key)
        if found is None:
            if len(_authorities) > 256:
                _authorities.clear()
            found = _authorities[key] = SimulatedSvrs(environment=environment, clock=clock)
        return found


def serve(authority: SimulatedSvrs, body: bytes) -> bytes:
    """One SOAP exchange with the simulated authority (used in process and by the fake server)."""
    try:
        service, payload = soap.request_payload(body)
    except soap.SoapError as exc:
        return soap.fault(str(exc))
    if service is soap.RECEPTION:
        answer = authority.reception(payload if isinstance(payload, str) else "")
    elif isinstance(payload, str):
        return soap.fault("this service takes an XML message")
    elif service is soap.CONSULT:
        answer = authority.consult(payload)
    elif service is soap.STATUS:
        answer = authority.status(payload)
    else:
        answer = authority.event(payload)
    return soap.result(service, answer)


class SandboxBackend(SvrsBackend):
    name = "sandbox"
    label = "Sandbox (simulated SVRS — nothing is sent to the authority)"

    def __init__(
        self,
        *,
        certificate: A1Certificate | None,
        issuer_cnpj: str,
        environment: str,
        clock: Any,
        authority: SimulatedSvrs | None = None,
        scope: Any = None,
        **options: Any,
    ) -> None:
        from retaguarda.fiscal.backends.sandbox import sandbox_certificate

        self.authority = authority or sandbox_authority(environment, clock, scope)
        self.generated_certificate = certificate is None
        cert = certificate or sandbox_certificate(issuer_cnpj, "SANDBOX NFCOM ISSUER")

        def transport(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
            return 200, {"content-type": "application/soap+xml; charset=utf-8"}, serve(self.authority, body)

        super().__init__(
            certificate=cert, environment=environment, clock=clock, base_url=SANDBOX_URL, transport=transport
        )
