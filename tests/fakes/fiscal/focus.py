"""Fake Focus NFe (`/v2/nfsen`, `/v2/hooks`) on 127.0.0.1 over HTTP.

    with start_fake_focus(token="tok") as focus:
        focus.settings.focus_url        # base URL
        focus.polls_to_authorize = 2    # the note stays "processando_autorizacao" for 2 consults
        focus.process(ref)              # or finish it now (fires the registered webhooks)
        focus.control.fail_next("429", retry_after=1)
        focus.credits = 3               # rate limit per window (headers Rate-Limit-*), then 429

Rules: Basic auth (token as user) else 401; a tomador CPF/CNPJ with bad check digits ->
`erro_autorizacao` with `erros`; a ref already authorized -> 422 on POST; cancel twice ->
`nfe_cancelada`. Webhook deliveries: POST of the consult JSON to each hook URL with the hook's
`authorization` header, from a thread (recorded in `webhook_deliveries`).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf

from retaguarda.fiscal import dps as D
from retaguarda.fiscal.backends.authority import simple_pdf

from tests.fakes.fiscal.common import Control, FakeHttpServer, json_reply


@dataclass
class FocusNote:
    ref: str
    body: dict[str, Any]
    status: str = "processando_autorizacao"
    polls: int = 0
    numero: str | None = None
    chave: str | None = None
    erros: list[dict[str, str]] = field(default_factory=list)


class FakeFocus:
    def __init__(self, token: str, *, credits: int = 100, window: int = 60) -> None:
        self.token = token
        self.credits = credits
        self.window = window
        self.used = 0
        self.window_start = time.monotonic()
        self.notes: dict[str, FocusNote] = {}
        self.hooks: list[dict[str, Any]] = []
        self.webhook_deliveries: list[dict[str, Any]] = []
        self.polls_to_authorize = 1
        # What `data_emissao` says once authorized; None echoes the request's (São Paulo, with offset).
        self.authorized_text: str | None = None
        self.reject_next_with: list[dict[str, str]] | None = None
        self._number = 0
        self._lock = threading.Lock()
        self.server = FakeHttpServer(self._app)
        self.server.start()

    # ------------------------------------------------------------------ public control

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def control(self) -> Control:
        return self.server.control

    @property
    def settings(self) -> Any:
        return SimpleNamespace(focus_url=self.base_url, nfse_nacional_url="", nfse_danfse_url="",
                               plugnotas_url="")

    def process(self, ref: str) -> None:
        with self._lock:
            note = self.notes[ref]
            self._finish(note)
        self._fire(note)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeFocus:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def _finish(self, note: FocusNote) -> None:
        if note.status != "processando_autorizacao":
            return
        body = note.body
        cpf = body.get("cpf_tomador")
        cnpj = body.get("cnpj_tomador")
        if self.reject_next_with is not None:
            note.status, note.erros, self.reject_next_with = "erro_autorizacao", self.reject_next_with, None
        elif (cpf and not _cpf.is_valid(cpf)) or (cnpj and not _cnpj.is_valid(cnpj)):
            note.status = "erro_autorizacao"
            note.erros = [{"codigo": "E0215", "mensagem": "CPF/CNPJ do tomador inválido",
                           "correcao": "Informe um documento válido"}]
        else:
            self._number += 1
            note.status = "autorizado"
            note.numero = str(self._number)
            note.chave = D.make_access_key(body.get("codigo_municipio_emissora") or "3550308",
                                           body["cnpj_prestador"], self._number,
                                           D.datetime.now(), secrets.randbelow(10**9))

    def _view(self, note: FocusNote) -> dict[str, Any]:
        out: dict[str, Any] = {"cnpj_prestador": note.body.get("cnpj_prestador"), "ref": note.ref,
                               "status": note.status}
        if note.status in ("autorizado", "cancelado"):
            out.update({"numero": note.numero, "codigo_verificacao": note.chave,
                        "data_emissao": self.authorized_text or note.body.get("data_emissao"),
                        "url": f"https://www.nfse.gov.br/consultapublica/?tpc=1&chave={note.chave}",
                        "url_danfse": f"{self.base_url}/arquivos/{note.ref}/danfse.pdf",
                        "caminho_xml_nota_fiscal": f"/arquivos/{note.ref}/nfse.xml"})
        if note.erros:
            out["erros"] = note.erros
        return out

    def _fire(self, note: FocusNote) -> None:
        payload = self._view(note)
        for hook in list(self.hooks):
            def deliver(h: dict[str, Any] = hook) -> None:
                header = h.get("authorization_header") or "Authorization"
                try:
                    r = httpx.post(h["url"], json=payload, headers={header: h.get("authorization", "")},
                                   timeout=5)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status = f"error {type(exc).__name__}"
                self.webhook_deliveries.append({"url": h["url"], "payload": payload, "status": status})
            threading.Thread(target=deliver, daemon=True).start()

    def _rate(self) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        with self._lock:
            if now - self.window_start >= self.window:
                self.window_start, self.used = now, 0
            self.used += 1
            remaining = max(0, self.credits - self.used)
            reset = max(1, int(self.window - (now - self.window_start)))
            over = self.used > self.credits
        return over, {"Rate-Limit-Limit": str(self.credits), "Rate-Limit-Remaining": str(remaining),
                      "Rate-Limit-Reset": str(reset)}

    def _app(self, handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        auth = handler.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.token}:".encode()).decode()
        if auth != expected:
            return json_reply(401, {"codigo": "nao_autorizado", "mensagem": "Token inválido"})
        over, rl = self._rate()
        if over:
            return json_reply(429, {"codigo": "limite_excedido", "mensagem": "Limite de requisições"},
                              {**rl, "Retry-After": rl["Rate-Limit-Reset"]})
        url = urlsplit(path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        data = json.loads(body) if body else {}
        fire: FocusNote | None = None
        if method == "POST" and parts == ["v2", "nfsen"]:
            ref = parse_qs(url.query).get("ref", [""])[0]
            with self._lock:
                existing = self.notes.get(ref)
                if existing and existing.status != "erro_autorizacao":
                    return json_reply(422, {"codigo": "nfe_autorizada" if existing.status == "autorizado"
                                            else "em_processamento",
                                            "mensagem": "Referência já utilizada"}, rl)
                if not data.get("cnpj_prestador") or not data.get("codigo_tributacao_nacional_iss"):
                    return json_reply(400, {"codigo": "requisicao_invalida",
                                            "mensagem": "Campos obrigatórios ausentes"}, rl)
                self.notes[ref] = FocusNote(ref=ref, body=data)
            return json_reply(201, {"cnpj_prestador": data["cnpj_prestador"], "ref": ref,
                                    "status": "processando_autorizacao"}, rl)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v2", "nfsen"]:
            with self._lock:
                note = self.notes.get(parts[2])
                if note is None:
                    return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "Nota fiscal não encontrada"}, rl)
                note.polls += 1
                if note.status == "processando_autorizacao" and note.polls > self.polls_to_authorize:
                    self._finish(note)
                    fire = note
                view = self._view(note)
            if fire is not None:
                self._fire(fire)
            return json_reply(200, view, rl)
        if method == "DELETE" and len(parts) == 3 and parts[:2] == ["v2", "nfsen"]:
            with self._lock:
                note = self.notes.get(parts[2])
                if note is None:
                    return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "não encontrada"}, rl)
                if note.status == "cancelado":
                    return json_reply(422, {"codigo": "nfe_cancelada", "mensagem": "Nota já cancelada"}, rl)
                if note.status != "autorizado":
                    return json_reply(422, {"codigo": "nfe_nao_autorizada", "mensagem": "Nota não autorizada"}, rl)
                just = str(data.get("justificativa") or "")
                if not 15 <= len(just) <= 255:
                    return json_reply(200, {"status": "erro_cancelamento", "erros": [
                        {"codigo": "justificativa_invalida", "mensagem": "Justificativa deve ter de 15 a 255 caracteres"}]}, rl)
                note.status = "cancelado"
            return json_reply(200, {"status": "cancelado"}, rl)
        if method == "POST" and parts == ["v2", "hooks"]:
            hook = {"id": secrets.token_hex(4), **data}
            self.hooks.append(hook)
            return json_reply(201, hook, rl)
        if method == "GET" and len(parts) == 3 and parts[0] == "arquivos":
            note = self.notes.get(parts[1])
            if note is None or note.chave is None:
                return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "arquivo"}, rl)
            if parts[2] == "danfse.pdf":
                return 200, {"Content-Type": "application/pdf", **rl}, simple_pdf(
                    [f"DANFSe Focus (fake) {note.numero}", note.chave])
            return 200, {"Content-Type": "application/xml", **rl}, (
                f'<?xml version="1.0"?><NFSe xmlns="{D.NS}"><infNFSe Id="NFS{note.chave}">'
                f"<nNFSe>{note.numero}</nNFSe></infNFSe></NFSe>").encode()
        return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "rota"}, rl)


def start_fake_focus(token: str = "focus-test-token", **kw: Any) -> FakeFocus:
    return FakeFocus(token, **kw)
