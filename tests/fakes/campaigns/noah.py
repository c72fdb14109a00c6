"""Fake NOAH (contract: docs/providers/noah.md)."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from tests.fakes.campaigns.server import FakeProvider, Reply, Request, run_cli


class FakeNoah(FakeProvider):
    name = "noah"

    def __init__(self, *, client_id: str = "noah-client", client_secret: str = "noah-secret", **kwargs: Any) -> None:
        self.expected = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.protocols: dict[str, str] = {}
        self._seq = itertools.count(1)
        super().__init__(**kwargs)

    def setup_routes(self) -> None:
        self.route("POST", "/api/messages", self.post_message)
        self.route("GET", "/api/status", self.status)

    def reset_state(self) -> None:
        self.protocols.clear()

    def error_body(self, status: int, retry_after: float | None) -> Any:
        return {"errors": [{"code": "INJECTED", "message": f"injected HTTP {status}"}]}

    def _auth(self, request: Request) -> Reply | None:
        if request.header("Authorization") != self.expected:
            return Reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
        return None

    def status(self, request: Request) -> Reply:
        return self._auth(request) or Reply(200, {"status": "ok"})

    def post_message(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.json()
        errors = []
        if not body.get("messageKey"):
            errors.append({"field": "messageKey", "message": "required"})
        to = str(body.get("to") or "")
        if not to.isdigit() or not 10 <= len(to) <= 15:
            errors.append({"field": "to", "message": "digits with country code"})
        if body.get("channel") not in ("whatsapp", "sms"):
            errors.append({"field": "channel", "message": "whatsapp or sms"})
        content = body.get("content") or {}
        if not content.get("text") and not content.get("mediaUrl"):
            errors.append({"field": "content", "message": "text or mediaUrl required"})
        if errors:
            return Reply(400, {"errors": errors})
        key = body["messageKey"]
        with self.lock:
            first = self.deliver(key, body, "+" + to)
            if first:
                self.protocols[key] = f"NOAH-{next(self._seq):09d}"
            protocol = self.protocols[key]
        return Reply(202 if first else 200, {"protocol": protocol, "messageKey": key,
                                              "status": "QUEUED" if first else "DUPLICATE"})


def start_fake_noah(**kwargs: Any) -> FakeNoah:
    return FakeNoah(**kwargs).start()  # type: ignore[return-value]


if __name__ == "__main__":
    run_cli(FakeNoah)
