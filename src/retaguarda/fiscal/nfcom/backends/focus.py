"""Focus NFe's NFCom gateway (`/v2/nfcom`): JSON over HTTPS, HTTP Basic with the token as user.

    POST   /v2/nfcom?ref=REF            -> 202 {"status": "processando_autorizacao"} (asynchronous)
    GET    /v2/nfcom/REF?completa=1     -> status autorizado | erro_autorizacao | denegado | cancelado
    DELETE /v2/nfcom/REF {"justificativa"} -> cancelado | erro_cancelamento

Focus builds, signs and transmits the XML; we send our series and gap-free number so the key
Focus composes matches the NFCom's place in our sequence. `ref` is our NFCom id (idempotent: a
ref already in use is answered 422 and we consult it instead of sending again). After the POST
the client polls a few times; still processing -> TransientBackendError, and the actor's retry
consults again with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from retaguarda.fiscal.backends.base import BackendConfigError, CallRecord, TransientBackendError
from retaguarda.fiscal.nfcom import xml as X
from retaguarda.fiscal.nfcom.backends.base import CancelOutcome, EmitOutcome

URLS = {"producao": "https://api.focusnfe.com.br", "homologacao": "https://homologacao.focusnfe.com.br"}
MAX_LOGGED = 4000
_PROCESSING = ("processando_autorizacao", "em_processamento")


def _doc(value: str) -> dict[str, str]:
    return {"cnpj_destinatario": value} if len(value) == 14 else {"cpf_destinatario": value}


def payload(r: X.NfcomRequest) -> dict[str, Any]:
    """Our request as Focus's NFCom JSON (field names of Focus's 2023 example)."""
    i, d, s = r.issuer, r.recipient, r.subscriber
    ie = d.state_registration.strip().upper()
    items = []
    for n, item in enumerate(r.items, start=1):
        total = (item.unit_price * item.quantity - item.discount).quantize(Decimal("0.01"))
        items.append(
            {
                "numero_item": n,
                "codigo_produto": item.code,
                "descricao": item.description,
                "classificacao": item.cclass,
                "cfop": item.cfop,
                "unidade_medida": X.UNITS[item.unit],
                "quantidade_fatura": str(item.quantity),
                "valor_item": X.unit_price_text(item.unit_price),
                "valor_desconto": X.dec2(item.discount),
                "valor_produtos": X.dec2(total),
                "icms_aliquota": X.dec2(r.taxes.icms_rate),
                "pis_aliquota": X.rate4(r.taxes.pis_rate),
                "cofins_aliquota": X.rate4(r.taxes.cofins_rate),
                "fust_aliquota": X.rate4(r.taxes.fust_rate),
                "funttel_aliquota": X.rate4(r.taxes.funttel_rate),
            }
        )
    body: dict[str, Any] = {
        "data_emissao": X.dh(r.issued_at),
        "serie": str(r.series),
        "numero": str(r.number),
        "numero_site": str(r.site),
        "tipo_faturamento": "0",
        "finalidade_nfcom": "0",
        "cnpj_emitente": i.cnpj,
        "inscricao_estadual_emitente": i.state_registration,
        "nome_emitente": i.name,
        "regime_tributario_emitente": str(i.crt),
        "logradouro_emitente": i.address.street,
        "numero_emitente": i.address.number,
        "bairro_emitente": i.address.district,
        "codigo_municipio_emitente": i.address.municipality_ibge,
        "municipio_emitente": i.address.city,
        "uf_emitente": i.address.uf,
        "cep_emitente": i.address.cep,
        "nome_destinatario": d.name,
        **_doc(d.document),
        "indicador_ie_destinatario": "9" if not ie else ("2" if ie == "ISENTO" else "1"),
        "logradouro_destinatario": d.address.street,
        "numero_destinatario": d.address.number,
        "bairro_destinatario": d.address.district,
        "codigo_municipio_destinatario": d.address.municipality_ibge,
        "municipio_destinatario": d.address.city,
        "uf_destinatario": d.address.uf,
        "cep_destinatario": d.address.cep,
        "codigo_assinante": s.code,
        "tipo_assinante": str(s.kind),
        "tipo_servico": str(s.service_type),
        "numero_contrato": s.contract,
        "data_inicio_contrato": s.contract_start.isoformat() if s.contract_start else None,
        "itens": items,
    }
    if r.billing is not None:
        body.update(
            {
                "competencia_fatura": f"{r.billing.competence:%Y%m}",
                "data_vencimento_fatura": r.billing.due_date.isoformat(),
                "codigo_barras": r.billing.barcode,
                "url_qrcode_pix": r.billing.pix_url or None,
            }
        )
    return {k: v for k, v in body.items() if v not in (None, "")}


class FocusNfcomBackend:
    name = "focus_nfe"
    label = "Focus NFe (/v2/nfcom)"

    def __init__(
        self,
        *,
        base_url: str | None,
        token: str,
        environment: str,
        clock: Any,
        timeout: float = 20.0,
        poll_attempts: int = 5,
        poll_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        **_: Any,
    ) -> None:
        self.base_url = (base_url or URLS[environment]).rstrip("/")
        self.environment = environment
        self.clock = clock
        self.poll_attempts = poll_attempts
        self.poll_interval = poll_interval
        self.sleep = sleep
        self._client = httpx.Client(auth=(token, ""), timeout=timeout)
        self.calls: list[CallRecord] = []

    def take_calls(self) -> list[CallRecord]:
        calls, self.calls = self.calls, []
        return calls

    def _send(self, operation: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        import json

        url = self.base_url + path
        logged = json.dumps(body, ensure_ascii=False)[:MAX_LOGGED] if body is not None else None
        record = CallRecord(
            operation=operation,
            method=method,
            url=url,
            request=logged,
            status=None,
            response=None,
            duration_ms=0,
            started_at=self.clock.now(),
        )
        self.calls.append(record)
        t0 = time.perf_counter()
        try:
            resp = self._client.request(method, url, json=body)
        except httpx.TimeoutException as exc:
            record.duration_ms = int((time.perf_counter() - t0) * 1000)
            record.error = f"timeout: {type(exc).__name__}"
            raise TransientBackendError(
                f"{operation}: timeout talking to Focus NFe", calls=self.take_calls()
            ) from None
        except httpx.TransportError as exc:
            record.duration_ms = int((time.perf_counter() - t0) * 1000)
            record.error = f"connection error: {type(exc).__name__}"
            raise TransientBackendError(
                f"{operation}: connection error ({type(exc).__name__})", calls=self.take_calls()
            ) from None
        record.duration_ms = int((time.perf_counter() - t0) * 1000)
        record.status = resp.status_code
        record.response = resp.text[:MAX_LOGGED]
        if resp.status_code == 401:
            record.error = "HTTP 401"
            self.calls = []
            raise BackendConfigError("Focus NFe refused the API token (HTTP 401): check it in the settings")
        if resp.status_code == 429 or resp.status_code >= 500:
            record.error = f"HTTP {resp.status_code}"
            after = resp.headers.get("retry-after")
            raise TransientBackendError(
                f"{operation}: Focus NFe answered HTTP {resp.status_code}",
                retry_after=float(after) if after and after.isdigit() else None,
                calls=self.take_calls(),
            )
        try:
            data = resp.json() if resp.content else {}
        except ValueError:
            record.error = "malformed answer"
            raise TransientBackendError(
                f"{operation}: unreadable answer from Focus NFe", calls=self.take_calls()
            ) from None
        return resp.status_code, data

    def emit(self, request: X.NfcomRequest, ref: str) -> EmitOutcome:
        self.calls = []
        status, data = self._send("emit", "POST", f"/v2/nfcom?ref={ref}", payload(request))
        if status in (400, 403) or (
            status == 422
            and data.get("codigo") not in ("em_processamento", "nfe_autorizada", "already_processed")
        ):
            return EmitOutcome(
                status="rejected",
                access_key=request.access_key,
                cstat=str(data.get("codigo") or status),
                reason=str(data.get("mensagem") or data)[:255],
                calls=self.take_calls(),
            )
        for attempt in range(self.poll_attempts):
            if attempt:
                self.sleep(self.poll_interval)
            out = self._consult(ref, request.access_key)
            if out is not None:
                return out
        raise TransientBackendError("emit: Focus NFe is still processing the NFCom", calls=self.take_calls())

    def _consult(self, ref: str, key: str) -> EmitOutcome | None:
        status, data = self._send("consult", "GET", f"/v2/nfcom/{ref}?completa=1")
        if status == 404:
            return EmitOutcome(
                status="unknown",
                access_key=key,
                cstat="404",
                reason=str(data.get("mensagem") or "not found"),
                calls=self.take_calls(),
            )
        state = str(data.get("status") or "")
        if state in _PROCESSING:
            return None
        cstat, reason = str(data.get("status_sefaz") or ""), str(data.get("mensagem_sefaz") or "")
        if state in ("autorizado", "cancelado"):
            xml = ""
            if data.get("caminho_xml"):
                code, body = self._fetch(str(data["caminho_xml"]))
                xml = body if code == 200 else ""
            received = data.get("data_autorizacao") or data.get("data_emissao")
            return EmitOutcome(
                status="authorized",
                access_key=str(data.get("chave") or key),
                protocol=str(data.get("protocolo") or ""),
                cstat=cstat or "100",
                reason=reason,
                authorized_at=datetime.fromisoformat(received) if received else None,
                xml=xml,
                proc_xml=xml,
                cancelled=state == "cancelado",
                calls=self.take_calls(),
            )
        if state == "denegado":
            return EmitOutcome(
                status="denied", access_key=key, cstat=cstat, reason=reason, calls=self.take_calls()
            )
        return EmitOutcome(
            status="rejected",
            access_key=key,
            cstat=cstat or state,
            reason=reason or state,
            calls=self.take_calls(),
        )

    def _fetch(self, path: str) -> tuple[int, str]:
        url = path if path.startswith("http") else self.base_url + path
        record = CallRecord(
            operation="xml",
            method="GET",
            url=url,
            request=None,
            status=None,
            response=None,
            duration_ms=0,
            started_at=self.clock.now(),
        )
        self.calls.append(record)
        try:
            resp = self._client.get(url)
        except httpx.HTTPError as exc:
            record.error = f"{type(exc).__name__}"
            return 0, ""
        record.status = resp.status_code
        record.response = f"<{len(resp.content)} bytes>"
        return resp.status_code, resp.text

    def consult(self, access_key: str, ref: str, **_: Any) -> EmitOutcome:
        self.calls = []
        out = self._consult(ref, access_key)
        if out is None:
            return EmitOutcome(status="processing", access_key=access_key, calls=self.take_calls())
        return out

    def cancel(self, access_key: str, protocol: str, reason: str, at: datetime, ref: str) -> CancelOutcome:
        self.calls = []
        status, data = self._send("cancel", "DELETE", f"/v2/nfcom/{ref}", {"justificativa": reason})
        state = str(data.get("status") or data.get("codigo") or "")
        if state in ("cancelado", "nfe_cancelada"):
            return CancelOutcome(
                status="cancelled",
                cstat=str(data.get("status_sefaz") or "135"),
                reason=str(data.get("mensagem_sefaz") or state),
                protocol=str(data.get("protocolo_cancelamento") or ""),
                event_xml="",
                calls=self.take_calls(),
            )
        return CancelOutcome(
            status="rejected",
            cstat=str(data.get("status_sefaz") or data.get("codigo") or status),
            reason=str(data.get("mensagem_sefaz") or data.get("mensagem") or data)[:255],
            calls=self.take_calls(),
        )

    def status(self) -> dict[str, Any]:
        return {
            "ok": True,
            "backend": self.name,
            "message": "Focus NFe has no status service; emission " "answers tell",
            "calls": [],
        }
