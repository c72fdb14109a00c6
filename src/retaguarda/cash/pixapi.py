"""Client of the BCB "API Pix" (v2) that PSPs implement: OAuth2 client credentials over mutual
TLS, `cob` / `cobv` charges, received Pix (`GET /pix/{e2eid}`, `GET /pix`) and the webhook.

Errors follow the integrations convention: timeouts, 429 and 5xx are `TransientError` (with
`retry_after` when the PSP says so), other 4xx are `PermanentError` carrying the problem's
`type`/`title`. A 401 refreshes the token once. Unknown response fields are ignored (the
contract allows the PSP to add them).
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from retaguarda.integrations.errors import PermanentError, TransientError

TXID_RE = re.compile(r"^[a-zA-Z0-9]{26,35}$")
E2E_RE = re.compile(r"^[a-zA-Z0-9]{32}$")
SCOPES = "cob.write cob.read cobv.write cobv.read pix.read webhook.write webhook.read"


class PixApiTransient(TransientError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PixApiRefused(PermanentError):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        title = str(problem.get("title") or problem.get("detail") or f"HTTP {status}")
        super().__init__(f"{status} {title}")
        self.status = status
        self.problem = problem


@dataclass(frozen=True)
class ReceivedPix:
    e2eid: str
    txid: str
    amount: Decimal
    at: str  # RFC 3339 as the PSP sent it
    payer_info: str
    payer_document: str
    payer_name: str
    raw: dict[str, Any]


def mtls_context(cert_pem: bytes, key_pem: bytes, ca_pem: bytes | None = None) -> ssl.SSLContext:
    """Client TLS context presenting the PSP client certificate (key never written unencrypted)."""
    import os
    import secrets
    import tempfile

    from cryptography.hazmat.primitives import serialization

    ctx = ssl.create_default_context(cadata=ca_pem.decode() if ca_pem else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    key = serialization.load_pem_private_key(key_pem, password=None)
    one_time = secrets.token_urlsafe(24).encode()
    enc = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time),
    )
    fd, path = tempfile.mkstemp(prefix="psp-", suffix=".pem")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(enc + cert_pem)
        ctx.load_cert_chain(path, password=one_time)
    finally:
        os.unlink(path)
    return ctx


def parse_pix(item: dict[str, Any]) -> ReceivedPix:
    try:
        e2eid = str(item["endToEndId"])
        amount = Decimal(str(item["valor"]))
        at = str(item["horario"])
    except (KeyError, ArithmeticError) as exc:
        raise PixApiRefused(502, {"title": f"malformed Pix from the PSP: {exc}"}) from None
    payer = item.get("pagador") or item.get("devedor") or {}
    return ReceivedPix(
        e2eid=e2eid,
        txid=str(item.get("txid") or ""),
        amount=amount.quantize(Decimal("0.01")),
        at=at,
        payer_info=str(item.get("infoPagador") or "")[:140],
        payer_document=str(payer.get("cpf") or payer.get("cnpj") or ""),
        payer_name=str(payer.get("nome") or "")[:120],
        raw=item,
    )


class PixApiClient:
    """One PSP account. `ssl_context` carries the client certificate (mTLS)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        ssl_context: ssl.SSLContext | bool,
        token_url: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url or f"{self.base_url}/oauth/token"
        self._credentials = (client_id, client_secret)
        self._http = httpx.Client(verify=ssl_context, timeout=timeout, transport=transport)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # OAuth2 --------------------------------------------------------------------------------
    def _access_token(self, refresh: bool = False) -> str:
        with self._lock:
            if self._token and not refresh and self._token[1] > time.monotonic() + 30:
                return self._token[0]
            try:
                r = self._http.post(
                    self.token_url,
                    auth=self._credentials,
                    data={"grant_type": "client_credentials", "scope": SCOPES},
                )
            except httpx.HTTPError as exc:
                raise PixApiTransient(f"token endpoint unreachable: {type(exc).__name__}") from None
            body = self._check(r)
            token = str(body.get("access_token") or "")
            if not token:
                raise PixApiRefused(r.status_code, {"title": "token response without access_token"})
            self._token = (token, time.monotonic() + float(body.get("expires_in") or 3600))
            return token

    def _check(self, r: httpx.Response) -> dict[str, Any]:
        if r.status_code == 429 or r.status_code >= 500:
            retry = r.headers.get("Retry-After")
            raise PixApiTransient(
                f"PSP answered {r.status_code}", float(retry) if retry and retry.isdigit() else None
            )
        try:
            body = r.json() if r.content else {}
        except ValueError:
            if r.status_code < 400:
                raise PixApiTransient(f"PSP answered {r.status_code} with a body that is not JSON") from None
            body = {}
        if r.status_code >= 400:
            raise PixApiRefused(r.status_code, body if isinstance(body, dict) else {})
        return body if isinstance(body, dict) else {"items": body}

    def _call(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self._access_token(refresh=attempt == 2)
            try:
                r = self._http.request(
                    method,
                    f"{self.base_url}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TimeoutException:
                raise PixApiTransient(f"{method} {path.split('/')[1]}: timeout") from None
            except httpx.HTTPError as exc:
                raise PixApiTransient(f"{method} {path.split('/')[1]}: {type(exc).__name__}") from None
            if r.status_code == 401 and attempt == 1:
                continue
            return self._check(r)
        raise PixApiRefused(401, {"title": "token refused twice"})  # pragma: no cover

    # Charges -------------------------------------------------------------------------------
    def put_cob(
        self,
        txid: str,
        *,
        amount: Decimal,
        key: str,
        expires_in: int = 86400,
        debtor: dict[str, str] | None = None,
        message: str = "",
    ) -> dict[str, Any]:
        if not TXID_RE.match(txid):
            raise ValueError("txid must be 26 to 35 letters or digits")
        body: dict[str, Any] = {
            "calendario": {"expiracao": expires_in},
            "valor": {"original": f"{amount:.2f}"},
            "chave": key,
        }
        if debtor:
            body["devedor"] = debtor
        if message:
            body["solicitacaoPagador"] = message[:140]
        return self._call("PUT", f"/cob/{txid}", json=body)

    def put_cobv(
        self,
        txid: str,
        *,
        amount: Decimal,
        key: str,
        due_date: str,
        debtor: dict[str, str],
        days_after: int = 30,
        fine_percent: Decimal | None = None,
        interest_percent_month: Decimal | None = None,
    ) -> dict[str, Any]:
        if not TXID_RE.match(txid):
            raise ValueError("txid must be 26 to 35 letters or digits")
        valor: dict[str, Any] = {"original": f"{amount:.2f}"}
        if fine_percent:
            valor["multa"] = {"modalidade": 2, "valorPerc": f"{fine_percent:.2f}"}
        if interest_percent_month:
            valor["juros"] = {"modalidade": 3, "valorPerc": f"{interest_percent_month:.2f}"}
        body = {
            "calendario": {"dataDeVencimento": due_date, "validadeAposVencimento": days_after},
            "devedor": debtor,
            "valor": valor,
            "chave": key,
        }
        return self._call("PUT", f"/cobv/{txid}", json=body)

    def get_cob(self, txid: str) -> dict[str, Any]:
        return self._call("GET", f"/cob/{txid}")

    # Received Pix --------------------------------------------------------------------------
    def get_pix(self, e2eid: str) -> ReceivedPix:
        if not E2E_RE.match(e2eid):
            raise ValueError("endToEndId must be 32 letters or digits")
        return parse_pix(self._call("GET", f"/pix/{e2eid}"))

    def list_pix(self, start: str, end: str, page: int = 0) -> tuple[list[ReceivedPix], int]:
        body = self._call("GET", "/pix", params={"inicio": start, "fim": end, "paginacao.paginaAtual": page})
        pages = int(((body.get("parametros") or {}).get("paginacao") or {}).get("quantidadeDePaginas") or 1)
        return [parse_pix(p) for p in body.get("pix") or []], pages

    # Webhook -------------------------------------------------------------------------------
    def put_webhook(self, key: str, url: str) -> dict[str, Any]:
        if not url.startswith("https://"):
            raise ValueError("the webhook URL must be https")
        return self._call("PUT", f"/webhook/{key}", json={"webhookUrl": url})

    def get_webhook(self, key: str) -> dict[str, Any]:
        return self._call("GET", f"/webhook/{key}")
