"""Customer: the register every other context points to. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.documents import normalize_document
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

KINDS = ("person", "company")
STATUSES = ("active", "blocked", "inactive")
UFS = {
    "RO": "11", "AC": "12", "AM": "13", "RR": "14", "PA": "15", "AP": "16", "TO": "17",
    "MA": "21", "PI": "22", "CE": "23", "RN": "24", "PB": "25", "PE": "26", "AL": "27",
    "SE": "28", "BA": "29", "MG": "31", "ES": "32", "RJ": "33", "SP": "35", "PR": "41",
    "SC": "42", "RS": "43", "MS": "50", "MT": "51", "GO": "52", "DF": "53",
}
ADDRESS_FIELDS = ("street", "number", "complement", "district", "city", "uf", "cep", "ibge_code")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CustomerError(Exception):
    """Base of customer-context errors."""


def clean_name(value: Any) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError("name", "name is required")
    if len(name) > 200:
        raise ValidationError("name", "name must have at most 200 characters")
    return name


def clean_email(value: Any, field: str = "email") -> str:
    email = str(value or "").strip().lower()
    if not _EMAIL_RE.match(email) or len(email) > 254:
        raise ValidationError(field, "e-mail address is not valid")
    return email


def clean_phones(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    phones = []
    for i, raw in enumerate(value):
        digits = re.sub(r"\D", "", str(raw))
        if digits.startswith("55") and len(digits) in (12, 13):
            digits = digits[2:]
        if len(digits) not in (10, 11):
            raise ValidationError(f"phones[{i}]", "phone must have DDD + 8 or 9 digits")
        phones.append(digits)
    return tuple(phones)


def clean_address(value: Any) -> dict[str, str] | None:
    """CEP of 8 digits, a known UF, and a 7-digit IBGE code whose state prefix matches the UF."""
    if value in (None, {}):
        return None
    if not isinstance(value, dict):
        raise ValidationError("address", "address must be an object")
    unknown = set(value) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValidationError(f"address.{sorted(unknown)[0]}", "unknown address field")
    address = {k: " ".join(str(value.get(k) or "").split()) for k in ADDRESS_FIELDS}
    errors: dict[str, str] = {}
    if address["cep"]:
        address["cep"] = re.sub(r"\D", "", address["cep"])
        if len(address["cep"]) != 8:
            errors["address.cep"] = "CEP must have 8 digits"
    uf = address["uf"].upper()
    address["uf"] = uf
    if uf and uf not in UFS:
        errors["address.uf"] = "unknown UF"
    if address["ibge_code"]:
        code = re.sub(r"\D", "", address["ibge_code"])
        address["ibge_code"] = code
        if len(code) != 7:
            errors["address.ibge_code"] = "IBGE municipality code must have 7 digits"
        elif uf in UFS and code[:2] != UFS[uf]:
            errors["address.ibge_code"] = f"IBGE code {code} is not in {uf} (must start with {UFS[uf]})"
    if errors:
        raise ValidationError.many(errors)
    return address


def clean_text(value: Any, field: str, limit: int = 2000) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


class Customer(Aggregate):
    """A person (CPF) or company (CNPJ, numeric or alphanumeric) of one tenant.

    State: name, kind, document, email, phones, address, plan, notes, status, status_reason.
    (No class-level annotations: the library would turn them into __init__ parameters.)
    """

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        name: str
        kind: str
        document: str
        email: str
        phones: tuple[str, ...]
        address: dict[str, str] | None
        plan: str
        notes: str
        status: str
        status_reason: str
        radius_username: str

    class Registered(Aggregate.Created):
        name: str
        kind: str
        document: str
        email: str
        phones: tuple[str, ...]
        address: dict[str, str] | None
        plan: str
        notes: str

        def apply(self, customer: "Customer") -> None:
            super().apply(customer)
            customer.phones = tuple(self.phones)  # JSON hands lists back; state keeps tuples
            customer.status = "active"
            customer.status_reason = ""
            customer.radius_username = ""  # the PPPoE/RADIUS login, set by a later Updated

    class Updated(Aggregate.Event):
        changes: dict[str, Any]

        def apply(self, customer: "Customer") -> None:
            for key, value in self.changes.items():
                setattr(customer, key, tuple(value) if key == "phones" else value)

    class Blocked(Aggregate.Event):
        reason: str

        def apply(self, customer: "Customer") -> None:
            customer.status = "blocked"
            customer.status_reason = self.reason

    class Unblocked(Aggregate.Event):
        reason: str

        def apply(self, customer: "Customer") -> None:
            customer.status = "active"
            customer.status_reason = self.reason

    class Deactivated(Aggregate.Event):
        reason: str

        def apply(self, customer: "Customer") -> None:
            customer.status = "inactive"
            customer.status_reason = self.reason

    class Reactivated(Aggregate.Event):
        reason: str

        def apply(self, customer: "Customer") -> None:
            customer.status = "active"
            customer.status_reason = self.reason

    @classmethod
    def register(cls, customer_id: Any, meta: Meta, *, name: Any, kind: Any, document: Any,
                 email: Any, phones: Any = None, address: Any = None, plan: Any = "",
                 notes: Any = "") -> "Customer":
        fields = validate_fields(dict(name=name, kind=kind, document=document, email=email,
                                      phones=phones, address=address, plan=plan, notes=notes),
                                 required=True)
        return cls._open(cls.Registered, meta, id=customer_id, **fields)

    def update(self, meta: Meta, **changes: Any) -> dict[str, Any]:
        """Applies the given subset of fields; returns what really changed (may be empty)."""
        if self.status == "inactive":
            raise ConflictError("an inactive customer cannot be edited; reactivate it first")
        merged = {"kind": self.kind, **changes}
        if "kind" in changes and "document" not in changes:
            merged["document"] = self.document
        cleaned = validate_fields(merged, required=False)
        diff = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if diff:
            self._record(self.Updated, meta, changes=diff)
        return diff

    def block(self, meta: Meta, reason: str) -> None:
        if self.status != "active":
            raise ConflictError(f"only an active customer can be blocked (it is {self.status})")
        self._record(self.Blocked, meta, reason=_reason(reason))

    def unblock(self, meta: Meta, reason: str) -> None:
        if self.status != "blocked":
            raise ConflictError(f"only a blocked customer can be unblocked (it is {self.status})")
        self._record(self.Unblocked, meta, reason=_reason(reason))

    def deactivate(self, meta: Meta, reason: str) -> None:
        if self.status == "inactive":
            raise ConflictError("the customer is already inactive")
        self._record(self.Deactivated, meta, reason=_reason(reason))

    def reactivate(self, meta: Meta, reason: str) -> None:
        if self.status != "inactive":
            raise ConflictError(f"only an inactive customer can be reactivated (it is {self.status})")
        self._record(self.Reactivated, meta, reason=_reason(reason))


def _reason(reason: str) -> str:
    text = clean_text(reason, "reason", 500)
    if not text:
        raise ValidationError("reason", "a reason is required")
    return text


def clean_radius_username(value: Any) -> str:
    """The RADIUS `User-Name` (PPPoE login) the ISP's accounting rows carry; empty unlinks."""
    text = "" if value is None else str(value).strip()
    if len(text) > 253 or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValidationError("radius_username", "radius_username must be up to 253 printable characters "
                                                 "without spaces")
    return text


def validate_fields(data: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """Validates every given field at once, so the error lists all offending fields."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    checks = {
        "name": clean_name,
        "email": clean_email,
        "phones": clean_phones,
        "address": clean_address,
        "plan": lambda v: clean_text(v, "plan", 100),
        "notes": lambda v: clean_text(v, "notes", 5000),
        "radius_username": clean_radius_username,
    }
    kind = data.get("kind")
    if required or "kind" in data:
        if kind not in KINDS:
            errors["kind"] = "kind must be 'person' or 'company'"
        else:
            out["kind"] = kind
    for key, check in checks.items():
        if key in data and (required or data[key] is not None or key in ("address", "phones")):
            if data[key] is None and key in ("name", "email") and not required:
                errors[key] = f"{key} cannot be empty"
                continue
            try:
                out[key] = check(data[key])
            except ValidationError as exc:
                errors.update(exc.errors)
    if "document" in data and kind in KINDS:
        try:
            out["document"] = normalize_document(kind, data["document"] or "")
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError.many(errors)
    return out
