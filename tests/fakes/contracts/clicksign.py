"""A fake Clicksign API v3 on 127.0.0.1: envelopes, documents, signers, requirements, activation, and
HMAC-signed webhooks.

    fake = start_fake_clicksign(token="tok", webhook_url=".../webhooks/clicksign/<tenant>", secret="s3")
    ClicksignClient(fake.base_url, "tok").start(request)   # envelope → running
    fake.sign(document_key, name="Ana", ip="203.0.113.9")  # POSTs a signed `sign` webhook
    fake.deliver(body_bytes, hmac="sha256=…")              # any delivery (forged, replayed)
    fake.fail_next(503)                                    # faults from the shared base

Requests need `Authorization: <token>` (bare, as Clicksign's Postman collection sends it) and
JSON:API bodies (`{"data": {"type", "attributes", ...}}`); activation is refused (422) without a
document, a signer and both requirements, as Clicksign documents it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timezone
from typing import Any

import httpx

from tests.fakes.billing._http import Call, FakeHttpServer, Response


class FakeClicksign(FakeHttpServer):
    name = "fake-clicksign"

    def __init__(self, token: str, webhook_url: str = "", secret: str = "") -> None:
        self.token = token
        self.webhook_url = webhook_url
        self.secret = secret
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        super().__init__()
        handler = self._server.RequestHandlerClass
        handler.do_PATCH = handler.do_GET  # type: ignore[attr-defined]

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", r"/api/v3/envelopes", self._create_envelope),
            ("POST", r"/api/v3/envelopes/(?P<env>[^/]+)/documents", self._add_document),
            ("POST", r"/api/v3/envelopes/(?P<env>[^/]+)/signers", self._add_signer),
            ("POST", r"/api/v3/envelopes/(?P<env>[^/]+)/requirements", self._add_requirement),
            ("PATCH", r"/api/v3/envelopes/(?P<env>[^/]+)", self._patch_envelope),
        ]

    # API -------------------------------------------------------------------------------------
    def _auth(self, call: Call) -> Response | None:
        if call.header("authorization") != self.token:
            return Response(401, {"errors": [{"title": "Unauthorized", "status": "401"}]})
        if "application/vnd.api+json" not in (call.header("content-type") or ""):
            return Response(415, {"errors": [{"title": "Unsupported Media Type", "status": "415"}]})
        return None

    def _data(self, call: Call, kind: str) -> dict[str, Any]:
        data = call.json()["data"]
        if data.get("type") != kind:
            raise ValueError(f"expected type {kind}")
        return data

    def _envelope(self, env: str) -> dict[str, Any] | None:
        return self.envelopes.get(env)

    def _create_envelope(self, call: Call) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        data = self._data(call, "envelopes")
        env_id = str(uuid.uuid4())
        with self.lock:
            self.envelopes[env_id] = {
                "id": env_id,
                "status": "draft",
                "attributes": data["attributes"],
                "documents": [],
                "signers": [],
                "requirements": [],
            }
        return Response(
            201,
            {
                "data": {
                    "id": env_id,
                    "type": "envelopes",
                    "attributes": {**data["attributes"], "status": "draft"},
                }
            },
            content_type="application/vnd.api+json",
        )

    def _add_document(self, call: Call, env: str) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        envelope = self._envelope(env)
        if envelope is None:
            return Response(404, {"errors": [{"title": "Not Found"}]})
        attrs = self._data(call, "documents")["attributes"]
        content = str(attrs.get("content_base64", ""))
        if not content.startswith("data:application/pdf;base64,"):
            return Response(
                422, {"errors": [{"title": "content_base64 must be a data URI", "status": "422"}]}
            )
        import base64

        pdf = base64.b64decode(content.split(",", 1)[1])
        doc_id = str(uuid.uuid4())
        with self.lock:
            self.documents[doc_id] = {
                "id": doc_id,
                "envelope": env,
                "filename": attrs.get("filename"),
                "sha256": hashlib.sha256(pdf).hexdigest(),
                "status": "running",
            }
            envelope["documents"].append(doc_id)
        return Response(
            201,
            {"data": {"id": doc_id, "type": "documents", "attributes": {"filename": attrs.get("filename")}}},
            content_type="application/vnd.api+json",
        )

    def _add_signer(self, call: Call, env: str) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        envelope = self._envelope(env)
        if envelope is None:
            return Response(404, {"errors": [{"title": "Not Found"}]})
        attrs = self._data(call, "signers")["attributes"]
        if not attrs.get("email") or not attrs.get("name"):
            return Response(422, {"errors": [{"title": "name and email are required", "status": "422"}]})
        signer_id = str(uuid.uuid4())
        with self.lock:
            envelope["signers"].append({"id": signer_id, **attrs})
        return Response(
            201,
            {"data": {"id": signer_id, "type": "signers", "attributes": attrs}},
            content_type="application/vnd.api+json",
        )

    def _add_requirement(self, call: Call, env: str) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        envelope = self._envelope(env)
        if envelope is None:
            return Response(404, {"errors": [{"title": "Not Found"}]})
        data = self._data(call, "requirements")
        with self.lock:
            envelope["requirements"].append(data["attributes"])
        return Response(
            201,
            {"data": {"id": str(uuid.uuid4()), "type": "requirements", "attributes": data["attributes"]}},
            content_type="application/vnd.api+json",
        )

    def _patch_envelope(self, call: Call, env: str) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        envelope = self._envelope(env)
        if envelope is None:
            return Response(404, {"errors": [{"title": "Not Found"}]})
        actions = {r.get("action") for r in envelope["requirements"]}
        if (
            not envelope["documents"]
            or not envelope["signers"]
            or not {"agree", "provide_evidence"} <= actions
        ):
            return Response(422, {"errors": [{"title": "envelope is not ready to run", "status": "422"}]})
        with self.lock:
            envelope["status"] = self._data(call, "envelopes")["attributes"]["status"]
        return Response(
            200,
            {"data": {"id": env, "type": "envelopes", "attributes": {"status": envelope["status"]}}},
            content_type="application/vnd.api+json",
        )

    # Webhooks --------------------------------------------------------------------------------
    def hmac_of(self, body: bytes, secret: str | None = None) -> str:
        return (
            "sha256="
            + hmac.new(
                (secret if secret is not None else self.secret).encode(), body, hashlib.sha256
            ).hexdigest()
        )

    def sign_body(
        self,
        document_key: str,
        *,
        name: str,
        ip: str,
        email: str = "signer@example.com",
        occurred_at: str | None = None,
    ) -> bytes:
        doc = self.documents[document_key]
        envelope = self.envelopes[doc["envelope"]]
        signer = envelope["signers"][0] if envelope["signers"] else {}
        body = {
            "event": {
                "name": "sign",
                "occurred_at": occurred_at or datetime.now(timezone.utc).isoformat(),
                "data": {
                    "signer": {
                        "name": name,
                        "email": email or signer.get("email"),
                        "address": ip,
                        "documentation": "529.982.247-25",
                        "auths": ["email"],
                    }
                },
            },
            "document": {
                "key": document_key,
                "status": "closed",
                "downloads": {},
                "signers": [],
                "events": [],
            },
        }
        return json.dumps(body).encode()

    def deliver(self, body: bytes, hmac_header: str | None, event: str = "sign") -> httpx.Response:
        headers = {"Content-Type": "application/json", "Event": event}
        if hmac_header is not None:
            headers["Content-Hmac"] = hmac_header
        r = httpx.post(self.webhook_url, content=body, headers=headers, timeout=10)
        with self.lock:
            self.deliveries.append({"event": event, "status": r.status_code, "body": body})
        return r

    def sign(self, document_key: str, *, name: str, ip: str) -> httpx.Response:
        body = self.sign_body(document_key, name=name, ip=ip)
        return self.deliver(body, self.hmac_of(body))


def start_fake_clicksign(token: str, webhook_url: str = "", secret: str = "") -> FakeClicksign:
    fake = FakeClicksign(token, webhook_url, secret)
    fake.start()
    return fake
