"""Focus NFe, NFS-e Nacional endpoints (`/v2/nfsen`). Asynchronous: the POST only queues.

- auth: HTTP Basic with the token as user and an empty password (never logged);
- emit: `POST /v2/nfsen?ref=REF` (flat JSON) -> poll `GET /v2/nfsen/REF` with exponential
  backoff (`poll_attempts`, `poll_interval`) -> 'authorized' / 'rejected' (erro_autorizacao, its
  `erros` verbatim) / 'processing' (still queued: a webhook or a later consult finishes it);
  a refused POST for a ref that already exists is followed by a consult, so retries are idempotent;
- cancel: `DELETE /v2/nfsen/REF` `{"justificativa"}` (15..255 chars), synchronous;
- DANFSe: the `url_danfse` of the consult; XML: `{base}{caminho_xml_nota_fiscal}`;
- rate limit: every answer carries Rate-Limit-Limit/-Remaining/-Reset; when Remaining reaches 0
  we stop before the next call (TransientBackendError with retry_after = Reset) instead of
  burning a 429; a 429 itself is transient with Retry-After/Rate-Limit-Reset.
Webhooks (`POST /v2/hooks`, event `nfsen`) carry the consult JSON; `webhook_ref(payload)` reads the
ref; the caller must consult before trusting it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from retaguarda.fiscal.backends.base import (
    CancellationOutcome,
    DpsRequest,
    EmissionOutcome,
    TransientBackendError,
)
from retaguarda.fiscal.backends.http import Exchanger, Response, json_of
from retaguarda.fiscal.dps import OP_SIMP_NAC, date_time
from retaguarda.fiscal.errors_map import local_error, read_errors
from retaguarda.fiscal.taxes import cents
from retaguarda.shared.clock import parse_instant

_budget_lock = threading.Lock()
_budgets: dict[int, tuple[int, float]] = {}
"""hash((base URL, token)) -> (remaining credits, monotonic time when the window resets)."""


def _money(v: Any) -> str:
    return f"{cents(v):.2f}"


class FocusNfeBackend:
    name = "focus_nfe"
    label = "Focus NFe (NFS-e Nacional)"

    def __init__(self, *, base_url: str, token: str, issuer_cnpj: str, environment: str, clock: Any,
                 timeout: float = 30.0, poll_attempts: int = 4, poll_interval: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, **_: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._budget_key = hash((self.base_url, token))
        self.issuer_cnpj = re.sub(r"[.\-/\s]", "", issuer_cnpj or "")
        self.environment = environment
        self.clock = clock
        self.poll_attempts = poll_attempts
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.http = _FocusExchanger(
            lambda: httpx.Client(auth=(token, ""), timeout=timeout,
                                 headers={"Accept": "application/json"}), clock, self._budget_key)

    def close(self) -> None:
        self.http.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # ------------------------------------------------------------------ body

    def body(self, r: DpsRequest) -> dict[str, Any]:
        i, t = r.issuer, r.tomador
        doc = re.sub(r"[.\-/\s]", "", t.document or "")
        b: dict[str, Any] = {
            "data_emissao": date_time(r.issued_at),
            "data_competencia": r.competence.isoformat(),
            "codigo_municipio_emissora": r.issuing_municipality_ibge or i.municipality_ibge,
            "cnpj_prestador": re.sub(r"\D", "", i.document),
            "codigo_opcao_simples_nacional": OP_SIMP_NAC.get(i.tax_regime, "1"),
            "regime_especial_tributacao": str(i.special_regime),
            "razao_social_tomador": t.name,
            "codigo_municipio_prestacao": r.municipality_ibge,
            "codigo_tributacao_nacional_iss": r.service_code,
            "descricao_servico": r.description,
            "valor_servico": _money(r.amount),
            "tributacao_iss": "1",
            "tipo_retencao_iss": "2" if r.iss_withheld else "1",
        }
        if i.municipal_registration:
            b["inscricao_municipal_prestador"] = i.municipal_registration
        b["cpf_tomador" if len(doc) == 11 else "cnpj_tomador"] = doc
        for key, value in (("email_tomador", t.email), ("codigo_municipio_tomador", t.municipality_ibge),
                           ("cep_tomador", re.sub(r"\D", "", t.cep or "") or None),
                           ("logradouro_tomador", t.street), ("numero_tomador", t.number),
                           ("bairro_tomador", t.district), ("complemento_tomador", t.complement),
                           ("telefone_tomador", re.sub(r"\D", "", t.phone or "") or None)):
            if value:
                b[key] = value
        if r.nbs:
            b["codigo_nbs"] = r.nbs
        if r.iss_rate:
            b["aliquota_iss"] = _money(r.iss_rate)
        if r.deductions:
            b["valor_deducoes"] = _money(r.deductions)
        if r.ibscbs is not None:
            g = r.ibscbs
            b.update({"codigo_indicador_operacao": g.operation_indicator,
                      "ibs_cbs_classificacao_tributaria": g.classification_code,
                      "ibs_cbs_situacao_tributaria": g.situation,
                      "ibs_cbs_base_calculo": _money(g.base), "cbs_aliquota": _money(g.cbs_rate),
                      "ibs_uf_aliquota": _money(g.ibs_uf_rate), "ibs_mun_aliquota": _money(g.ibs_mun_rate),
                      "cbs_valor": _money(g.cbs_value), "ibs_uf_valor": _money(g.ibs_uf_value),
                      "ibs_mun_valor": _money(g.ibs_mun_value)})
        return b

    # ------------------------------------------------------------------ emission

    def emit(self, request: DpsRequest, ref: str) -> EmissionOutcome:
        body = self.body(request)
        resp = self.http.send("emit", "POST", self._url(f"/v2/nfsen?ref={quote(ref)}"), json_body=body)
        data = json_of(self.http, resp, "emit")
        if resp.status not in (200, 201, 202):
            # the ref may already exist (a retry): the consult tells what happened to it
            existing = self._consult_once(ref)
            if existing is not None and existing.status != "missing":
                return existing
            return EmissionOutcome(status="rejected", errors=read_errors(data), provider_ref=ref,
                                   calls=self.http.take_calls())
        return self._poll(ref)

    def _poll(self, ref: str) -> EmissionOutcome:
        delay = self.poll_interval
        outcome: EmissionOutcome | None = None
        for attempt in range(max(1, self.poll_attempts)):
            if attempt:
                self.sleep(delay)
                delay *= 2
            outcome = self._consult_once(ref, keep_calls=True)
            if outcome is not None and outcome.status not in ("processing", "missing"):
                break
        assert outcome is not None
        if outcome.status == "missing":
            outcome.status = "processing"
        outcome.calls = self.http.take_calls()
        return outcome

    def _consult_once(self, ref: str, keep_calls: bool = True) -> EmissionOutcome | None:
        resp = self.http.send("consult", "GET", self._url(f"/v2/nfsen/{quote(ref)}"))
        data = json_of(self.http, resp, "consult")
        if resp.status == 404:
            return EmissionOutcome(status="missing", provider_ref=ref, errors=read_errors(data))
        if resp.status != 200 or not isinstance(data, dict):
            return EmissionOutcome(status="rejected", provider_ref=ref, errors=read_errors(data))
        return self._outcome(data, ref)

    def _outcome(self, data: dict[str, Any], ref: str) -> EmissionOutcome:
        status = str(data.get("status") or "")
        if status in ("autorizado", "cancelado"):
            key = str(data.get("codigo_verificacao") or "") or None
            xml = None
            path = data.get("caminho_xml_nota_fiscal")
            if path:
                r = self.http.send("xml", "GET", self._url(str(path)) if str(path).startswith("/") else str(path))
                if r.status == 200:
                    xml = r.text
            when = data.get("data_emissao")
            try:
                authorized_at = parse_instant(str(when)) if when else None
            except ValueError:
                authorized_at = None
            return EmissionOutcome(status="authorized", access_key=key,
                                   number=str(data.get("numero")) if data.get("numero") else None,
                                   authorized_at=authorized_at, nfse_xml=xml, provider_ref=ref,
                                   danfse_url=data.get("url_danfse"), cancelled=status == "cancelado")
        if status == "erro_autorizacao":
            return EmissionOutcome(status="rejected", provider_ref=ref, errors=read_errors(data))
        if status == "processando_autorizacao":
            return EmissionOutcome(status="processing", provider_ref=ref)
        raise self.http.malformed("consult", f"unknown status {status!r}")

    def consult(self, ref: str, access_key: str | None) -> EmissionOutcome:
        outcome = self._consult_once(ref)
        assert outcome is not None
        if outcome.status == "missing":
            outcome.status = "rejected"
            outcome.errors = outcome.errors or [local_error("nao_encontrado", "Focus NFe does not know this ref")]
        outcome.calls = self.http.take_calls()
        return outcome

    # ------------------------------------------------------------------ cancellation

    def cancel(self, access_key: str, reason_code: str, reason: str, ref: str) -> CancellationOutcome:
        text = " ".join((reason or "").split())
        if not 15 <= len(text) <= 255:
            return CancellationOutcome(status="rejected", errors=[local_error(
                "LOCAL-VALIDATION", "Focus NFe needs a justification of 15 to 255 characters", "reason")])
        resp = self.http.send("cancel", "DELETE", self._url(f"/v2/nfsen/{quote(ref)}"),
                              json_body={"justificativa": text})
        data = json_of(self.http, resp, "cancel")
        status = data.get("status") if isinstance(data, dict) else None
        code = data.get("codigo") if isinstance(data, dict) else None
        if status == "cancelado" or code == "nfe_cancelada":
            return CancellationOutcome(status="cancelled", event_xml=None, calls=self.http.take_calls())
        return CancellationOutcome(status="rejected", errors=read_errors(data), calls=self.http.take_calls())

    # ------------------------------------------------------------------ DANFSe, probe, hooks

    def danfse(self, access_key: str, ref: str) -> bytes | None:
        resp = self.http.send("consult", "GET", self._url(f"/v2/nfsen/{quote(ref)}"))
        data = json_of(self.http, resp, "consult")
        url = data.get("url_danfse") if isinstance(data, dict) else None
        pdf = None
        if url:
            r = self.http.send("danfse", "GET", url if "://" in url else self._url(url))
            if r.status == 200 and r.content[:5] == b"%PDF-":
                pdf = r.content
        self.last_calls = self.http.take_calls()
        return pdf

    def test_connection(self) -> dict[str, Any]:
        try:
            resp = self.http.send("test_connection", "GET", self._url("/v2/nfsen/retaguarda-connection-test"))
        except TransientBackendError as exc:
            return {"ok": False, "backend": self.name, "message": str(exc),
                    "calls": [c.as_dict() for c in exc.calls]}
        ok = resp.status in (200, 404)
        msg = ("token accepted (consult answered HTTP %d)" % resp.status) if ok else \
            f"Focus NFe refused the token (HTTP {resp.status})"
        return {"ok": ok, "backend": self.name, "message": msg,
                "calls": [c.as_dict() for c in self.http.take_calls()]}

    def register_webhook(self, url: str, authorization: str) -> dict[str, Any]:
        """`POST /v2/hooks` for event nfsen of this CNPJ; Focus sends `authorization` back in the
        Authorization header of each delivery."""
        resp = self.http.send("register_webhook", "POST", self._url("/v2/hooks"),
                              json_body={"cnpj": self.issuer_cnpj, "event": "nfsen", "url": url,
                                         "authorization": authorization},
                              logged_request={"cnpj": self.issuer_cnpj, "event": "nfsen", "url": url,
                                              "authorization": "***"})
        data = json_of(self.http, resp, "register_webhook")
        return {"ok": resp.status in (200, 201), "hook": data,
                "calls": [c.as_dict() for c in self.http.take_calls()]}

    @staticmethod
    def webhook_ref(payload: Any) -> str | None:
        return str(payload["ref"]) if isinstance(payload, dict) and payload.get("ref") else None


class _FocusExchanger(Exchanger):
    """Respects the per-token credit window announced by the Rate-Limit-* headers."""

    def __init__(self, factory: Any, clock: Any, budget_key: int) -> None:
        super().__init__(factory, clock)
        self.budget_key = budget_key

    def send(self, operation: str, method: str, url: str, **kw: Any) -> Response:
        with _budget_lock:
            remaining, reset_at = _budgets.get(self.budget_key, (1, 0.0))
        wait = reset_at - time.monotonic()
        if remaining <= 0 and wait > 0:
            raise TransientBackendError(f"{operation}: Focus NFe credits exhausted; waiting for the "
                                        f"rate-limit window", retry_after=wait, calls=self.take_calls())
        return super().send(operation, method, url, **kw)

    def _do(self, method: str, url: str, json_body: Any, headers: dict[str, str]) -> Response:
        resp = super()._do(method, url, json_body, headers)
        remaining = resp.headers.get("rate-limit-remaining")
        reset = resp.headers.get("rate-limit-reset")
        if remaining is not None:
            try:
                with _budget_lock:
                    _budgets[self.budget_key] = (int(remaining), time.monotonic() + float(reset or 60))
            except ValueError:
                pass
        return resp
