"""The e-signature port and its two adapters.

`SignatureProvider.start(request) -> Started` hands a PDF to a signer:

- `BuiltinSigner` (the default): a single-use link to our own public signing page. The token is
  random (256 bits); only its SHA-256 is stored (in the `SignatureRequested` event), so neither
  the log nor the read models can be turned back into a working link. The signer reads the PDF,
  types name and document number, accepts; the application records the evidence.
- `ClicksignClient`: Clicksign API v3 ("envelopes", JSON:API). It creates an envelope, uploads
  the PDF (`content_base64` data URI), adds the signer and the two requirements (agree/sign,
  e-mail evidence) and activates it; Clicksign mails the signer. Its webhooks carry
  `Content-Hmac: sha256=<hex HMAC-SHA256(secret, raw body)>` (see `verify_clicksign_webhook`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from retaguarda.integrations.errors import PermanentError, TransientError


@dataclass(frozen=True)
class SigningRequest:
    contract_number: str
    version: int
    signer_name: str
    signer_email: str
    pdf: bytes
    deadline_iso: str


@dataclass(frozen=True)
class Started:
    provider: str
    signing_url: str | None  # None when the provider mails its own link
    token_sha256: str  # builtin: the link token's hash; external: hash of the external id
    external_id: str = ""


class SignatureProvider(Protocol):
    name: str

    def start(self, request: SigningRequest) -> Started: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BuiltinSigner:
    """Signing on this server: `<base_url>/contracts/sign/<token>`."""

    name = "builtin"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def start(self, request: SigningRequest) -> Started:
        token = secrets.token_urlsafe(32)
        return Started(self.name, f"{self.base_url}/contracts/sign/{token}", token_hash(token))


class ClicksignClient:
    """Clicksign API v3 over HTTP (bare access token in `Authorization`, JSON:API bodies)."""

    name = "clicksign"
    MEDIA = "application/vnd.api+json"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = access_token
        self._timeout = timeout
        self._transport = transport

    def _call(self, client: httpx.Client, method: str, path: str, data: dict[str, Any]) -> dict[str, Any]:
        try:
            r = client.request(method, f"{self.base_url}{path}", content=json.dumps({"data": data}))
        except httpx.TimeoutException as exc:
            raise TransientError(f"clicksign timeout on {path}") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"clicksign unreachable: {type(exc).__name__}") from exc
        if r.status_code == 429 or r.status_code >= 500:
            raise TransientError(f"clicksign answered {r.status_code} on {path}")
        if r.status_code >= 400:
            raise PermanentError(f"clicksign refused {path}: {r.status_code} {r.text[:300]}")
        try:
            body = r.json()
            return dict(body["data"])
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientError(f"clicksign sent an unreadable answer on {path}") from exc

    def start(self, request: SigningRequest) -> Started:
        headers = {"Authorization": self._token, "Accept": self.MEDIA, "Content-Type": self.MEDIA}
        with httpx.Client(timeout=self._timeout, headers=headers, transport=self._transport) as client:
            envelope = self._call(
                client,
                "POST",
                "/api/v3/envelopes",
                {
                    "type": "envelopes",
                    "attributes": {
                        "name": f"Contrato {request.contract_number} v{request.version}",
                        "locale": "pt-BR",
                        "auto_close": True,
                        "block_after_refusal": True,
                        "deadline_at": request.deadline_iso,
                    },
                },
            )
            env_id = envelope["id"]
            content = "data:application/pdf;base64," + base64.b64encode(request.pdf).decode()
            document = self._call(
                client,
                "POST",
                f"/api/v3/envelopes/{env_id}/documents",
                {
                    "type": "documents",
                    "attributes": {
                        "filename": f"{request.contract_number}-v{request.version}.pdf",
                        "content_base64": content,
                        "metadata": {"contract": request.contract_number, "version": request.version},
                    },
                },
            )
            signer = self._call(
                client,
                "POST",
                f"/api/v3/envelopes/{env_id}/signers",
                {
                    "type": "signers",
                    "attributes": {
                        "name": request.signer_name,
                        "email": request.signer_email,
                        "has_documentation": True,
                        "refusable": True,
                        "communicate_events": {"signature_request": "email"},
                    },
                },
            )
            rel = {
                "document": {"data": {"type": "documents", "id": document["id"]}},
                "signer": {"data": {"type": "signers", "id": signer["id"]}},
            }
            for attributes in (
                {"action": "agree", "role": "sign"},
                {"action": "provide_evidence", "auth": "email"},
            ):
                self._call(
                    client,
                    "POST",
                    f"/api/v3/envelopes/{env_id}/requirements",
                    {"type": "requirements", "attributes": attributes, "relationships": rel},
                )
            self._call(
                client,
                "PATCH",
                f"/api/v3/envelopes/{env_id}",
                {"type": "envelopes", "id": env_id, "attributes": {"status": "running"}},
            )
        return Started(
            self.name, None, token_hash(f"clicksign:{document['id']}"), external_id=str(document["id"])
        )


def clicksign_hmac(secret: str, raw_body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify_clicksign_webhook(secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when `Content-Hmac` is the HMAC-SHA256 of the exact raw body under `secret`."""
    if not secret or not header:
        return False
    return hmac.compare_digest(clicksign_hmac(secret, raw_body), header.strip())
