"""A fake Mercado Pago Payments API on 127.0.0.1: PIX and boleto payments, GET, signed webhooks.

    fake = start_fake_mercadopago(webhook_url="http://…/api/v1/billing/webhooks/mercadopago",
                                  secret="mp_test_secret", access_token="TEST-token")
    MercadoPagoClient(fake.base_url, "TEST-token").create_pix_payment(...)
    fake.approve(payment_id)       # status → approved, then a signed notification is POSTed
    fake.notify(payment_id, secret="forged")   # deliveries with forged/stale signatures
    fake.fail_next(500) / fail_next(429, retry_after=1) / fail_next(malformed=True)

Notifications go to the payment's `notification_url` when it has one, else `webhook_url`, with
``?data.id=<id>&type=payment`` appended, headers ``x-signature: ts=<ms>,v1=<hmac>`` and
``x-request-id``, and the documented body (``action: payment.updated``, ``data.id``).
The PIX code and boleto barcode are built here with an independent implementation of the
BR Code and FEBRABAN rules, so the client's own checks are exercised against other code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.billing._http import Call, FakeHttpServer, Response

TINY_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
            "rkJggg==")


def _bad(message: str, code: int) -> Response:
    return Response(400, {"message": message, "error": "bad_request", "status": 400,
                          "cause": [{"code": code, "description": message}]})


def _crc(text: str) -> str:
    crc = 0xFFFF
    for byte in text.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = (crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _f(ident: str, value: str) -> str:
    return f"{ident}{len(value):02d}{value}"


def dynamic_brcode(location: str, amount: Decimal, name: str = "MERCADO PAGO",
                   city: str = "SAO PAULO") -> str:
    body = (_f("00", "01") + _f("01", "12") + _f("26", _f("00", "br.gov.bcb.pix") + _f("25", location))
            + _f("52", "0000") + _f("53", "986") + _f("54", f"{amount:.2f}") + _f("58", "BR") + _f("59", name)
            + _f("60", city) + _f("62", _f("05", "***")) + "6304")
    return body + _crc(body)


def _dv11(digits: str) -> str:
    weights = [2, 3, 4, 5, 6, 7, 8, 9]
    total = sum(int(d) * weights[i % 8] for i, d in enumerate(digits[::-1]))
    rest = 11 - total % 11
    return "1" if rest > 9 else str(rest)


def bradesco_barcode(amount: Decimal, due: datetime, our_number: int) -> str:
    """237 barcode: factor in the 2025 cycle, amount, a Bradesco-like campo livre."""
    factor = 1000 + (due.date() - datetime(2025, 2, 22).date()).days
    free = f"3381{'09'}{our_number:011d}{'0001234'}0"  # agency, carteira, nosso número, account, zero
    head, tail = "2379", f"{factor:04d}{int(amount * 100):010d}{free}"
    return head + _dv11(head + tail) + tail


def mp_signature(data_id: str, request_id: str, ts: str, secret: str) -> str:
    manifest = f"id:{data_id};request-id:{request_id};ts:{ts};"
    return f"ts={ts},v1={hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()}"


@dataclass
class Notification:
    url: str
    data_id: str
    request_id: str
    signature: str
    status: int | None
    error: str | None = None


@dataclass
class FakeMercadoPago(FakeHttpServer):
    webhook_url: str | None = None
    secret: str = "mp_test_secret"
    access_token: str = "TEST-fake-token"
    require_idempotency_key: bool = True
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    idempotency: dict[str, tuple[str, Response]] = field(default_factory=dict)
    next_id: int = 1_300_000_001

    name = "fake-mercadopago"

    def __post_init__(self) -> None:
        FakeHttpServer.__init__(self)

    def routes(self) -> list:
        return [
            ("POST", r"/v1/payments", self._create),
            ("GET", r"/v1/payments/(?P<pid>[0-9]+)", self._get),
        ]

    # control -----------------------------------------------------------------------------------
    def set_status(self, payment_id: str, status: str, *, notify: bool = True,
                   **extra: Any) -> Notification | None:
        with self.lock:
            payment = self.payments[str(payment_id)]
            payment["status"] = status
            payment["status_detail"] = {"approved": "accredited", "rejected": "rejected_by_bank",
                                        "cancelled": "expired", "refunded": "refunded"}.get(status, status)
            if status == "approved":
                payment["date_approved"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            payment["date_last_updated"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            payment.update(extra)
        return self.notify(payment_id) if notify else None

    def approve(self, payment_id: str, *, notify: bool = True) -> Notification | None:
        """Mark paid (``approved``/``accredited``) and POST a signed ``payment.updated`` notification."""
        return self.set_status(payment_id, "approved", notify=notify)

    def notify(self, payment_id: str, *, secret: str | None = None, ts: str | None = None,
               request_id: str | None = None, data_id: str | None = None,
               url: str | None = None) -> Notification:
        """Send a notification (forge with `secret`, make it stale with `ts`, replay with `request_id`)."""
        pid = str(payment_id)
        with self.lock:
            payment = self.payments.get(pid, {})
        target = url or payment.get("notification_url") or self.webhook_url
        if not target:
            raise RuntimeError("FakeMercadoPago has no webhook_url")
        data_id = data_id or pid
        request_id = request_id or str(uuid.uuid4())
        ts = ts or str(int(time.time() * 1000))
        signature = mp_signature(data_id, request_id, ts, secret or self.secret)
        body = {"id": int(time.time() * 1000), "live_mode": False, "type": "payment",
                "date_created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "user_id": 44444,
                "api_version": "v1", "action": "payment.updated", "data": {"id": data_id}}
        full = target + ("&" if "?" in target else "?") + urlencode({"data.id": data_id, "type": "payment"})
        try:
            answer = httpx.post(full, json=body, timeout=22,
                                headers={"x-signature": signature, "x-request-id": request_id})
            note = Notification(full, data_id, request_id, signature, answer.status_code)
        except httpx.HTTPError as exc:
            note = Notification(full, data_id, request_id, signature, None, error=repr(exc))
        with self.lock:
            self.notifications.append(note)
        return note

    # handlers ----------------------------------------------------------------------------------
    def _auth(self, call: Call) -> Response | None:
        if call.header("authorization") != f"Bearer {self.access_token}":
            return Response(401, {"message": "invalid access token", "error": "unauthorized", "status": 401,
                                  "cause": [{"code": 2002, "description": "invalid access token"}]})
        return None

    def _create(self, call: Call) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        key = call.header("x-idempotency-key")
        if self.require_idempotency_key and not key:
            return Response(400, {"message": "header X-Idempotency-Key is required", "error": "bad_request",
                                  "status": 400, "cause": []})
        fingerprint = hashlib.sha256(call.body).hexdigest()
        with self.lock:
            stored = self.idempotency.get(key or "")
        if stored is not None:
            if stored[0] != fingerprint:
                return Response(409, {"message": "idempotency key already used with another body",
                                      "error": "conflict", "status": 409, "cause": []})
            return stored[1]
        try:
            body = json.loads(call.body)
            amount = Decimal(str(body["transaction_amount"]))
            method = body["payment_method_id"]
            email = body["payer"]["email"]
        except (ValueError, KeyError, TypeError):
            return _bad("transaction_amount, payment_method_id and payer.email are required", 4)
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            return _bad("invalid transaction_amount", 4020)
        if method not in ("pix", "bolbradesco", "boleto"):
            return _bad("payment method not found", 2034)
        if method != "pix" and not (body["payer"].get("identification") or {}).get("number"):
            return _bad("payer.identification is required for boleto", 4033)
        now = datetime.now(timezone.utc)
        with self.lock:
            pid = str(self.next_id)
            self.next_id += 1
        payment: dict[str, Any] = {
            "id": int(pid), "status": "pending", "transaction_amount": float(amount),
            "description": body.get("description"), "payment_method_id": method,
            "external_reference": body.get("external_reference"),
            "notification_url": body.get("notification_url"),
            "date_created": now.isoformat(timespec="milliseconds"), "date_approved": None,
            "date_of_expiration": body.get("date_of_expiration") or (now + timedelta(days=1)).isoformat(),
            "payer": {"email": email}, "currency_id": "BRL",
        }
        if method == "pix":
            location = f"pix.fake-mercadopago.test/qr/v2/{uuid.uuid4().hex}"
            payment.update(status_detail="pending_waiting_transfer", payment_type_id="bank_transfer",
                           point_of_interaction={"type": "PIX", "transaction_data": {
                               "qr_code": dynamic_brcode(location, amount),
                               "qr_code_base64": TINY_PNG,
                               "ticket_url": f"{self.base_url}/payments/{pid}/ticket"}})
        else:
            due = now + timedelta(days=3)
            ticket = f"{self.base_url}/payments/{pid}/ticket"
            payment.update(status_detail="pending_waiting_payment", payment_type_id="ticket",
                           barcode={"content": bradesco_barcode(amount, due, int(pid))},
                           transaction_details={"financial_institution": "bradesco",
                                                "external_resource_url": ticket})
        with self.lock:
            self.payments[pid] = payment
        response = Response(201, payment)
        if key:
            with self.lock:
                self.idempotency[key] = (fingerprint, response)
        return response

    def _get(self, call: Call, pid: str) -> Response:
        if (denied := self._auth(call)) is not None:
            return denied
        with self.lock:
            payment = self.payments.get(pid)
        if payment is None:
            return Response(404, {"message": "Payment not found", "error": "not_found", "status": 404,
                                  "cause": []})
        return Response(200, dict(payment))


def start_fake_mercadopago(*, webhook_url: str | None = None, secret: str = "mp_test_secret",
                           access_token: str = "TEST-fake-token") -> FakeMercadoPago:
    """Start a fake Mercado Pago on an ephemeral 127.0.0.1 port; call `.stop()` when done."""
    fake = FakeMercadoPago(webhook_url=webhook_url, secret=secret, access_token=access_token)
    fake.start()
    return fake
