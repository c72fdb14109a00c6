"""Fake TecnoSpeed PlugNotas (NFS-e) on 127.0.0.1 over HTTP.

    with start_fake_plugnotas(api_key="key") as pn:
        pn.settings.plugnotas_url
        pn.polls_to_authorize = 1        # PROCESSANDO for that many GETs, then CONCLUIDO/REJEITADO
        pn.control.fail_next("500")

`x-api-key` required (401 otherwise); `POST /nfse` takes a JSON array; a repeated idIntegracao ->
409; tomador with bad check digits -> REJEITADO; cancellation is asynchronous (CANCELADO after
the next GET). Webhook registered with `POST /webhook` receives {id, idIntegracao, situacao}.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf

from retaguarda.fiscal import dps as D
from retaguarda.fiscal.backends.authority import simple_pdf

from tests.fakes.fiscal.common import Control, FakeHttpServer, json_reply


@dataclass
class PlugNote:
    id: str
    id_integracao: str
    cnpj: str
    body: dict[str, Any]
    status: str = "PROCESSANDO"
    polls: int = 0
    numero: str | None = None
    chave: str | None = None
    mensagem: str | None = None
    cancel_requested: bool = False


class FakePlugNotas:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.notes: dict[str, PlugNote] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[dict[str, Any]] = []
        self.polls_to_authorize = 1
        # What `retorno.dataAutorizacao` says; None is now in UTC with its offset.
        self.authorized_text: str | None = None
        self._number = 0
        self._lock = threading.Lock()
        self.server = FakeHttpServer(self._app)
        self.server.start()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def control(self) -> Control:
        return self.server.control

    @property
    def settings(self) -> Any:
        return SimpleNamespace(plugnotas_url=self.base_url, focus_url="", nfse_nacional_url="",
                               nfse_danfse_url="")

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakePlugNotas:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _finish(self, note: PlugNote) -> bool:
        if note.status == "PROCESSANDO":
            doc = note.body.get("tomador", {}).get("cpfCnpj", "")
            if (len(doc) == 11 and not _cpf.is_valid(doc)) or (len(doc) == 14 and not _cnpj.is_valid(doc)):
                note.status, note.mensagem = "REJEITADO", "CPF/CNPJ do tomador inválido"
            else:
                self._number += 1
                note.status, note.numero = "CONCLUIDO", str(self._number)
                note.chave = D.make_access_key("3550308", note.cnpj, self._number,
                                               datetime.now(timezone.utc), secrets.randbelow(10**9))
            return True
        if note.cancel_requested and note.status == "CONCLUIDO":
            note.status = "CANCELADO"
            return True
        return False

    def _view(self, n: PlugNote) -> dict[str, Any]:
        out: dict[str, Any] = {"id": n.id, "idIntegracao": n.id_integracao, "status": n.status,
                               "prestador": {"cpfCnpj": n.cnpj}}
        if n.numero:
            out.update({"numeroNfse": n.numero, "chaveAcesso": n.chave,
                        "pdf": f"{self.base_url}/nfse/pdf/{n.id}", "xml": f"{self.base_url}/nfse/xml/{n.id}",
                        "retorno": {"situacao": n.status, "numeroNfse": n.numero, "codigoVerificacao": n.chave,
                                    "dataAutorizacao": self.authorized_text
                                    or datetime.now(timezone.utc).isoformat(),
                                    "mensagemRetorno": "Autorizada"}})
        if n.mensagem:
            out["retorno"] = {"situacao": n.status, "mensagemRetorno": n.mensagem}
        return out

    def _fire(self, note: PlugNote) -> None:
        if not self.webhook:
            return
        payload = {"id": note.id, "idIntegracao": note.id_integracao, "situacao": note.status}

        def deliver() -> None:
            try:
                r = httpx.request(self.webhook.get("method", "POST"), self.webhook["url"], json=payload, timeout=5)
                status: Any = r.status_code
            except httpx.HTTPError as exc:
                status = f"error {type(exc).__name__}"
            self.webhook_deliveries.append({"payload": payload, "status": status})
        threading.Thread(target=deliver, daemon=True).start()

    def _app(self, handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("x-api-key") != self.api_key:
            return json_reply(401, {"error": {"message": "Unauthorized: invalid x-api-key"}})
        parts = [unquote(p) for p in urlsplit(path).path.split("/") if p]
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return json_reply(400, {"error": {"message": "JSON inválido"}})
        if method == "POST" and parts == ["nfse"]:
            if not isinstance(data, list) or not data:
                return json_reply(400, {"error": {"message": "O corpo deve ser uma lista de notas"}})
            docs = []
            with self._lock:
                for item in data:
                    idi = str(item.get("idIntegracao") or "")
                    cnpj = str(item.get("prestador", {}).get("cpfCnpj") or "")
                    if any(n.id_integracao == idi and n.cnpj == cnpj for n in self.notes.values()):
                        return json_reply(409, {"error": {"message": f"idIntegracao {idi} já utilizado",
                                                          "data": {"idIntegracao": idi}}})
                    note = PlugNote(id=secrets.token_hex(12), id_integracao=idi, cnpj=cnpj, body=item)
                    self.notes[note.id] = note
                    docs.append({"id": note.id, "idIntegracao": idi})
            return json_reply(200, {"documents": docs, "message": "Nota(as) em processamento",
                                    "protocol": secrets.token_hex(8)})
        if method == "GET" and parts == ["nfse", "cidades"]:
            return json_reply(200, [{"codigoIbge": "3550308", "nome": "São Paulo"}])
        if method == "GET" and len(parts) == 4 and parts[:2] == ["nfse", "consultar"]:
            found = [n for n in self.notes.values() if n.id_integracao == parts[2] and n.cnpj == parts[3]]
            if not found:
                return json_reply(404, {"error": {"message": "Nenhuma nota encontrada"}})
            return json_reply(200, [{"id": n.id, "idIntegracao": n.id_integracao, "situacao": n.status,
                                     "numero": n.numero} for n in found])
        if method == "GET" and len(parts) == 2 and parts[0] == "nfse":
            fire = None
            with self._lock:
                note = self.notes.get(parts[1])
                if note is None:
                    return json_reply(404, {"error": {"message": "Nota não encontrada"}})
                note.polls += 1
                if note.polls > self.polls_to_authorize or note.cancel_requested:
                    if self._finish(note):
                        fire = note
                view = self._view(note)
            if fire is not None:
                self._fire(fire)
            return json_reply(200, [view])
        if method == "POST" and len(parts) == 3 and parts[:2] == ["nfse", "cancelar"]:
            note = self.notes.get(parts[2])
            if note is None:
                return json_reply(404, {"error": {"message": "Nota não encontrada"}})
            if note.status != "CONCLUIDO":
                return json_reply(400, {"error": {"message": f"Nota em situação {note.status} não pode ser cancelada"}})
            note.cancel_requested = True
            return json_reply(200, {"message": "Cancelamento em processamento",
                                    "data": {"protocol": secrets.token_hex(8)}})
        if method == "GET" and len(parts) == 3 and parts[0] == "nfse" and parts[1] in ("pdf", "xml"):
            note = self.notes.get(parts[2])
            if note is None or note.numero is None:
                return json_reply(404, {"error": {"message": "Arquivo não encontrado"}})
            if parts[1] == "pdf":
                return 200, {"Content-Type": "application/pdf"}, simple_pdf([f"DANFSe PlugNotas (fake) {note.numero}"])
            return 200, {"Content-Type": "application/xml"}, (
                f'<?xml version="1.0"?><NFSe xmlns="{D.NS}"><infNFSe Id="NFS{note.chave}">'
                f"<nNFSe>{note.numero}</nNFSe></infNFSe></NFSe>").encode()
        if method == "POST" and parts == ["webhook"]:
            self.webhook = data
            return json_reply(200, {"message": "Webhook cadastrado", "data": data})
        return json_reply(404, {"error": {"message": "rota"}})


def start_fake_plugnotas(api_key: str = "plugnotas-test-key") -> FakePlugNotas:
    return FakePlugNotas(api_key)
