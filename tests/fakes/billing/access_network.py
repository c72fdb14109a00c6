"""A fake access-network receiver (what an ISP's RADIUS/NAS bridge would run) on 127.0.0.1.

    receiver = start_fake_access_network(secret="an-secret")
    AccessNetworkWebhook(receiver.url, "an-secret").block(...)
    receiver.received      # accepted messages (verified, first delivery of each event id)
    receiver.rejected      # deliveries whose signature failed (forged/stale) → answered 401
    receiver.blocked       # {customer_id: True/False}: the network's current state
    receiver.fail_next(503, times=2)   # then accept

The HMAC check here is written independently of the adapter's own verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.billing._http import Call, FakeHttpServer, Response


@dataclass
class FakeAccessNetwork(FakeHttpServer):
    secret: str = "access-secret"
    tolerance: int = 300
    received: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Call] = field(default_factory=list)
    blocked: dict[str, bool] = field(default_factory=dict)

    name = "fake-access-network"

    def __post_init__(self) -> None:
        FakeHttpServer.__init__(self)
        self.url = f"{self.base_url}/radius/hook"

    def routes(self) -> list:
        return [("POST", r"/radius/hook", self._hook)]

    def _verified(self, call: Call) -> bool:
        header = call.header("x-retaguarda-signature") or ""
        fields: dict[str, list[str]] = {}
        for part in header.split(","):
            key, _, value = part.partition("=")
            fields.setdefault(key.strip(), []).append(value.strip())
        try:
            ts = int(fields["t"][0])
        except (KeyError, ValueError):
            return False
        if abs(time.time() - ts) > self.tolerance:
            return False
        mac = hmac.new(self.secret.encode(), f"{ts}.".encode() + call.body, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(mac, v) for v in fields.get("v1", []))

    def _hook(self, call: Call) -> Response:
        if not self._verified(call):
            with self.lock:
                self.rejected.append(call)
            return Response(401, {"error": "bad signature"})
        message = json.loads(call.body)
        with self.lock:
            if any(m["event_id"] == message["event_id"] for m in self.received):
                self.duplicates.append(message)
                return Response(200, {"ok": True, "duplicate": True})
            self.received.append(message)
            self.blocked[message["customer_id"]] = message["action"] == "block"
        return Response(200, {"ok": True})


def start_fake_access_network(*, secret: str = "access-secret") -> FakeAccessNetwork:
    """Start the receiver on an ephemeral 127.0.0.1 port; its endpoint is `.url`."""
    fake = FakeAccessNetwork(secret=secret)
    fake.start()
    return fake
