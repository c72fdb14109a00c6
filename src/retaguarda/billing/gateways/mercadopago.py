"""Mercado Pago: PIX and boleto payments (`/v1/payments`), payment lookup, `x-signature` checks.

Protocol (reference gateways-payments.md section 4): JSON with ``Authorization: Bearer <token>``
and a mandatory ``X-Idempotency-Key`` on every POST to Payments. A PIX answer carries
``point_of_interaction.transaction_data{qr_code, qr_code_base64, ticket_url}``; a boleto answer
(``payment_method_id: "bolbradesco"``) carries ``barcode.content`` and
``transaction_details.external_resource_url`` (and, in newer answers, ``digitable_line``).
Webhook notifications are only hints: verify ``x-signature`` (HMAC-SHA256 over the manifest
``id:<data.id>;request-id:<x-request-id>;ts:<ts>;``), then GET the payment before trusting it.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from retaguarda.billing import boleto as boleto_codes
from retaguarda.billing.gateways.base import (
    HttpGateway,
    PermanentGatewayError,
    WebhookSignatureError,
    check_timestamp,
    hmac_sha256_hex,
    parse_signature_header,
)
from retaguarda.shared.compare import same_secret

DEFAULT_TOLERANCE = 300
# Payment statuses (MP): money received for approved/authorized; refunded/charged_back undo it.
PAID_STATUSES = frozenset({"approved", "authorized"})
_CENT = Decimal("0.01")


class MercadoPagoClient(HttpGateway):
    """A Mercado Pago Payments client. Raises GatewayError (transient or permanent)."""

    provider = "mercadopago"

    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0, **kwargs: Any) -> None:
        super().__init__(base_url, timeout=timeout, headers={"Authorization": f"Bearer {access_token}"},
                         **kwargs)

    def create_pix_payment(self, *, amount: Decimal, description: str, payer_email: str,
                           external_reference: str, idempotency_key: str,
                           notification_url: str | None = None, date_of_expiration: datetime | None = None,
                           payer_first_name: str | None = None, payer_last_name: str | None = None,
                           payer_document: str | None = None) -> dict[str, Any]:
        """A PIX payment; returns ``{id, status, status_detail, qr_code, qr_code_base64, ticket_url,
        amount, external_reference}`` (``qr_code`` is the copy-paste BR Code)."""
        body = self._payment_body("pix", amount, description, payer_email, external_reference,
                                  notification_url, date_of_expiration, payer_first_name, payer_last_name,
                                  payer_document)
        answer = self._post_payment(body, idempotency_key)
        payment = _normalize(answer)
        data = (answer.get("point_of_interaction") or {}).get("transaction_data") or {}
        if not data.get("qr_code"):
            raise PermanentGatewayError("mercadopago: PIX answer without a qr_code in point_of_interaction",
                                        provider=self.provider)
        payment.update(qr_code=data["qr_code"], qr_code_base64=data.get("qr_code_base64"),
                       ticket_url=data.get("ticket_url"))
        return payment

    def create_boleto_payment(self, *, amount: Decimal, description: str, payer_email: str,
                              payer_first_name: str, payer_last_name: str, payer_document: str,
                              payer_address: dict[str, str] | None, external_reference: str,
                              idempotency_key: str, notification_url: str | None = None,
                              date_of_expiration: datetime | None = None,
                              payment_method_id: str = "bolbradesco") -> dict[str, Any]:
        """A boleto payment; returns ``{id, status, status_detail, barcode, digitable_line,
        ticket_url, amount, external_reference}``. The payer needs name and CPF/CNPJ;
        `payer_address` (zip_code, street_name, street_number, neighborhood, city, federal_unit)
        is required by Mercado Pago for registered boletos.

        When the answer has only the barcode, the digitable line is derived (and both verified).
        """
        body = self._payment_body(payment_method_id, amount, description, payer_email, external_reference,
                                  notification_url, date_of_expiration, payer_first_name, payer_last_name,
                                  payer_document)
        if payer_address:
            body["payer"]["address"] = dict(payer_address)
        answer = self._post_payment(body, idempotency_key)
        payment = _normalize(answer)
        details = answer.get("transaction_details") or {}
        barcode = ((answer.get("barcode") or {}).get("content") or "").strip()
        line = (details.get("digitable_line") or "").strip()
        try:
            if barcode:
                boleto_codes.verify_barcode(barcode)
                line = line or boleto_codes.digitable_line_from_barcode(barcode)
            elif line:
                barcode = boleto_codes.barcode_from_digitable_line(line)
            else:
                raise ValueError("answer has neither barcode.content nor a digitable line")
            boleto_codes.verify_digitable_line(line)
        except ValueError as exc:
            raise PermanentGatewayError(f"mercadopago: bad boleto in answer: {exc}",
                                        provider=self.provider) from exc
        payment.update(barcode=boleto_codes.barcode_from_digitable_line(line),
                       digitable_line="".join(ch for ch in line if ch.isdigit()),
                       ticket_url=details.get("external_resource_url"))
        return payment

    def get_payment(self, payment_id: str) -> dict[str, Any]:
        """The payment as Mercado Pago has it now: ``{id, status, status_detail, amount,
        external_reference, payment_method_id, date_approved, paid (bool), raw_status}``."""
        ident = str(payment_id)
        if not ident.isdigit():
            raise ValueError("Mercado Pago payment ids are numeric")
        return _normalize(self._call("GET", f"/v1/payments/{ident}"))

    def _post_payment(self, body: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._call("POST", "/v1/payments", content=json_body(body),
                          headers={"X-Idempotency-Key": _key(idempotency_key),
                                   "Content-Type": "application/json"})

    @staticmethod
    def _payment_body(method: str, amount: Decimal, description: str, payer_email: str,
                      external_reference: str,
                      notification_url: str | None, date_of_expiration: datetime | None,
                      first_name: str | None, last_name: str | None, document: str | None) -> dict[str, Any]:
        value = Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_EVEN)
        if value <= 0:
            raise ValueError("amount must be positive")
        payer: dict[str, Any] = {"email": payer_email}
        if first_name:
            payer["first_name"] = first_name
        if last_name:
            payer["last_name"] = last_name
        if document:
            digits = "".join(ch for ch in document if ch.isalnum()).upper()
            payer["identification"] = {"type": "CPF" if len(digits) == 11 else "CNPJ", "number": digits}
        body: dict[str, Any] = {
            "transaction_amount": value,  # a JSON number written from the Decimal (json_body)
            "description": description[:600],
            "payment_method_id": method,
            "payer": payer,
            "external_reference": external_reference,
        }
        if notification_url:
            body["notification_url"] = notification_url
        if date_of_expiration is not None:
            if date_of_expiration.tzinfo is None:
                raise ValueError("date_of_expiration must be timezone-aware")
            body["date_of_expiration"] = date_of_expiration.isoformat(timespec="milliseconds")
        return body


def json_body(body: dict[str, Any]) -> bytes:
    """JSON with Decimals written as exact numbers (``100.10``), never through a float."""
    marks: dict[str, str] = {}

    def default(value: Any) -> str:
        if isinstance(value, Decimal):
            mark = f"__decimal_{len(marks)}__"
            marks[mark] = f"{value:f}"
            return mark
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    text = json.dumps(body, default=default, ensure_ascii=False)
    for mark, number in marks.items():
        text = text.replace(f'"{mark}"', number)
    return text.encode()


def _normalize(answer: dict[str, Any]) -> dict[str, Any]:
    if "id" not in answer or "status" not in answer:
        raise PermanentGatewayError("mercadopago: payment answer without id/status", provider="mercadopago")
    amount = answer.get("transaction_amount")
    return {
        "id": str(answer["id"]),
        "status": str(answer["status"]),
        "status_detail": answer.get("status_detail"),
        "paid": answer["status"] in PAID_STATUSES,
        "amount": Decimal(str(amount)).quantize(_CENT) if amount is not None else None,
        "external_reference": answer.get("external_reference"),
        "payment_method_id": answer.get("payment_method_id"),
        "date_approved": answer.get("date_approved"),
    }


def _key(idempotency_key: str) -> str:
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("idempotency_key must be 1-255 characters")
    return idempotency_key


def signature_manifest(*, data_id: str | None, x_request_id: str | None, ts: str | None) -> str:
    """``id:…;request-id:…;ts:…;`` with absent parts dropped; alphanumeric ids lowercased."""
    parts = []
    if data_id:
        parts.append(f"id:{data_id.lower() if not data_id.isdigit() else data_id};")
    if x_request_id:
        parts.append(f"request-id:{x_request_id};")
    if ts:
        parts.append(f"ts:{ts};")
    return "".join(parts)


def sign_mercadopago(*, data_id: str, x_request_id: str, ts: str, secret: str) -> str:
    """The `x-signature` header value Mercado Pago would send (used by fakes and tests)."""
    manifest = signature_manifest(data_id=data_id, x_request_id=x_request_id, ts=ts)
    return f"ts={ts},v1={hmac_sha256_hex(secret, manifest)}"


def verify_mercadopago_signature(*, x_signature: str, x_request_id: str, data_id: str, secret: str,
                                 now: datetime, tolerance: int = DEFAULT_TOLERANCE) -> None:
    """Raise WebhookSignatureError unless `x_signature` signs (data.id, x-request-id, ts) with `secret`.

    `data_id` is the ``data.id`` of the **query string**. ``ts`` is read as milliseconds when it
    has more than 11 digits, else seconds (MP's docs disagree on the unit), and must lie within
    `tolerance` seconds of `now`. A valid signature only says Mercado Pago sent a hint: GET the
    payment before trusting any state.
    """
    if not secret:
        raise WebhookSignatureError("no webhook secret configured")
    parts = parse_signature_header(x_signature or "")
    ts = (parts.get("ts") or [""])[0]
    signatures = parts.get("v1") or []
    if not ts.isdigit() or not signatures:
        raise WebhookSignatureError("x-signature must carry ts=<digits> and v1=<hex>")
    if not data_id or not x_request_id:
        raise WebhookSignatureError("data.id and x-request-id are required")
    expected = hmac_sha256_hex(secret, signature_manifest(data_id=data_id, x_request_id=x_request_id, ts=ts))
    if not any(same_secret(expected, sig.lower()) for sig in signatures):
        raise WebhookSignatureError("x-signature does not match")
    seconds = int(ts) / 1000 if len(ts) > 11 else int(ts)
    check_timestamp(seconds, now, tolerance)
