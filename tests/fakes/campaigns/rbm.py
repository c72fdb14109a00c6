"""Fake Google RCS Business Messaging (RBM) with its OAuth2 token endpoint.

    rbm = start_fake_rbm()
    creds = {"agent_id": rbm.agent_id, "service_account_json": rbm.service_account_json()}
    settings: rcs_url = rbm.base_url, rcs_token_url = rbm.base_url   (token at /token)
    rbm.mark_not_capable("+5511...")   # capability check and send answer 404 NOT_FOUND
    rbm.expire_tokens()                # issued tokens now get 401 UNAUTHENTICATED

The token endpoint verifies the RS256 JWT assertion against the public key of the service
account it generated (issuer, audience, scope), like Google's.
"""

from __future__ import annotations

import base64
import itertools
import json
import sys
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.campaigns.server import FakeProvider, Reply, Request, bearer, run_cli

SCOPE = "https://www.googleapis.com/auth/rcsbusinessmessaging"
FEATURES = ["RICHCARD_STANDALONE", "RICHCARD_CAROUSEL", "ACTION_CREATE_CALENDAR_EVENT", "ACTION_DIAL",
            "ACTION_OPEN_URL", "ACTION_SHARE_LOCATION", "ACTION_VIEW_LOCATION"]
_CONTENT_FIELDS = ("text", "fileName", "uploadedRbmFile", "richCard", "contentInfo")


def _google_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeRbm(FakeProvider):
    name = "rbm"

    def __init__(self, *, agent_id: str = "retaguarda_agent", token_lifetime: int = 3600, lenient: bool = False,
                 **kwargs: Any) -> None:
        self.agent_id = agent_id
        self.lenient = lenient
        """Demo mode: accept any well-formed RS256 assertion (any key, any issuer) and any agentId."""
        self.token_lifetime = token_lifetime
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = "rbm-sender@retaguarda-test.iam.gserviceaccount.com"
        self.not_capable: set[str] = set()
        self.no_rich_cards: set[str] = set()
        self.valid_tokens: dict[str, float] = {}
        """token -> monotonic expiry: tokens also lapse on their own after `token_lifetime` s."""
        self.token_requests = 0
        self.capability_checks = 0
        self.revoked: set[str] = set()
        self._seq = itertools.count(1)
        super().__init__(**kwargs)

    def setup_routes(self) -> None:
        self.route("POST", "/token", self.token)
        self.route("GET", r"/v1/phones/(?P<phone>[^/]+)/capabilities", self.capabilities)
        self.route("POST", r"/v1/phones/(?P<phone>[^/]+)/agentMessages", self.agent_message)
        self.route("DELETE", r"/v1/phones/(?P<phone>[^/]+)/agentMessages/(?P<mid>[^/]+)", self.revoke)

    def reset_state(self) -> None:
        self.valid_tokens.clear()
        self.revoked.clear()
        self.token_requests = 0
        self.capability_checks = 0

    def error_body(self, status: int, retry_after: float | None) -> Any:
        return _google_error(status, {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL"),
                             f"injected HTTP {status}")

    # --- test helpers ----------------------------------------------------------------------

    def service_account(self) -> dict[str, Any]:
        pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "retaguarda-test", "private_key_id": "fake-key-1",
                "private_key": pem, "client_email": self.client_email, "token_uri": f"{self.base_url}/token"}

    def service_account_json(self) -> str:
        return json.dumps(self.service_account())

    def mark_not_capable(self, *phones: str) -> None:
        self.not_capable.update(phones)

    def expire_tokens(self) -> None:
        with self.lock:
            self.valid_tokens.clear()

    def event_body(self, message_id: str, event_type: str = "DELIVERED", phone: str = "+5511999999999",
                   *, pubsub: bool = True) -> bytes:
        """An RBM server/user event as RBM would push it (Pub/Sub envelope by default)."""
        event = {"phoneNumber" if event_type.startswith("TTL") else "senderPhoneNumber": phone,
                 "messageId": message_id, "agentId": self.agent_id, "eventType": event_type,
                 "eventId": f"ev-{next(self._seq)}", "sendTime": datetime.now(timezone.utc).isoformat()}
        return _envelope(event) if pubsub else json.dumps(event).encode()

    def user_message_body(self, text: str, phone: str) -> bytes:
        return _envelope({"senderPhoneNumber": phone, "messageId": f"um-{next(self._seq)}", "text": text,
                          "agentId": self.agent_id, "sendTime": datetime.now(timezone.utc).isoformat()})

    # --- endpoints -------------------------------------------------------------------------

    def token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        with self.lock:
            self.token_requests += 1
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply(400, {"error": "unsupported_grant_type"})
        problem = self._check_assertion(form.get("assertion", ""))
        if problem:
            return Reply(400, {"error": "invalid_grant", "error_description": problem})
        token = f"ya29.fake-{next(self._seq)}"
        with self.lock:
            self.valid_tokens[token] = time.monotonic() + self.token_lifetime
        return Reply(200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"})

    def _check_assertion(self, assertion: str) -> str | None:
        try:
            head, claims_b64, sig = assertion.split(".")
            header = json.loads(_unb64(head))
            claims = json.loads(_unb64(claims_b64))
            if not self.lenient:
                self.key.public_key().verify(_unb64(sig), f"{head}.{claims_b64}".encode(), padding.PKCS1v15(),
                                             hashes.SHA256())
            elif not sig:
                raise ValueError("unsigned")
        except (ValueError, InvalidSignature):
            return "Invalid JWT Signature."
        if header.get("alg") != "RS256":
            return "Invalid JWT algorithm."
        if claims.get("iss") != self.client_email and not self.lenient:
            return "Invalid issuer."
        if claims.get("aud") != f"{self.base_url}/token":
            return "Invalid JWT audience."
        if SCOPE not in str(claims.get("scope", "")).split():
            return "Invalid scope."
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= claims.get("iat", 0):
            return "Invalid JWT: exp."
        return None

    def _auth(self, request: Request) -> Reply | None:
        with self.lock:
            if self.valid_tokens.get(bearer(request) or "", 0.0) <= time.monotonic():
                return Reply(401, _google_error(401, "UNAUTHENTICATED",
                                                "Request had invalid authentication credentials."))
        if request.query.get("agentId") != self.agent_id and not self.lenient:
            return Reply(403, _google_error(403, "PERMISSION_DENIED", "Agent is not allowed."))
        return None

    def capabilities(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        phone = request.match["phone"] if request.match else ""
        with self.lock:
            self.capability_checks += 1
        if not request.query.get("requestId"):
            return Reply(400, _google_error(400, "INVALID_ARGUMENT", "requestId is required"))
        if phone in self.not_capable:
            return Reply(404, _google_error(404, "NOT_FOUND", "Requested entity was not found."))
        features = [f for f in FEATURES if not (phone in self.no_rich_cards and f.startswith("RICHCARD"))]
        return Reply(200, {"features": features})

    def agent_message(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        phone = request.match["phone"] if request.match else ""
        message_id = request.query.get("messageId")
        if not message_id:
            return Reply(400, _google_error(400, "INVALID_ARGUMENT", "messageId is required"))
        if not phone.startswith("+"):
            return Reply(400, _google_error(400, "INVALID_ARGUMENT", "phone must be E.164"))
        if phone in self.not_capable:
            return Reply(404, _google_error(404, "NOT_FOUND", "Requested entity was not found."))
        body = request.json()
        content = (body or {}).get("contentMessage") or {}
        present = [f for f in _CONTENT_FIELDS if f in content]
        if len(present) != 1:
            return Reply(400, _google_error(400, "INVALID_ARGUMENT", "exactly one content field is required"))
        if "expireTime" in body and "ttl" in body:
            return Reply(400, _google_error(400, "INVALID_ARGUMENT", "expireTime and ttl are exclusive"))
        if not self.deliver(message_id, body, phone):
            return Reply(409, _google_error(409, "ALREADY_EXISTS", "Message with this ID already exists."))
        return Reply(200, {"name": f"phones/{phone}/agentMessages/{message_id}",
                           "sendTime": datetime.now(timezone.utc).isoformat(), **body})

    def revoke(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        mid = request.match["mid"] if request.match else ""
        with self.lock:
            if mid not in self.received or mid in self.revoked:
                return Reply(404, _google_error(404, "NOT_FOUND", "Requested entity was not found."))
            self.revoked.add(mid)
        return Reply(200, {})

    def admin_extra(self, request: Request) -> Reply | None:
        if request.path == "/_fake/service_account":
            return Reply(200, self.service_account())
        if request.path == "/_fake/not_capable" and request.method == "POST":
            self.mark_not_capable(*request.json().get("phones", []))
            return Reply(200, {"not_capable": sorted(self.not_capable)})
        return None


def _envelope(event: dict[str, Any]) -> bytes:
    data = base64.b64encode(json.dumps(event).encode()).decode()
    return json.dumps({"message": {"data": data, "messageId": "ps-1", "publishTime":
                                   datetime.now(timezone.utc).isoformat()},
                       "subscription": "projects/rbm/subscriptions/retaguarda"}).encode()


def start_fake_rbm(**kwargs: Any) -> FakeRbm:
    return FakeRbm(**kwargs).start()  # type: ignore[return-value]


def main(argv: list[str]) -> None:
    """Like run_cli, plus `--service-account-out FILE` so another process can authenticate."""
    out = None
    if "--service-account-out" in argv:
        i = argv.index("--service-account-out")
        out = argv[i + 1]
        del argv[i:i + 2]

    def factory(**kw: Any) -> FakeRbm:
        fake = FakeRbm(**kw)
        if out:
            with open(out, "w") as fh:
                fh.write(fake.service_account_json())
        return fake

    factory.__name__ = "FakeRbm"
    def extra(parser: Any) -> None:
        parser.add_argument("--agent-id", dest="agent_id", default="retaguarda_agent")
        parser.add_argument("--lenient", action="store_true",
                            help="accept any service-account key and agent id (demo tenants)")

    run_cli(factory, argv, extra=extra)


if __name__ == "__main__":
    main(sys.argv[1:])
