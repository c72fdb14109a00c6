"""Fake GOSAC (contract: docs/providers/gosac.md): create → contacts → PUT start.

Contacts count as delivered (ledger `received`, keyed by contact key = our message id) when the
campaign starts. `campaigns[external_id]` exposes the state; `start_calls` records every PUT.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.fakes.campaigns.server import FakeProvider, Reply, Request, bearer, run_cli


class FakeGosac(FakeProvider):
    name = "gosac"

    def __init__(self, *, token: str = "gosac-test-token", **kwargs: Any) -> None:
        self.token = token
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        self.start_calls: list[tuple[str, float]] = []
        self.create_calls = 0
        self._seq = itertools.count(1)
        super().__init__(**kwargs)

    def setup_routes(self) -> None:
        self.route("POST", "/api/v1/campaigns", self.create)
        self.route("GET", "/api/v1/campaigns", self.search)
        self.route("POST", r"/api/v1/campaigns/(?P<id>[^/]+)/contacts", self.contacts)
        self.route("PUT", r"/api/v1/campaigns/(?P<id>[^/]+)/start", self.start_campaign)
        self.route("GET", r"/api/v1/campaigns/(?P<id>[^/]+)", self.show)
        self.route("GET", "/api/v1/me", self.me)

    def reset_state(self) -> None:
        self.campaigns.clear()
        self.by_id.clear()
        self.start_calls.clear()
        self.create_calls = 0

    def error_body(self, status: int, retry_after: float | None) -> Any:
        return {"error": f"injected HTTP {status}", "code": status}

    def _auth(self, request: Request) -> Reply | None:
        if bearer(request) != self.token:
            return Reply(401, {"error": "invalid token", "code": 401})
        return None

    def _summary(self, c: dict[str, Any]) -> dict[str, Any]:
        return {"id": c["id"], "external_id": c["external_id"], "status": c["status"],
                "contacts": len(c["contacts"])}

    def me(self, request: Request) -> Reply:
        return self._auth(request) or Reply(200, {"account": "retaguarda-test"})

    def create(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.json()
        external_id = body.get("external_id")
        if not external_id or not (body.get("message") or {}).get("text"):
            return Reply(422, {"error": "external_id and message.text are required", "code": 422})
        with self.lock:
            self.create_calls += 1
            existing = self.campaigns.get(external_id)
            if existing:
                return Reply(200, self._summary(existing))
            campaign = {"id": f"gsc_{next(self._seq):06d}", "external_id": external_id, "name": body.get("name"),
                        "message": body["message"], "status": "created", "contacts": {}}
            self.campaigns[external_id] = campaign
            self.by_id[campaign["id"]] = campaign
            return Reply(201, self._summary(campaign))

    def search(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        found = self.campaigns.get(request.query.get("external_id", ""))
        return Reply(200, {"items": [self._summary(found)] if found else []})

    def _campaign(self, request: Request) -> dict[str, Any] | None:
        return self.by_id.get(request.match["id"]) if request.match else None

    def contacts(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        campaign = self._campaign(request)
        if campaign is None:
            return Reply(404, {"error": "campaign not found", "code": 404})
        items = request.json().get("contacts") or []
        if len(items) > 1000:
            return Reply(413, {"error": "at most 1000 contacts per call", "code": 413})
        with self.lock:
            if campaign["status"] != "created":
                return Reply(409, {"error": "campaign already started", "code": 409})
            added, duplicates, rejected = 0, 0, []
            for item in items:
                key, phone = item.get("key"), str(item.get("phone") or "")
                if not key or not phone.startswith("+") or len(phone) < 11:
                    rejected.append({"key": key, "reason": "invalid phone"})
                elif key in campaign["contacts"]:
                    duplicates += 1
                else:
                    campaign["contacts"][key] = item
                    added += 1
            return Reply(200, {"added": added, "duplicates": duplicates, "rejected": rejected,
                               "total": len(campaign["contacts"])})

    def start_campaign(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        campaign = self._campaign(request)
        if campaign is None:
            return Reply(404, {"error": "campaign not found", "code": 404})
        with self.lock:
            self.start_calls.append((campaign["id"], time.monotonic()))
            if not campaign["contacts"]:
                return Reply(422, {"error": "campaign has no contacts", "code": 422})
            if campaign["status"] == "created":
                campaign["status"] = "started"
                for key, contact in campaign["contacts"].items():
                    self.deliver(key, {**contact, "campaign": campaign["id"]}, contact["phone"])
            return Reply(200, self._summary(campaign))

    def show(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        campaign = self._campaign(request)
        return Reply(200, self._summary(campaign)) if campaign else Reply(404, {"error": "not found", "code": 404})

    def receipt(self, gosac_id: str, results: list[tuple[str, str, str | None]]) -> dict[str, Any]:
        """The body GOSAC would POST to our receipts endpoint: (key, DELIVERED|FAILED, error)."""
        return {"campaign_id": gosac_id, "results": [{"key": k, "status": s, "error": e} for k, s, e in results]}


def start_fake_gosac(**kwargs: Any) -> FakeGosac:
    return FakeGosac(**kwargs).start()  # type: ignore[return-value]


if __name__ == "__main__":
    run_cli(FakeGosac)
