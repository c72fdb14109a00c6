"""A fake PSP speaking the BCB API Pix v2 over mutual TLS on 127.0.0.1.

    with start_fake_psp(tmp_path) as psp:
        client = PixApiClient(psp.base_url, psp.client_id, psp.client_secret, ssl_context=psp.client_ssl())
        psp.pay(txid, Decimal("99.90"))          # a payer pays the charge (fires the webhook)

Only clients with a certificate issued by the fake's CA complete the TLS handshake. OAuth2
client credentials (HTTP Basic) give a bearer token (short-lived when `token_ttl` is small).
Faults: `psp.control.fail_next("429", retry_after=1)`, `"500"`, `"timeout"`, `"reset"`.
Errors are RFC 7807 bodies with `https://pix.bcb.gov.br/api/v2/error/<Tipo>` types.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from retaguarda.fiscal.certificates import generate_test_ca
from tests.fakes.fiscal.common import Control, FakeHttpServer, json_reply

ERR = "https://pix.bcb.gov.br/api/v2/error/"


def problem(status: int, kind: str, title: str, detail: str = "") -> tuple[int, dict[str, str], bytes]:
    return json_reply(
        status,
        {"type": ERR + kind, "title": title, "status": status, "detail": detail},
        {"Content-Type": "application/problem+json"},
    )


@dataclass
class FakePsp:
    server: FakeHttpServer
    ca_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes
    client_id: str = "retaguarda-client"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    token_ttl: int = 3600
    tokens: dict[str, float] = field(default_factory=dict)
    cobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pix: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)
    deliver: Callable[[str, bytes], None] | None = None  # (url, body) → sends the webhook
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def control(self) -> Control:
        return self.server.control

    def client_ssl(self) -> ssl.SSLContext:
        from retaguarda.cash.pixapi import mtls_context

        return mtls_context(self.client_cert_pem, self.client_key_pem, self.ca_pem)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakePsp:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # Simulation ------------------------------------------------------------------------------
    def pay(
        self,
        txid: str | None,
        amount: Decimal,
        *,
        payer_document: str = "",
        payer_name: str = "",
        info: str = "",
        at: datetime | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        """A payer pays (the charge `txid`, or a transfer to the key when None): records the Pix,
        concludes the charge, and POSTs `{webhookUrl}/pix` when a webhook is registered."""
        now = at or datetime.now(timezone.utc)
        e2eid = "E" + "18236120" + now.strftime("%Y%m%d%H%M") + secrets.token_hex(6)[:11]
        item: dict[str, Any] = {
            "endToEndId": e2eid,
            "valor": f"{amount:.2f}",
            "horario": now.isoformat().replace("+00:00", "Z"),
            "infoPagador": info,
        }
        if txid:
            item["txid"] = txid
        if payer_document:
            item["pagador"] = {
                ("cpf" if len(payer_document) == 11 else "cnpj"): payer_document,
                "nome": payer_name,
            }
        with self.lock:
            self.pix[e2eid] = item
            cob = self.cobs.get(txid or "")
            if cob is not None:
                cob["status"] = "CONCLUIDA"
                cob.setdefault("pix", []).append(item)
            hooks = list(self.webhooks.values())
        if notify and txid and self.deliver is not None:
            body = json.dumps({"pix": [{k: v for k, v in item.items() if k != "pagador"}]}).encode()
            for url in hooks:
                self.deliver(url.rstrip("/") + "/pix", body)
        return item

    # HTTP ------------------------------------------------------------------------------------
    def _authorized(self, handler: Any) -> bool:
        auth = handler.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.lock:
            return self.tokens.get(token, 0) > time.monotonic()

    def app(self, handler: Any, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if handler.connection.getpeercert() is None:  # pragma: no cover - TLS already refuses
            return problem(403, "AcessoNegado", "certificado ausente")
        url = urlsplit(path)
        parts = [p for p in url.path.split("/") if p]
        if parts == ["oauth", "token"] and method == "POST":
            auth = handler.headers.get("Authorization", "")
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user = pw = ""
            if (user, pw) != (self.client_id, self.client_secret):
                return json_reply(401, {"error": "invalid_client"})
            form = parse_qs(body.decode())
            if form.get("grant_type") != ["client_credentials"]:
                return json_reply(400, {"error": "unsupported_grant_type"})
            token = secrets.token_urlsafe(24)
            with self.lock:
                self.tokens[token] = time.monotonic() + self.token_ttl
            return json_reply(
                200,
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": self.token_ttl,
                    "scope": form.get("scope", [""])[0],
                },
            )
        if not self._authorized(handler):
            return problem(401, "AcessoNegado", "token ausente ou expirado")
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return problem(400, "RequisicaoInvalida", "JSON inválido")
        if len(parts) == 2 and parts[0] in ("cob", "cobv"):
            return self._cob(method, parts[0], parts[1], data)
        if parts[:1] == ["pix"]:
            with self.lock:
                if len(parts) == 2 and method == "GET":
                    found = self.pix.get(parts[1])
                    return (
                        json_reply(200, found)
                        if found
                        else problem(404, "NaoEncontrado", "Pix não encontrado")
                    )
                if len(parts) == 1 and method == "GET":
                    q = parse_qs(url.query)
                    if "inicio" not in q or "fim" not in q:
                        return problem(400, "RequisicaoInvalida", "inicio e fim são obrigatórios")
                    items = [p for p in self.pix.values() if q["inicio"][0] <= p["horario"] <= q["fim"][0]]
                    return json_reply(
                        200,
                        {
                            "parametros": {
                                "inicio": q["inicio"][0],
                                "fim": q["fim"][0],
                                "paginacao": {
                                    "paginaAtual": 0,
                                    "itensPorPagina": 100,
                                    "quantidadeDePaginas": 1,
                                    "quantidadeTotalDeItens": len(items),
                                },
                            },
                            "pix": items,
                        },
                    )
        if len(parts) == 2 and parts[0] == "webhook":
            key = parts[1]
            if method == "PUT":
                target = str(data.get("webhookUrl") or "")
                if not target.startswith("https://"):
                    return problem(400, "WebhookOperacaoInvalida", "webhookUrl deve ser https")
                with self.lock:
                    self.webhooks[key] = target
                return json_reply(200, {})
            if method == "GET":
                with self.lock:
                    target = self.webhooks.get(key)
                if not target:
                    return problem(404, "NaoEncontrado", "webhook não encontrado")
                return json_reply(
                    200,
                    {"webhookUrl": target, "chave": key, "criacao": datetime.now(timezone.utc).isoformat()},
                )
            if method == "DELETE":
                with self.lock:
                    self.webhooks.pop(key, None)
                return 204, {}, b""
        return problem(404, "NaoEncontrado", "rota desconhecida")

    def _cob(
        self, method: str, kind: str, txid: str, data: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        if not (26 <= len(txid) <= 35 and txid.isalnum()):
            return problem(400, "CobOperacaoInvalida", "txid inválido")
        if method == "GET":
            with self.lock:
                cob = self.cobs.get(txid)
            return (
                json_reply(200, cob)
                if cob and cob["kind"] == kind
                else problem(404, "NaoEncontrado", "cobrança")
            )
        if method != "PUT":
            return problem(405, "RequisicaoInvalida", "método")
        original = str((data.get("valor") or {}).get("original") or "")
        violations = []
        try:
            if Decimal(original) <= 0:
                raise ArithmeticError
        except ArithmeticError:
            violations.append({"razao": "valor.original inválido", "propriedade": "valor.original"})
        if not data.get("chave"):
            violations.append({"razao": "chave obrigatória", "propriedade": "chave"})
        if kind == "cobv" and not (data.get("calendario") or {}).get("dataDeVencimento"):
            violations.append(
                {"razao": "dataDeVencimento obrigatória", "propriedade": "calendario.dataDeVencimento"}
            )
        if violations:
            _status, headers, _ = problem(
                400, "CobOperacaoInvalida" if kind == "cob" else "CobVOperacaoInvalida", "Cobrança inválida"
            )
            return json_reply(
                400,
                {
                    "type": ERR + "CobOperacaoInvalida",
                    "title": "Cobrança inválida",
                    "status": 400,
                    "violacoes": violations,
                },
                headers,
            )
        loc = f"pix.fakepsp.test/qr/v2/{uuid.uuid4().hex}"
        with self.lock:
            if txid in self.cobs:
                return problem(400, "CobOperacaoInvalida", "txid já utilizado")
            cob = {
                **data,
                "kind": kind,
                "txid": txid,
                "revisao": 0,
                "status": "ATIVA",
                "location": loc,
                "calendario": {
                    **(data.get("calendario") or {}),
                    "criacao": datetime.now(timezone.utc).isoformat(),
                },
                "pixCopiaECola": f"00020101021226{len(loc) + 22:02d}0014br.gov.bcb.pix25{len(loc):02d}{loc}"
                "5204000053039865802BR5913PROVEDOR DEMO6009SAO PAULO62070503***6304ABCD",
            }
            self.cobs[txid] = cob
        return json_reply(201, {k: v for k, v in cob.items() if k != "kind"})


def start_fake_psp(tmp_path: Path) -> FakePsp:
    ca = generate_test_ca("Fake PSP test CA")
    tmp_path.mkdir(parents=True, exist_ok=True)
    cert_pem, key_pem = ca.issue_server(("127.0.0.1", "localhost"))
    server_pem = tmp_path / "fake-psp-server.pem"
    server_pem.write_bytes(key_pem + cert_pem)
    server_pem.chmod(0o600)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(server_pem))
    ctx.load_verify_locations(cadata=ca.certificate_pem().decode())
    ctx.verify_mode = ssl.CERT_REQUIRED
    server_pem.unlink()
    client = ca.issue_a1("11222333000181", "PROVEDOR DEMO")
    holder: dict[str, FakePsp] = {}
    server = FakeHttpServer(lambda h, m, p, b: holder["psp"].app(h, m, p, b), ssl_context=ctx)
    psp = FakePsp(
        server=server,
        ca_pem=ca.certificate_pem(),
        client_cert_pem=client.certificate_pem(),
        client_key_pem=client.private_key_pem(),
    )
    holder["psp"] = psp
    server.start()
    return psp
