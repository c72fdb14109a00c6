"""CPF and CNPJ (numeric and the alphanumeric format of July 2026), and masking for logs."""

from __future__ import annotations

import re

from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf

from retaguarda.shared.errors import ValidationError


def normalize_cpf(value: str, field: str = "document") -> str:
    digits = re.sub(r"[.\-\s]", "", value or "")
    if not re.fullmatch(r"\d{11}", digits):
        raise ValidationError(field, "CPF must have 11 digits")
    if not _cpf.is_valid(digits):
        raise ValidationError(field, "CPF check digits do not match")
    return digits


def normalize_cnpj(value: str, field: str = "document") -> str:
    compact = re.sub(r"[.\-/\s]", "", value or "").upper()
    if not re.fullmatch(r"[0-9A-Z]{12}[0-9]{2}", compact):
        raise ValidationError(
            field, "CNPJ must have 14 characters: 12 digits or capital letters and 2 check digits"
        )
    if not _cnpj.is_valid(compact):
        raise ValidationError(field, "CNPJ check digits do not match")
    return compact


def normalize_document(kind: str, value: str, field: str = "document") -> str:
    """CPF for a person, CNPJ for a company; returns the compact form or raises ValidationError."""
    if kind == "person":
        return normalize_cpf(value, field)
    if kind == "company":
        return normalize_cnpj(value, field)
    raise ValidationError("kind", "kind must be 'person' or 'company'")


def format_document(document: str) -> str:
    if len(document) == 11:
        return f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"
    if len(document) == 14:
        return _cnpj.format(document)
    return document


def mask_document(document: str) -> str:
    """Keeps only what identifies a record to staff, e.g. `***.482.247-**`."""
    if len(document) == 11:
        return f"***.{document[3:6]}.{document[6:9]}-**"
    if len(document) == 14:
        return f"{document[:2]}.***.***/{document[8:12]}-**"
    return "***"


_CPF_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})(?![0-9A-Za-z])")
_CNPJ_RE = re.compile(
    r"(?<![0-9A-Za-z])([0-9A-Z]{2})\.?([0-9A-Z]{3})\.?([0-9A-Z]{3})/?([0-9A-Z]{4})-?(\d{2})(?![0-9A-Za-z])"
)


def mask_documents_in_text(text: str) -> str:
    """Masks anything shaped like a CPF or CNPJ inside free text (log lines)."""
    text = _CNPJ_RE.sub(lambda m: f"{m.group(1)}.***.***/{m.group(4)}-**"
                        if any(c.isdigit() for c in m.group(0)) else m.group(0), text)
    return _CPF_RE.sub(lambda m: f"***.{m.group(2)}.{m.group(3)}-**", text)


def make_cpf(base9: str) -> str:
    """Completes 9 digits with the two CPF check digits (seeds and tests)."""
    digits = [int(c) for c in base9]
    for _ in range(2):
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1)))
        digits.append((total * 10 % 11) % 10)
    return "".join(map(str, digits))


def make_cnpj(base12: str) -> str:
    """Completes 12 characters (digits or capital letters) with the two CNPJ check digits."""
    return base12.upper() + _cnpj.calc_check_digits(base12.upper())
