"""Fake CDA (contract: docs/providers/cda.md).

    fake = start_fake_cda(api_key="cda-key")
    fake.received[message_id]          # first payload per Idempotency-Key
    fake.throttle_next(2, retry_after=3); fake.fail_next(1, 503); fake.reject_phone("+55...")
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.campaigns.server import FakeProvider, Reply, Request, run_cli


class FakeCda(FakeProvider):
    name = "cda"

    def __init__(self, *, api_key: str = "cda-test-key", **kwargs: Any) -> None:
        self.api_key = api_key
        self.ids: dict[str, str] = {}
        self.invalid_phones: set[str] = set()
        self._seq = itertools.count(1)
        super().__init__(**kwargs)

    def setup_routes(self) -> None:
        self.route("POST", "/v1/messages", self.post_message)
        self.route("GET", "/v1/account", self.account)

    def reset_state(self) -> None:
        self.ids.clear()

    def reject_phone(self, phone: str) -> None:
        self.invalid_phones.add(phone)

    def _auth(self, request: Request) -> Reply | None:
        if request.header("X-Api-Key") != self.api_key:
            return Reply(401, {"error": {"code": "unauthorized", "message": "invalid API key"}})
        return None

    def account(self, request: Request) -> Reply:
        return self._auth(request) or Reply(200, {"account": "retaguarda-test", "balance": 1_000_000})

    def post_message(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        key = request.header("Idempotency-Key")
        body = request.json()
        if not key or not isinstance(body, dict):
            return Reply(400, {"error": {"code": "missing_idempotency_key", "message": "Idempotency-Key required"}})
        phone = (body.get("recipient") or {}).get("phone")
        text = (body.get("message") or {}).get("text")
        if not phone or not str(phone).startswith("+") or phone in self.invalid_phones:
            return Reply(422, {"error": {"code": "invalid_phone", "message": f"invalid phone {phone!r}"}})
        if not text:
            return Reply(422, {"error": {"code": "empty_text", "message": "message.text is required"}})
        with self.lock:
            if key in self.received and self.received[key] != body:
                self.attempts[key] += 1
                return Reply(409, {"error": {"code": "idempotency_key_reused",
                                             "message": "Idempotency-Key already used with another payload"}})
            first = self.deliver(key, body, phone)
            if first:
                self.ids[key] = f"cda_{next(self._seq):08d}"
            cda_id = self.ids[key]
        return Reply(201 if first else 200, {"id": cda_id, "reference": key, "status": "accepted",
                                              "channel": "sms"})

    def receipt(self, key: str, status: str = "delivered", reason: str | None = None) -> dict[str, Any]:
        """The body CDA would POST to our receipts endpoint for `key`."""
        return {"events": [{"id": self.ids.get(key), "reference": key, "status": status, "reason": reason}]}


def start_fake_cda(**kwargs: Any) -> FakeCda:
    return FakeCda(**kwargs).start()  # type: ignore[return-value]


if __name__ == "__main__":
    run_cli(FakeCda, extra=lambda p: p.add_argument("--api-key", dest="api_key", default="cda-test-key"))
