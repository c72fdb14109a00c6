"""Fake SMS provider used for the RCS fallback (contract: docs/providers/sms.md)."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.campaigns.server import FakeProvider, Reply, Request, bearer, run_cli


class FakeSms(FakeProvider):
    name = "sms"

    def __init__(self, *, api_key: str = "sms-test-key", **kwargs: Any) -> None:
        self.api_key = api_key
        self.ids: dict[str, str] = {}
        self._seq = itertools.count(1)
        super().__init__(**kwargs)

    def setup_routes(self) -> None:
        self.route("POST", "/v1/sms", self.post_sms)
        self.route("GET", "/v1/balance", self.balance)

    def reset_state(self) -> None:
        self.ids.clear()

    def error_body(self, status: int, retry_after: float | None) -> Any:
        return {"code": "injected", "message": f"injected HTTP {status}"}

    def _auth(self, request: Request) -> Reply | None:
        if bearer(request) != self.api_key:
            return Reply(401, {"code": "unauthorized", "message": "invalid token"})
        return None

    def balance(self, request: Request) -> Reply:
        return self._auth(request) or Reply(200, {"balance": 50_000})

    def post_sms(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.json()
        key, to, text = body.get("id"), body.get("to"), body.get("text")
        if not key:
            return Reply(422, {"code": "invalid_field", "field": "id", "message": "id is required"})
        if not to or not str(to).startswith("+"):
            return Reply(422, {"code": "invalid_field", "field": "to", "message": "to must be E.164"})
        if not text or len(text) > 1600:
            return Reply(422, {"code": "invalid_field", "field": "text", "message": "text must be 1..1600 chars"})
        with self.lock:
            first = self.deliver(key, body, to)
            if first:
                self.ids[key] = f"sms_{next(self._seq):08d}"
            sms_id = self.ids[key]
        return Reply(201 if first else 200, {"id": sms_id, "status": "queued", "segments": 1 + len(text) // 153})


def start_fake_sms(**kwargs: Any) -> FakeSms:
    return FakeSms(**kwargs).start()  # type: ignore[return-value]


if __name__ == "__main__":
    run_cli(FakeSms, extra=lambda p: p.add_argument("--api-key", dest="api_key", default="sms-test-key"))
