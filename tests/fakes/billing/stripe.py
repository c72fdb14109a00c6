"""A fake Stripe API on 127.0.0.1: Checkout Sessions, a hosted "pay" page, signed webhooks, refunds.

    fake = start_fake_stripe(webhook_url="http://127.0.0.1:8000/api/v1/billing/webhooks/stripe",
                             secret="whsec_test", api_key="sk_test_fake")
    session = StripeClient(fake.base_url, "sk_test_fake").create_checkout_session(...)
    fake.pay(session["id"])        # marks it paid and POSTs a signed checkout.session.completed
    fake.deliveries                # every webhook POST: event, status code, body
    fake.fail_next(429, retry_after=1)
    fake.stop()

A browser can open `session["url"]` (``/checkout/<id>``) and press the button with
``data-testid="fake-stripe-pay"``: the fake pays the session, delivers the webhook, and redirects
to the session's success_url. Idempotency follows Stripe: a key replays the stored answer of the
first executed request; the same key with different parameters is a 400 ``idempotency_error``.
Injected faults (`fail_next`) answer before execution, so they are not stored.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.fakes.billing._http import Call, FakeHttpServer, Response


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _nest(form: dict[str, str]) -> dict[str, Any]:
    """``a[b][0][c]=v`` → ``{"a": {"b": {"0": {"c": "v"}}}}``."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@dataclass
class Delivery:
    event: dict[str, Any]
    status: int | None
    body: str
    error: str | None = None


@dataclass
class FakeStripe(FakeHttpServer):
    webhook_url: str | None = None
    secret: str = "whsec_test_secret"
    api_key: str = "sk_test_fake"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    idempotency: dict[str, tuple[str, Response]] = field(default_factory=dict)

    name = "fake-stripe"

    def __post_init__(self) -> None:
        FakeHttpServer.__init__(self)

    def routes(self) -> list:
        return [
            ("POST", r"/v1/checkout/sessions", self._create_session),
            ("GET", r"/v1/checkout/sessions/(?P<sid>[A-Za-z0-9_]+)", self._get_session),
            ("POST", r"/v1/refunds", self._create_refund),
            ("GET", r"/checkout/(?P<sid>[A-Za-z0-9_]+)", self._checkout_page),
            ("POST", r"/checkout/(?P<sid>[A-Za-z0-9_]+)/pay", self._checkout_pay),
        ]

    # control -----------------------------------------------------------------------------------
    def pay(self, session_id: str, *, deliver: bool = True) -> dict[str, Any]:
        """Complete the session as a card payment; returns the `checkout.session.completed` event."""
        with self.lock:
            session = self.sessions[session_id]
            if session["status"] != "complete":
                pi = f"pi_{secrets.token_hex(12)}"
                self.payment_intents[pi] = {"id": pi, "amount": session["amount_total"], "amount_refunded": 0,
                                            "status": "succeeded", "metadata": dict(session["metadata"])}
                session.update(status="complete", payment_status="paid", payment_intent=pi)
            event = self._event("checkout.session.completed", dict(session))
        if deliver:
            self.deliver(event)
        return event

    def expire(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            self.sessions[session_id].update(status="expired")
            event = self._event("checkout.session.expired", dict(self.sessions[session_id]))
        self.deliver(event)
        return event

    def deliver(self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None,
                payload: bytes | None = None, url: str | None = None) -> Delivery:
        """POST `event` signed (optionally with a forged secret or stale timestamp) to the webhook URL."""
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("FakeStripe has no webhook_url")
        body = payload if payload is not None else json.dumps(event).encode()
        when = timestamp if timestamp is not None else int(time.time())
        header = stripe_signature(body, secret or self.secret, when)
        try:
            answer = httpx.post(target, content=body, timeout=10,
                                headers={"Content-Type": "application/json", "Stripe-Signature": header,
                                         "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})
            delivery = Delivery(event, answer.status_code, answer.text)
        except httpx.HTTPError as exc:
            delivery = Delivery(event, None, "", error=repr(exc))
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    def redeliver(self, event_id: str, **kwargs: Any) -> Delivery:
        event = next(e for e in self.events if e["id"] == event_id)
        return self.deliver(event, **kwargs)

    # handlers ----------------------------------------------------------------------------------
    def _auth(self, call: Call) -> Response | None:
        import base64

        header = call.header("authorization") or ""
        expected = "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()
        if not hmac.compare_digest(header, expected):
            return Response(401, {"error": {"type": "invalid_request_error",
                                            "message": "Invalid API Key provided"}})
        return None

    def _idempotent(self, call: Call, execute: Any) -> Response:
        key = call.header("idempotency-key")
        fingerprint = hashlib.sha256(call.path.encode() + call.body).hexdigest()
        if key:
            with self.lock:
                stored = self.idempotency.get(key)
            if stored is not None:
                if stored[0] != fingerprint:
                    return Response(400, {"error": {"type": "idempotency_error", "message": (
                        "Keys for idempotent requests can only be used with the same parameters they were "
                        "first used with.")}})
                replay = stored[1]
                return Response(replay.status, replay.body, {**replay.headers, "Idempotent-Replayed": "true"})
        response = execute()
        if key and response.status != 400:
            with self.lock:
                self.idempotency[key] = (fingerprint, response)
        return response

    def _create_session(self, call: Call) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        params = _nest(call.form())

        def execute() -> Response:
            try:
                item = params["line_items"]["0"]
                amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", "1"))
                currency = item["price_data"]["currency"]
            except (KeyError, ValueError):
                return Response(400, {"error": {"type": "invalid_request_error", "param": "line_items",
                                                "message": "line_items[0] needs price_data and quantity"}})
            if params.get("mode") != "payment" or not params.get("success_url"):
                return Response(400, {"error": {"type": "invalid_request_error", "param": "mode",
                                                "message": "mode=payment and success_url are required"}})
            sid = f"cs_test_{secrets.token_hex(16)}"
            session = {
                "id": sid, "object": "checkout.session", "mode": "payment", "status": "open",
                "payment_status": "unpaid", "amount_total": amount, "currency": currency,
                "client_reference_id": params.get("client_reference_id"),
                "customer_email": params.get("customer_email"), "metadata": params.get("metadata", {}),
                "payment_intent": None, "success_url": params["success_url"],
                "cancel_url": params.get("cancel_url"), "url": f"{self.base_url}/checkout/{sid}",
                "expires_at": int(params.get("expires_at") or time.time() + 86400),
                "description": item["price_data"].get("product_data", {}).get("name"),
            }
            with self.lock:
                self.sessions[sid] = session
            return Response(200, dict(session))

        return self._idempotent(call, execute)

    def _get_session(self, call: Call, sid: str) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            return Response(404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                            "message": f"No such checkout.session: '{sid}'"}})
        return Response(200, dict(session))

    def _create_refund(self, call: Call) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        params = call.form()

        def execute() -> Response:
            with self.lock:
                pi = self.payment_intents.get(params.get("payment_intent", ""))
                if pi is None:
                    return Response(404, {"error": {"type": "invalid_request_error",
                                                    "code": "resource_missing",
                                                    "message": "No such payment_intent"}})
                remaining = pi["amount"] - pi["amount_refunded"]
                amount = int(params.get("amount") or remaining)
                if amount <= 0 or amount > remaining:
                    code = "charge_already_refunded" if remaining == 0 else "amount_too_large"
                    return Response(400, {"error": {"type": "invalid_request_error", "code": code,
                                                    "message": "Refund amount too large"}})
                pi["amount_refunded"] += amount
                rid = f"re_{secrets.token_hex(12)}"
                refund = {"id": rid, "object": "refund", "amount": amount, "payment_intent": pi["id"],
                          "status": "succeeded", "currency": "brl", "reason": params.get("reason")}
                self.refunds[rid] = refund
            return Response(200, dict(refund))

        return self._idempotent(call, execute)

    def _checkout_page(self, call: Call, sid: str) -> Response:
        with self.lock:
            session = self.sessions.get(sid)
        if session is None:
            return Response(404, "<h1>No such session</h1>", content_type="text/html")
        amount = f"R$ {session['amount_total'] // 100},{session['amount_total'] % 100:02d}"
        done = session["status"] == "complete"
        button = (f'<form method="post" action="/checkout/{sid}/pay"><button data-testid="fake-stripe-pay">'
                  f'Pay {html.escape(amount)}</button></form>')
        page = f"""<!doctype html><html><head><meta name="viewport" content="width=device-width">
<title>Fake Stripe Checkout</title></head><body>
<h1>Fake Stripe Checkout</h1><p data-testid="fake-stripe-amount">{html.escape(amount)}</p>
<p>{html.escape(str(session.get('description') or ''))}</p>
{'<p data-testid="fake-stripe-paid">Paid</p>' if done else button}
</body></html>"""
        return Response(200, page, content_type="text/html; charset=utf-8")

    def _checkout_pay(self, call: Call, sid: str) -> Response:
        if sid not in self.sessions:
            return Response(404, "<h1>No such session</h1>", content_type="text/html")
        self.pay(sid)
        target = self.sessions[sid]["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
        return Response(303, b"", {"Location": target}, content_type="text/html")

    def _event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {"id": f"evt_{secrets.token_hex(12)}", "object": "event", "type": kind,
                 "created": int(time.time()), "livemode": False, "api_version": "2024-06-20",
                 "data": {"object": obj}}
        self.events.append(event)
        return event


def start_fake_stripe(*, webhook_url: str | None = None, secret: str = "whsec_test_secret",
                      api_key: str = "sk_test_fake") -> FakeStripe:
    """Start a fake Stripe on an ephemeral 127.0.0.1 port; call `.stop()` when done."""
    fake = FakeStripe(webhook_url=webhook_url, secret=secret, api_key=api_key)
    fake.start()
    return fake
