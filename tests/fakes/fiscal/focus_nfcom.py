"""Fake Focus NFe extended with NFCom (`/v2/nfcom`), on 127.0.0.1 over HTTP.

    with start_fake_focus_nfcom(token="tok") as focus:
        focus.nfcom_polls_to_authorize = 2      # stays "processando_autorizacao" for 2 consults
        focus.nfcom_reject_next = ("539", "Rejeição: Duplicidade de NFCom")
        focus.control.fail_next("500")

Rules (Focus's documented contract): Basic auth (token as user) else 401; POST with a ref already
in use -> 422 `em_processamento`/`nfe_autorizada`; missing emitter or items -> 400
`requisicao_invalida`; GET unknown ref -> 404 `nao_encontrado`; DELETE needs `justificativa` of 15-255
characters, else `erro_cancelamento`; twice -> 422 `nfe_cancelada`. The key is composed from the
series and number we send (valid mod-11 DV); the XML file is served at `caminho_xml`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from retaguarda.fiscal.nfcom.key import compose
from tests.fakes.fiscal.common import json_reply
from tests.fakes.fiscal.focus import FakeFocus


@dataclass
class FocusNfcom:
    ref: str
    body: dict[str, Any]
    status: str = "processando_autorizacao"
    polls: int = 0
    chave: str = ""
    protocolo: str = ""
    status_sefaz: str = ""
    mensagem_sefaz: str = ""
    requests: list[str] = field(default_factory=list)


class FakeFocusNfcom(FakeFocus):
    def __init__(self, token: str, **kw: Any) -> None:
        super().__init__(token, **kw)
        self.nfcoms: dict[str, FocusNfcom] = {}
        self.nfcom_polls_to_authorize = 1
        self.nfcom_reject_next: tuple[str, str] | None = None
        self._seq = 0

    def _finish_nfcom(self, n: FocusNfcom) -> None:
        if self.nfcom_reject_next is not None:
            (n.status_sefaz, n.mensagem_sefaz), self.nfcom_reject_next = self.nfcom_reject_next, None
            n.status = "erro_autorizacao"
            return
        b = n.body
        self._seq += 1
        n.chave = compose(
            uf=b.get("uf_emitente") or "SP",
            issued_on=date.today(),
            cnpj=b["cnpj_emitente"],
            series=int(b.get("serie") or 1),
            number=int(b.get("numero") or self._seq),
            random_code=f"{secrets.randbelow(9_000_000) + 1_000_000}",
        )
        n.protocolo = f"335{datetime.now(timezone.utc):%y}0{self._seq:010d}"
        n.status, n.status_sefaz, n.mensagem_sefaz = "autorizado", "100", "Autorizado o uso da NFCom"

    def _nfcom_view(self, n: FocusNfcom) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ref": n.ref,
            "status": n.status,
            "status_sefaz": n.status_sefaz,
            "mensagem_sefaz": n.mensagem_sefaz,
            "modelo": "62",
            "serie": n.body.get("serie"),
            "numero": n.body.get("numero"),
        }
        if n.chave:
            out.update(
                chave=n.chave,
                protocolo=n.protocolo,
                caminho_xml=f"/arquivos_nfcom/{n.ref}.xml",
                caminho_danfecom=f"/arquivos_nfcom/{n.ref}.pdf",
                data_autorizacao=datetime.now(timezone.utc).isoformat(),
            )
        return out

    def _app(self, handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:1] == ["arquivos_nfcom"] and method == "GET":
            ref = parts[1].rsplit(".", 1)[0]
            n = self.nfcoms.get(ref)
            if n is None or not n.chave:
                return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "arquivo"})
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<nfcomProc xmlns="http://www.portalfiscal.inf.br/nfcom" '
                f'versao="1.00"><NFCom><infNFCom versao="1.00" Id="NFCom{n.chave}"/></NFCom>'
                f'<protNFCom versao="1.00"><infProt><chNFCom>{n.chave}</chNFCom><nProt>{n.protocolo}</nProt>'
                f"</infProt></protNFCom></nfcomProc>"
            )
            return 200, {"Content-Type": "application/xml"}, xml.encode()
        if parts[:2] != ["v2", "nfcom"]:
            return super()._app(handler, method, path, body)
        import base64

        expected = "Basic " + base64.b64encode(f"{self.token}:".encode()).decode()
        if handler.headers.get("Authorization", "") != expected:
            return json_reply(401, {"codigo": "nao_autorizado", "mensagem": "Token inválido"})
        data = json.loads(body) if body else {}
        if method == "POST" and len(parts) == 2:
            ref = parse_qs(url.query).get("ref", [""])[0]
            with self._lock:
                found = self.nfcoms.get(ref)
                if found is not None and found.status != "erro_autorizacao":
                    return json_reply(
                        422,
                        {
                            "codigo": "nfe_autorizada"
                            if found.status == "autorizado"
                            else "em_processamento",
                            "mensagem": "Referência já utilizada",
                        },
                    )
                if not data.get("cnpj_emitente") or not data.get("itens"):
                    return json_reply(
                        400, {"codigo": "requisicao_invalida", "mensagem": "Campos obrigatórios"}
                    )
                self.nfcoms[ref] = FocusNfcom(ref=ref, body=data)
            return json_reply(202, {"ref": ref, "status": "processando_autorizacao"})
        ref = parts[2] if len(parts) == 3 else ""
        with self._lock:
            n = self.nfcoms.get(ref)
            if n is None:
                return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "NFCom não encontrada"})
            if method == "GET":
                n.polls += 1
                if n.status == "processando_autorizacao" and n.polls > self.nfcom_polls_to_authorize:
                    self._finish_nfcom(n)
                return json_reply(200, self._nfcom_view(n))
            if method == "DELETE":
                if n.status == "cancelado":
                    return json_reply(422, {"codigo": "nfe_cancelada", "mensagem": "NFCom já cancelada"})
                just = str(data.get("justificativa") or "")
                if not 15 <= len(just) <= 255:
                    return json_reply(
                        200,
                        {
                            "status": "erro_cancelamento",
                            "status_sefaz": "215",
                            "mensagem_sefaz": "Justificativa deve ter de 15 a 255 caracteres",
                        },
                    )
                n.status = "cancelado"
                return json_reply(
                    200,
                    {
                        "status": "cancelado",
                        "status_sefaz": "135",
                        "mensagem_sefaz": "Evento registrado e vinculado a NFCom",
                        "protocolo_cancelamento": f"335{self._seq:013d}",
                    },
                )
        return json_reply(404, {"codigo": "nao_encontrado", "mensagem": "rota"})


def start_fake_focus_nfcom(token: str = "focus-test-token", **kw: Any) -> FakeFocusNfcom:
    return FakeFocusNfcom(token, **kw)
