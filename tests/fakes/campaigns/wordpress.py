"""Fake WordPress status-callback receiver: checks `X-Retaguarda-Signature` like the plugin must.

    wp = start_fake_wordpress(secret="whsec")
    wp.webhook_url                       # http://127.0.0.1:<port>/wp-json/retaguarda/v1/status
    wp.callbacks                         # every POST: body, signature, verified, reason
    wp.accepted()                        # JSON bodies of correctly signed callbacks
    wp.fail_next(2, 503)                 # the site is down twice: the sender must retry

Correctly signed callbacks answer 200; forged or stale ones 401 (and are recorded with the reason).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from retaguarda.campaigns.signing import SIGNATURE_HEADER, SignatureError, verify
from tests.fakes.campaigns.server import FakeProvider, Reply, Request, run_cli

WEBHOOK_PATH = "/wp-json/retaguarda/v1/status"


class FakeWordPress(FakeProvider):
    name = "wordpress"

    def __init__(self, *, secret: str = "wp-webhook-secret", clock: Any = None, tolerance: int = 300,
                 **kwargs: Any) -> None:
        self.secret = secret
        self.clock = clock
        self.tolerance = tolerance
        self.callbacks: list[dict[str, Any]] = []
        super().__init__(**kwargs)

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}{WEBHOOK_PATH}"

    def setup_routes(self) -> None:
        self.route("POST", WEBHOOK_PATH, self.receive)

    def reset_state(self) -> None:
        self.callbacks.clear()

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c["json"] for c in self.callbacks if c["verified"]]

    def receive(self, request: Request) -> Reply:
        now = self.clock.now() if self.clock else datetime.now(timezone.utc)
        signature = request.header(SIGNATURE_HEADER)
        try:
            verify(request.body, signature, self.secret, now=now, tolerance=self.tolerance)
            verified, reason = True, None
        except SignatureError as exc:
            verified, reason = False, str(exc)
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        with self.lock:
            self.callbacks.append({"json": body, "body": request.body, "signature": signature,
                                   "verified": verified, "reason": reason})
        if not verified:
            return Reply(401, {"code": "rest_forbidden", "message": reason})
        return Reply(200, {"ok": True})

    def state(self) -> dict[str, Any]:
        data = super().state()
        with self.lock:
            data["callbacks"] = len(self.callbacks)
            data["verified"] = sum(1 for c in self.callbacks if c["verified"])
        return data

    def admin_extra(self, request: Request) -> Reply | None:
        if request.path == "/_fake/callbacks":
            with self.lock:
                return Reply(200, [{k: v for k, v in c.items() if k != "body"} for c in self.callbacks])
        return None


def start_fake_wordpress(**kwargs: Any) -> FakeWordPress:
    return FakeWordPress(**kwargs).start()  # type: ignore[return-value]


if __name__ == "__main__":
    run_cli(FakeWordPress, extra=lambda p: p.add_argument("--secret", default="wp-webhook-secret"))
