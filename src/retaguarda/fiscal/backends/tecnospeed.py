"""TecnoSpeed PlugNotas NFS-e, with the `x-api-key` header (never logged).

- emit: `POST /nfse` with a JSON array of one note (`idIntegracao` = our ref) -> `documents[0].id`
  -> poll `GET /nfse/{id}` with backoff; status PROCESSANDO -> 'processing', CONCLUIDO ->
  'authorized', REJEITADO -> 'rejected' (its message verbatim), CANCELADO -> authorized+cancelled;
  an unknown status is left 'processing' (needs review, never guessed as authorized);
  a 409 for an `idIntegracao` already sent is followed by a consult by idIntegracao + CNPJ;
- consult: `GET /nfse/consultar/{idIntegracao}/{cnpj}` -> id -> `GET /nfse/{id}`;
- cancel: `POST /nfse/cancelar/{id}` (asynchronous) -> poll the note until CANCELADO;
- DANFSe: `GET /nfse/pdf/{id}`; XML: `GET /nfse/xml/{id}`;
- webhook (account level, `POST /webhook`): `webhook_ref(payload)` reads idIntegracao; the caller
  consults before trusting it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from retaguarda.fiscal.backends.base import CancellationOutcome, DpsRequest, EmissionOutcome, TransientBackendError
from retaguarda.fiscal.backends.http import Exchanger, json_of
from retaguarda.fiscal.errors_map import local_error, read_errors
from retaguarda.shared.clock import parse_instant
from retaguarda.fiscal.taxes import cents


def _money(v: Any) -> float | str:
    return f"{cents(v):.2f}"


class PlugNotasBackend:
    name = "tecnospeed"
    label = "TecnoSpeed PlugNotas"

    def __init__(self, *, base_url: str, api_key: str, issuer_cnpj: str, environment: str, clock: Any,
                 timeout: float = 30.0, poll_attempts: int = 4, poll_interval: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, **_: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer_cnpj = re.sub(r"[.\-/\s]", "", issuer_cnpj or "")
        self.environment = environment
        self.clock = clock
        self.poll_attempts = poll_attempts
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.http = Exchanger(lambda: httpx.Client(
            timeout=timeout, headers={"x-api-key": api_key, "Accept": "application/json"}), clock)

    def close(self) -> None:
        self.http.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def body(self, r: DpsRequest, ref: str) -> list[dict[str, Any]]:
        i, t = r.issuer, r.tomador
        tomador: dict[str, Any] = {"cpfCnpj": re.sub(r"[.\-/\s]", "", t.document), "razaoSocial": t.name}
        if t.email:
            tomador["email"] = t.email
        if t.street and t.municipality_ibge:
            tomador["endereco"] = {"logradouro": t.street, "numero": t.number or "S/N",
                                   "bairro": t.district or "", "codigoCidade": t.municipality_ibge,
                                   "estado": t.uf or "", "cep": re.sub(r"\D", "", t.cep or "")}
        servico: dict[str, Any] = {
            "codigo": r.service_code, "codigoTributacao": r.service_code, "discriminacao": r.description,
            "codigoCidadeIncidencia": r.municipality_ibge,
            "iss": {"tipoTributacao": 1, "exigibilidade": 1, "retido": r.iss_withheld,
                    "aliquota": _money(r.iss_rate)},
            "valor": {"servico": _money(r.amount), "deducoes": _money(r.deductions)},
        }
        if r.nbs:
            servico["codigoNbs"] = r.nbs
        if r.ibscbs is not None:
            g = r.ibscbs
            servico["ibscbs"] = {"cst": g.situation, "classificacaoTributaria": g.classification_code,
                                 "codigoIndicadorOperacao": g.operation_indicator,
                                 "baseCalculo": _money(g.base), "aliquotaCbs": _money(g.cbs_rate),
                                 "aliquotaIbsUf": _money(g.ibs_uf_rate), "aliquotaIbsMun": _money(g.ibs_mun_rate)}
        return [{"idIntegracao": ref,
                 "prestador": {"cpfCnpj": re.sub(r"\D", "", i.document)},
                 "tomador": tomador, "servico": [servico],
                 "rps": {"serie": r.series, "numero": r.number,
                         "dataEmissao": r.issued_at.isoformat(), "competencia": r.competence.isoformat()},
                 "enviarEmail": False}]

    # ------------------------------------------------------------------ emission

    def emit(self, request: DpsRequest, ref: str) -> EmissionOutcome:
        resp = self.http.send("emit", "POST", self._url("/nfse"), json_body=self.body(request, ref))
        data = json_of(self.http, resp, "emit")
        if resp.status == 409:
            return self.consult(ref, None)
        if resp.status not in (200, 201, 202):
            return EmissionOutcome(status="rejected", errors=read_errors(data) or [
                {"code": str(resp.status), "message": str(data)[:500]}], provider_ref=ref,
                calls=self.http.take_calls())
        try:
            doc_id = str(data["documents"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise self.http.malformed("emit", "no documents[0].id") from None
        return self._poll(doc_id, ref)

    def _poll(self, doc_id: str, ref: str, until: tuple[str, ...] = ("CONCLUIDO", "REJEITADO", "CANCELADO")
              ) -> EmissionOutcome:
        delay = self.poll_interval
        outcome = None
        for attempt in range(max(1, self.poll_attempts)):
            if attempt:
                self.sleep(delay)
                delay *= 2
            outcome = self._get(doc_id, ref)
            if outcome.raw_status in until:
                break
        assert outcome is not None
        outcome.calls = self.http.take_calls()
        return outcome

    def _get(self, doc_id: str, ref: str) -> _Outcome:
        resp = self.http.send("consult", "GET", self._url(f"/nfse/{quote(doc_id)}"))
        data = json_of(self.http, resp, "consult")
        if isinstance(data, list):
            data = data[0] if data else {}
        if resp.status != 200 or not isinstance(data, dict):
            return _Outcome(status="rejected", provider_ref=doc_id, errors=read_errors(data), raw_status="")
        status = str(data.get("status") or data.get("situacao") or "").upper()
        retorno = data.get("retorno") or {}
        if status in ("CONCLUIDO", "CANCELADO"):
            xml = None
            r = self.http.send("xml", "GET", self._url(f"/nfse/xml/{quote(doc_id)}"))
            if r.status == 200:
                xml = r.text
            when = retorno.get("dataAutorizacao")
            try:
                at = parse_instant(str(when)) if when else None
            except ValueError:
                at = None
            return _Outcome(status="authorized", raw_status=status, provider_ref=doc_id,
                            access_key=data.get("chaveAcesso") or retorno.get("chaveAcesso")
                            or retorno.get("codigoVerificacao"),
                            number=str(data.get("numeroNfse") or retorno.get("numeroNfse") or "") or None,
                            authorized_at=at, nfse_xml=xml, danfse_url=data.get("pdf"),
                            cancelled=status == "CANCELADO")
        if status == "REJEITADO":
            message = retorno.get("mensagemRetorno") or data.get("mensagem") or "Rejeitado"
            errors = read_errors(data) or [{"code": str(retorno.get("codigo") or "REJEITADO"),
                                            "message": str(message)}]
            return _Outcome(status="rejected", raw_status=status, provider_ref=doc_id, errors=errors)
        return _Outcome(status="processing", raw_status=status, provider_ref=doc_id)

    def _find_id(self, ref: str) -> str | None:
        resp = self.http.send("consult", "GET",
                              self._url(f"/nfse/consultar/{quote(ref)}/{self.issuer_cnpj}"))
        if resp.status != 200:
            return None
        data = json_of(self.http, resp, "consult")
        items = data if isinstance(data, list) else [data]
        for item in items:
            if isinstance(item, dict) and item.get("id"):
                return str(item["id"])
        return None

    def consult(self, ref: str, access_key: str | None) -> EmissionOutcome:
        doc_id = self._find_id(ref)
        if doc_id is None:
            return EmissionOutcome(status="rejected", provider_ref=ref, calls=self.http.take_calls(),
                                   errors=[local_error("nao_encontrado", "PlugNotas does not know this note")])
        outcome = self._get(doc_id, ref)
        outcome.calls = self.http.take_calls()
        return outcome

    # ------------------------------------------------------------------ cancellation

    def cancel(self, access_key: str, reason_code: str, reason: str, ref: str) -> CancellationOutcome:
        doc_id = self._find_id(ref)
        if doc_id is None:
            return CancellationOutcome(status="rejected", calls=self.http.take_calls(),
                                       errors=[local_error("nao_encontrado", "PlugNotas does not know this note")])
        resp = self.http.send("cancel", "POST", self._url(f"/nfse/cancelar/{quote(doc_id)}"),
                              json_body={"codigo": reason_code, "motivo": reason})
        data = json_of(self.http, resp, "cancel")
        if resp.status not in (200, 201, 202):
            return CancellationOutcome(status="rejected", errors=read_errors(data) or [
                {"code": str(resp.status), "message": str(data)[:500]}], calls=self.http.take_calls())
        outcome = self._poll(doc_id, ref, until=("CANCELADO",))
        status = "cancelled" if outcome.cancelled else "processing"
        return CancellationOutcome(status=status, calls=outcome.calls)

    def danfse(self, access_key: str, ref: str) -> bytes | None:
        doc_id = self._find_id(ref)
        pdf = None
        if doc_id:
            r = self.http.send("danfse", "GET", self._url(f"/nfse/pdf/{quote(doc_id)}"))
            if r.status == 200 and r.content[:5] == b"%PDF-":
                pdf = r.content
        self.last_calls = self.http.take_calls()
        return pdf

    def test_connection(self) -> dict[str, Any]:
        try:
            resp = self.http.send("test_connection", "GET", self._url("/nfse/cidades"))
        except TransientBackendError as exc:
            return {"ok": False, "backend": self.name, "message": str(exc),
                    "calls": [c.as_dict() for c in exc.calls]}
        ok = resp.status == 200
        return {"ok": ok, "backend": self.name,
                "message": "API key accepted" if ok else f"PlugNotas answered HTTP {resp.status}",
                "calls": [c.as_dict() for c in self.http.take_calls()]}

    def register_webhook(self, url: str) -> dict[str, Any]:
        resp = self.http.send("register_webhook", "POST", self._url("/webhook"),
                              json_body={"url": url, "method": "POST"})
        return {"ok": resp.status in (200, 201), "calls": [c.as_dict() for c in self.http.take_calls()]}

    @staticmethod
    def webhook_ref(payload: Any) -> str | None:
        if isinstance(payload, dict):
            value = payload.get("idIntegracao") or (payload.get("data") or {}).get("idIntegracao")
            return str(value) if value else None
        return None


class _Outcome(EmissionOutcome):
    def __init__(self, *, raw_status: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.raw_status = raw_status
