"""SVRS NFCom client: SOAP 1.2 over mutual TLS with the tenant's A1 certificate.

One synchronous call per document (NFComRecepcao, gzip+base64 data area), plus NFComConsulta
(by key), NFComStatusServico and NFComRecepcaoEvento (cancellation 110111). The transport is
pluggable: `HttpTransport` (httpx, mTLS) for the real authority and the fake server, and the
sandbox's in-process transport. Every exchange becomes a sanitized `CallRecord` (the gzip area
is logged by size, never the certificate).

After a timeout on reception the outcome is unknown: the emission is retried by the caller,
which first consults the key; an "already authorized" answer (204 with the same key) is turned
into a consult that returns the original protocol.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from lxml import etree

from retaguarda.fiscal.backends.base import BackendConfigError, CallRecord, TransientBackendError
from retaguarda.fiscal.certificates import A1Certificate
from retaguarda.fiscal.nfcom import sign as S
from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.backends import soap
from retaguarda.fiscal.nfcom.backends.base import AUTHORIZED, DENIED, CancelOutcome, EmitOutcome

Transport = Callable[[str, bytes, dict[str, str]], tuple[int, dict[str, str], bytes]]
MAX_LOGGED = 4000


def _t(el: etree._Element | None, path: str) -> str:
    if el is None:
        return ""
    return (el.findtext("/".join(f"{{{X.NS}}}{p}" for p in path.split("/"))) or "").strip()


class HttpTransport:
    """POSTs an envelope with httpx over mutual TLS (client certificate = the tenant's A1)."""

    def __init__(
        self, certificate: A1Certificate, *, timeout: float = 30.0, ca_bundle: str | None = None
    ) -> None:
        self._client = httpx.Client(verify=certificate.ssl_context(ca_bundle), timeout=timeout, http2=False)

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        r = self._client.post(url, content=body, headers=headers)
        return r.status_code, dict(r.headers), r.content

    def close(self) -> None:
        self._client.close()


class SvrsBackend:
    name = "svrs"
    label = "SVRS (SEFAZ Virtual do RS) — SOAP 1.2 with the A1 certificate"

    def __init__(
        self,
        *,
        certificate: A1Certificate | None,
        environment: str,
        clock: Any,
        base_url: str | None = None,
        transport: Transport | None = None,
        timeout: float = 30.0,
        ca_bundle: str | None = None,
        **_: Any,
    ) -> None:
        if certificate is None:
            raise BackendConfigError("SVRS needs the tenant's A1 certificate: upload it first")
        if environment not in X.ENVIRONMENTS:
            raise BackendConfigError(f"unknown NFCom environment {environment!r}")
        self.certificate = certificate
        self.environment = environment
        self.clock = clock
        self.base_url = (base_url or soap.URLS[environment]).rstrip("/")
        self.transport: Transport = transport or HttpTransport(
            certificate, timeout=timeout, ca_bundle=ca_bundle
        )
        self.calls: list[CallRecord] = []

    # Plumbing ----------------------------------------------------------------------------------
    def _call(
        self, operation: str, service: soap.Service, payload: etree._Element | str, logged: str
    ) -> etree._Element:
        url = self.base_url + service.path()
        record = CallRecord(
            operation=operation,
            method="POST",
            url=url,
            request=logged[:MAX_LOGGED],
            status=None,
            response=None,
            duration_ms=0,
            started_at=self.clock.now(),
        )
        self.calls.append(record)
        t0 = time.perf_counter()
        try:
            status, headers, content = self.transport(
                url, soap.envelope(service, payload), {"Content-Type": soap.content_type(service)}
            )
        except httpx.TimeoutException as exc:
            record.duration_ms = int((time.perf_counter() - t0) * 1000)
            record.error = f"timeout: {type(exc).__name__}"
            raise TransientBackendError(
                f"{operation}: timeout talking to SVRS", calls=self.take_calls()
            ) from None
        except (httpx.TransportError, OSError) as exc:
            record.duration_ms = int((time.perf_counter() - t0) * 1000)
            record.error = f"connection error: {type(exc).__name__}: {str(exc)[:200]}"
            raise TransientBackendError(
                f"{operation}: connection error ({type(exc).__name__})", calls=self.take_calls()
            ) from None
        record.duration_ms = int((time.perf_counter() - t0) * 1000)
        record.status = status
        text = content.decode("utf-8", errors="replace")
        record.response = text[:MAX_LOGGED] + ("…" if len(text) > MAX_LOGGED else "")
        if status == 429 or (status >= 500 and b"Fault" not in content):
            record.error = f"HTTP {status}"
            retry_after = headers.get("retry-after") or headers.get("Retry-After")
            raise TransientBackendError(
                f"{operation}: SVRS answered HTTP {status}",
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
                calls=self.take_calls(),
            )
        try:
            return soap.response_payload(service, content)
        except soap.SoapError as exc:
            record.error = f"malformed answer: {exc}"
            raise TransientBackendError(
                f"{operation}: unreadable answer from SVRS ({exc})", calls=self.take_calls()
            ) from None

    def take_calls(self) -> list[CallRecord]:
        calls, self.calls = self.calls, []
        return calls

    # Port ----------------------------------------------------------------------------------------
    def signed(self, request: X.NfcomRequest) -> bytes:
        """Built, signed, serialized and validated again from its bytes, before anything is sent."""
        doc = S.sign(X.build_nfcom(request), self.certificate)
        data = X.to_bytes(doc)
        X.validate(X.parse(data))
        return data

    def emit(self, request: X.NfcomRequest, ref: str) -> EmitOutcome:
        self.calls = []
        key = request.access_key
        try:
            signed = self.signed(request)
        except X.NfcomXmlError as exc:
            return EmitOutcome(
                status="rejected",
                access_key=key,
                cstat="215",
                reason=f"Falha no schema XML (local): {exc.errors[0][:200]}",
            )
        data = soap.pack(signed)
        answer = self._call("emit", soap.RECEPTION, data, f"NFCom {key} (<{len(data)} base64 chars, gzip>)")
        return self._emission(answer, key, signed)

    def _emission(self, answer: etree._Element, key: str, signed: bytes) -> EmitOutcome:
        cstat, reason = _t(answer, "cStat"), _t(answer, "xMotivo")
        prot = answer.find(f"{{{X.NS}}}protNFCom")
        if prot is not None:
            cstat, reason = _t(prot, "infProt/cStat") or cstat, _t(prot, "infProt/xMotivo") or reason
        if cstat in AUTHORIZED and prot is not None:
            proc = X.processed(X.parse(signed), prot)
            return EmitOutcome(
                status="authorized",
                access_key=key,
                protocol=_t(prot, "infProt/nProt"),
                cstat=cstat,
                reason=reason,
                xml=signed.decode(),
                authorized_at=datetime.fromisoformat(_t(prot, "infProt/dhRecbto")),
                proc_xml=X.to_bytes(proc).decode(),
                calls=self.take_calls(),
            )
        if cstat == "204" and re.search(r"nProt:\d{16}", reason):
            # the same key was authorized before (our earlier attempt whose answer was lost)
            found = self.consult(key, "", signed=signed, keep_calls=True)
            if found.status == "authorized":
                return found
        if cstat in DENIED:
            return EmitOutcome(
                status="denied",
                access_key=key,
                cstat=cstat,
                reason=reason,
                xml=signed.decode(),
                calls=self.take_calls(),
            )
        return EmitOutcome(
            status="rejected",
            access_key=key,
            cstat=cstat,
            reason=reason,
            xml=signed.decode(),
            calls=self.take_calls(),
        )

    def consult(
        self, access_key: str, ref: str, *, signed: bytes | None = None, keep_calls: bool = False
    ) -> EmitOutcome:
        if not keep_calls:
            self.calls = []
        message = X.build_consult(access_key, self.environment)
        answer = self._call("consult", soap.CONSULT, message, X.to_bytes(message).decode())
        cstat, reason = _t(answer, "cStat"), _t(answer, "xMotivo")
        wrapper = answer.find(f"{{{X.NS}}}protNFCom")
        prot = wrapper[0] if wrapper is not None and len(wrapper) else None
        if cstat in ("100", "150", "101") and prot is not None:
            out = EmitOutcome(
                status="authorized",
                access_key=access_key,
                protocol=_t(prot, "infProt/nProt"),
                cstat=_t(prot, "infProt/cStat"),
                reason=_t(prot, "infProt/xMotivo"),
                cancelled=cstat == "101",
                authorized_at=datetime.fromisoformat(_t(prot, "infProt/dhRecbto")),
            )
            if signed is not None:
                out.xml = signed.decode()
                out.proc_xml = X.to_bytes(X.processed(X.parse(signed), prot)).decode()
            out.calls = self.take_calls()
            return out
        if cstat == "217":
            return EmitOutcome(
                status="unknown", access_key=access_key, cstat=cstat, reason=reason, calls=self.take_calls()
            )
        return EmitOutcome(
            status="rejected", access_key=access_key, cstat=cstat, reason=reason, calls=self.take_calls()
        )

    def cancel(self, access_key: str, protocol: str, reason: str, at: datetime, ref: str) -> CancelOutcome:
        self.calls = []
        issuer_cnpj = access_key[6:20]
        event = X.build_cancel_event(
            key=access_key,
            environment=self.environment,
            cnpj=issuer_cnpj,
            protocol=protocol,
            reason=reason,
            at=at,
        )
        S.sign(event, self.certificate)
        signed = X.to_bytes(event)
        X.validate(X.parse(signed))
        answer = self._call("cancel", soap.EVENT, X.parse(signed), signed.decode())
        cstat, motive = _t(answer, "infEvento/cStat"), _t(answer, "infEvento/xMotivo")
        if cstat in ("135", "136", "155"):
            import copy

            proc = etree.Element(f"{{{X.NS}}}procEventoNFCom", nsmap={None: X.NS})
            proc.set("versao", X.VERSION)
            proc.append(X.parse(signed))
            proc.append(copy.deepcopy(answer))
            return CancelOutcome(
                status="cancelled",
                cstat=cstat,
                reason=motive,
                protocol=_t(answer, "infEvento/nProt"),
                event_xml=X.to_bytes(proc).decode(),
                calls=self.take_calls(),
            )
        if cstat == "218":  # already cancelled: our earlier attempt went through
            return CancelOutcome(
                status="cancelled",
                cstat=cstat,
                reason=motive,
                protocol=(re.findall(r"nProt:(\d{16})", motive) or [""])[0],
                event_xml=signed.decode(),
                calls=self.take_calls(),
            )
        return CancelOutcome(status="rejected", cstat=cstat, reason=motive, calls=self.take_calls())

    def status(self) -> dict[str, Any]:
        self.calls = []
        message = X.build_status(self.environment)
        try:
            answer = self._call("status", soap.STATUS, message, X.to_bytes(message).decode())
        except TransientBackendError as exc:
            return {
                "ok": False,
                "backend": self.name,
                "message": str(exc),
                "calls": [c.as_dict() for c in exc.calls],
            }
        cstat = _t(answer, "cStat")
        return {
            "ok": cstat == "107",
            "backend": self.name,
            "cstat": cstat,
            "message": _t(answer, "xMotivo"),
            "calls": [c.as_dict() for c in self.take_calls()],
        }
