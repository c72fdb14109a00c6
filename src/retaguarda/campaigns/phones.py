"""Phone numbers to E.164 (`+5511987654321`) with `phonenumbers`; Brazil is the default region.

Accepts what marketing spreadsheets contain: `(11) 98765-4321`, `11987654321`, `5511987654321`,
`+55 11 98765 4321`, `0xx11 98765-4321`. Invalid numbers raise `InvalidPhoneError` (the message
becomes `skipped` with the reason); `mobile_only=True` also rejects landlines (SMS/RCS cannot
reach them).
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

DEFAULT_REGION = "BR"
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class InvalidPhoneError(ValueError):
    """`reason` is `invalid` (not a number anywhere) or `landline` (valid, but not a mobile)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def normalize_phone(raw: str | None, *, region: str = DEFAULT_REGION, mobile_only: bool = False) -> str:
    """The E.164 form of `raw`, or InvalidPhoneError."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneError("invalid", "phone is empty")
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+"):
        if digits.startswith("00"):  # international prefix
            text = "+" + digits[2:]
        elif region == "BR" and digits.startswith("0") and len(digits) in (12, 13, 14, 15):
            # 0 + carrier code (2 digits) + DDD + number, e.g. 0 21 11 98765-4321
            text = digits[3:] if len(digits) - 3 in (10, 11) else digits[1:]
        elif region == "BR" and digits.startswith("55") and len(digits) in (12, 13):
            text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhoneError("invalid", f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError("invalid", "not a valid phone number")
    if mobile_only and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidPhoneError("landline", "not a mobile number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) in _MOBILE_TYPES


def mask_phone(e164: str | None) -> str:
    """For logs: `+55119****4321`."""
    if not e164:
        return ""
    return e164[:6] + "*" * max(0, len(e164) - 10) + e164[-4:] if len(e164) > 10 else "****"
