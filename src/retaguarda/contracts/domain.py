"""Contract and ContractTemplate. Pure: stdlib, `eventsourcing.domain` (via the base) and
`retaguarda.shared` only; no clock, no I/O. Text is rendered by the application and passed in.

Status machine (409 for anything else):

    draft ─► awaiting_signature ─► active ─► suspended ─► active …
      │  ◄──────── (amend) ─────┘    │  │        │
      │                              │  └► expired (end date, no auto-renew)
      └──► active (paper, manager)   └──────────┴──► cancelled (with the loyalty fee)
    draft / awaiting_signature ─► cancelled (nothing billed)

Versions: version 1 is the text rendered at creation; every amendment (price, plan, clause text)
and every renewal appends a version with who changed what. Versions are never edited; a signed
version's text is frozen and its SHA-256 is part of the signature record.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.contracts.fees import add_months, loyalty_fee
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

STATUSES = ("draft", "awaiting_signature", "active", "suspended", "expired", "cancelled")
OPEN_STATUSES = ("draft", "awaiting_signature", "active", "suspended")
PROVIDERS = ("builtin", "clicksign")
MAX_TEXT = 200_000
MAX_LOYALTY_MONTHS = 36
_NAMESPACE = uuid.UUID("9a3c2e4f-1b7d-4c58-8e0a-5d2f6b1c7e93")


def settings_id(tenant_id: str) -> UUID:
    return uuid.uuid5(_NAMESPACE, f"contract-settings\x1f{tenant_id}")


def format_number(number: int) -> str:
    return f"CT-{number:06d}"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def clean_text(value: Any, field: str, limit: int, required: bool = False) -> str:
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise ValidationError(field, f"{field} is required")
    if len(text) > limit:
        raise ValidationError(field, f"{field} must have at most {limit} characters")
    return text


def clean_money(value: Any, field: str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise ValidationError(field, f'{field} must be a decimal string such as "99.90"')
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, f'{field} must be a decimal amount such as "99.90"') from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("1000000"):
        raise ValidationError(field, f"{field} must be between 0 and 1000000")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(field, f"{field} must have at most two decimal places")
    return amount.quantize(Decimal("0.01"))


def clean_int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(field, f"{field} must be an integer from {low} to {high}")
    return value


def clean_reason(value: Any, required: bool = True) -> str:
    return clean_text(value, "reason", 500, required)


class Terms:
    """What a version fixes besides its text (all validated)."""

    def __init__(
        self,
        *,
        plan_id: str,
        plan_name: str,
        price: Decimal,
        start_date: date,
        end_date: date | None,
        loyalty_months: int,
        loyalty_fee: Decimal,
        auto_renew: bool,
        renewal_months: int,
        due_day: int,
    ) -> None:
        self.plan_id, self.plan_name, self.price = plan_id, plan_name, price
        self.start_date, self.end_date = start_date, end_date
        self.loyalty_months, self.loyalty_fee = loyalty_months, loyalty_fee
        self.auto_renew, self.renewal_months, self.due_day = auto_renew, renewal_months, due_day

    @classmethod
    def clean(
        cls,
        *,
        plan_id: Any,
        plan_name: Any,
        price: Any,
        start_date: Any,
        end_date: Any = None,
        loyalty_months: Any = 12,
        loyalty_fee: Any = None,
        auto_renew: Any = True,
        renewal_months: Any = 12,
        due_day: Any = 10,
    ) -> "Terms":
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}

        def check(field: str, fn: Any) -> None:
            try:
                values[field] = fn()
            except ValidationError as exc:
                errors.update(exc.errors)

        check("plan_id", lambda: clean_text(plan_id, "plan_id", 36, required=True))
        check("price", lambda: clean_money(price, "price"))
        check("loyalty_months", lambda: clean_int(loyalty_months, "loyalty_months", 0, MAX_LOYALTY_MONTHS))
        check("renewal_months", lambda: clean_int(renewal_months, "renewal_months", 1, 60))
        check("due_day", lambda: clean_int(due_day, "due_day", 1, 28))
        if not isinstance(start_date, date):
            errors["start_date"] = "start_date must be a date (YYYY-MM-DD)"
        if end_date is not None and not isinstance(end_date, date):
            errors["end_date"] = "end_date must be a date (YYYY-MM-DD)"
        elif isinstance(end_date, date) and isinstance(start_date, date) and end_date <= start_date:
            errors["end_date"] = "end_date must be after start_date"
        if not isinstance(auto_renew, bool):
            errors["auto_renew"] = "auto_renew must be true or false"
        if loyalty_fee is not None:
            check("loyalty_fee", lambda: clean_money(loyalty_fee, "loyalty_fee"))
        if errors:
            raise ValidationError.many(errors)
        fee = values.get("loyalty_fee")
        return cls(
            plan_id=values["plan_id"],
            plan_name=str(plan_name or "")[:120],
            price=values["price"],
            start_date=start_date,
            end_date=end_date,
            loyalty_months=values["loyalty_months"],
            loyalty_fee=fee if fee is not None else values["price"],
            auto_renew=auto_renew,
            renewal_months=values["renewal_months"],
            due_day=values["due_day"],
        )

    def as_event(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "plan_name": self.plan_name,
            "price": str(self.price),
            "start_date": self.start_date,
            "end_date": self.end_date,
            "loyalty_months": self.loyalty_months,
            "loyalty_fee": str(self.loyalty_fee),
            "auto_renew": self.auto_renew,
            "renewal_months": self.renewal_months,
            "due_day": self.due_day,
        }


TERM_FIELDS = (
    "plan_id",
    "plan_name",
    "price",
    "start_date",
    "end_date",
    "loyalty_months",
    "loyalty_fee",
    "auto_renew",
    "renewal_months",
    "due_day",
)


class ContractTemplate(Aggregate):
    """A tenant's contract text with Jinja placeholders (validated by the application)."""

    if TYPE_CHECKING:  # state set by the events (annotations here would become eventsourcing fields)
        tenant_id: str
        name: str
        body: str
        active: bool

    class Created(Aggregate.Created):
        name: str
        body: str

        def apply(self, t: "ContractTemplate") -> None:
            super().apply(t)
            t.active = True

    class Changed(Aggregate.Event):
        name: str
        body: str

        def apply(self, t: "ContractTemplate") -> None:
            t.name = self.name
            t.body = self.body

    @classmethod
    def create(cls, meta: Meta, *, name: Any, body: Any) -> "ContractTemplate":
        return cls._open(cls.Created, meta, id=uuid.uuid4(), **cls.clean(name, body))

    @staticmethod
    def clean(name: Any, body: Any) -> dict[str, str]:
        errors: dict[str, str] = {}
        values: dict[str, str] = {}
        for field, value, limit in (("name", name, 120), ("body", body, MAX_TEXT)):
            try:
                values[field] = clean_text(value, field, limit, required=True)
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        return values

    def change(self, meta: Meta, *, name: Any, body: Any) -> bool:
        values = self.clean(name, body)
        if values == {"name": self.name, "body": self.body}:
            return False
        self._record(self.Changed, meta, **values)
        return True


class Contract(Aggregate):
    """A subscriber's service contract: terms, versions of its text, signature and status.

    State: number, customer_id, template_id, status, status_reason, terms (dict of TERM_FIELDS),
    versions (list of dicts: number, text, sha256, terms, note, changes, by, at), signature (dict or
    None), signing (pending request or None), subscription_id, cancellation_fee, notices (end dates
    whose expiry notice was queued).
    """

    if TYPE_CHECKING:  # state set by the events (annotations here would become eventsourcing fields)
        tenant_id: str
        number: str
        customer_id: str
        template_id: str
        status: str
        status_reason: str
        terms: dict[str, Any]
        versions: list[dict[str, Any]]
        signature: dict[str, Any] | None
        signing: dict[str, Any] | None
        subscription_id: str | None
        cancellation_fee: str | None
        cancelled_on: date | None
        notices: list[date]

    class Created(Aggregate.Created):
        number: str
        customer_id: str
        template_id: str
        terms: dict[str, Any]
        text: str
        sha256: str

        def apply(self, c: "Contract") -> None:
            super().apply(c)
            c.status = "draft"
            c.status_reason = ""
            c.versions = [
                {
                    "number": 1,
                    "text": self.text,
                    "sha256": self.sha256,
                    "terms": dict(self.terms),
                    "note": "created",
                    "changes": {},
                    "by": self.actor,
                    "at": self.timestamp,
                }
            ]
            c.signature = None
            c.signing = None
            c.subscription_id = None
            c.cancellation_fee = None
            c.cancelled_on = None
            c.notices = []
            delattr(c, "text")
            delattr(c, "sha256")

    class Amended(Aggregate.Event):
        version: int
        text: str
        sha256: str
        terms: dict[str, Any]
        changes: dict[str, Any]
        note: str
        status: str

        def apply(self, c: "Contract") -> None:
            c.versions = [
                *c.versions,
                {
                    "number": self.version,
                    "text": self.text,
                    "sha256": self.sha256,
                    "terms": dict(self.terms),
                    "note": self.note,
                    "changes": dict(self.changes),
                    "by": self.actor,
                    "at": self.timestamp,
                },
            ]
            c.terms = dict(self.terms)
            c.status = self.status
            if self.status == "draft":
                c.signing = None

    class SignatureRequested(Aggregate.Event):
        version: int
        provider: str
        token_sha256: str
        expires_at: datetime
        signer_email: str
        pdf_sha256: str
        external_id: str

        def apply(self, c: "Contract") -> None:
            c.status = "awaiting_signature"
            c.signing = {
                "version": self.version,
                "provider": self.provider,
                "token_sha256": self.token_sha256,
                "expires_at": self.expires_at,
                "signer_email": self.signer_email,
                "pdf_sha256": self.pdf_sha256,
                "external_id": self.external_id,
                "requested_at": self.timestamp,
            }

    class Signed(Aggregate.Event):
        version: int
        provider: str
        name: str
        document: str
        ip: str
        user_agent: str
        signed_at: datetime
        pdf_sha256: str
        text_sha256: str
        evidence: dict[str, Any]

        def apply(self, c: "Contract") -> None:
            c.signature = {
                "version": self.version,
                "provider": self.provider,
                "name": self.name,
                "document": self.document,
                "ip": self.ip,
                "user_agent": self.user_agent,
                "signed_at": self.signed_at,
                "pdf_sha256": self.pdf_sha256,
                "sha256": self.text_sha256,
                "evidence": dict(self.evidence),
            }
            c.signing = None

    class Activated(Aggregate.Event):
        how: str  # "signature" | "paper"
        reason: str

        def apply(self, c: "Contract") -> None:
            c.status = "active"
            c.status_reason = self.reason
            c.signing = None

    class SubscriptionLinked(Aggregate.Event):
        subscription_id: str
        taken_over: bool

        def apply(self, c: "Contract") -> None:
            c.subscription_id = self.subscription_id

    class Suspended(Aggregate.Event):
        reason: str

        def apply(self, c: "Contract") -> None:
            c.status = "suspended"
            c.status_reason = self.reason

    class Resumed(Aggregate.Event):
        reason: str

        def apply(self, c: "Contract") -> None:
            c.status = "active"
            c.status_reason = self.reason

    class Cancelled(Aggregate.Event):
        reason: str
        on: date
        fee: str
        previous: str

        def apply(self, c: "Contract") -> None:
            c.status = "cancelled"
            c.status_reason = self.reason
            c.cancellation_fee = self.fee
            c.cancelled_on = self.on
            c.signing = None

    class Renewed(Aggregate.Event):
        version: int
        previous_end: date
        end_date: date
        text: str
        sha256: str
        terms: dict[str, Any]

        def apply(self, c: "Contract") -> None:
            c.terms = dict(self.terms)
            c.versions = [
                *c.versions,
                {
                    "number": self.version,
                    "text": self.text,
                    "sha256": self.sha256,
                    "terms": dict(self.terms),
                    "note": "renewed",
                    "changes": {"end_date": [self.previous_end, self.end_date]},
                    "by": self.actor,
                    "at": self.timestamp,
                },
            ]

    class Expired(Aggregate.Event):
        reason: str

        def apply(self, c: "Contract") -> None:
            c.status = "expired"
            c.status_reason = self.reason

    class ExpiryNoticeQueued(Aggregate.Event):
        end_date: date

        def apply(self, c: "Contract") -> None:
            c.notices = [*c.notices, self.end_date]

    # Commands --------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        contract_id: UUID,
        meta: Meta,
        *,
        number: int,
        customer_id: str,
        template_id: str,
        terms: Terms,
        text: str,
    ) -> "Contract":
        text = clean_text(text, "body", MAX_TEXT, required=True)
        return cls._open(
            cls.Created,
            meta,
            id=contract_id,
            number=format_number(number),
            customer_id=str(customer_id),
            template_id=str(template_id),
            terms=terms.as_event(),
            text=text,
            sha256=sha256_text(text),
        )

    @property
    def version_number(self) -> int:
        return len(self.versions)

    @property
    def current(self) -> dict[str, Any]:
        return self.versions[-1]

    def version_at(self, n: int) -> dict[str, Any] | None:
        return self.versions[n - 1] if 1 <= n <= len(self.versions) else None

    @property
    def price(self) -> Decimal:
        return Decimal(self.terms["price"])

    @property
    def end_date(self) -> date | None:
        return self.terms.get("end_date")

    def _require(self, *statuses: str, action: str) -> None:
        if self.status not in statuses:
            raise ConflictError(f"cannot {action} a contract that is {self.status}")

    def amend(self, meta: Meta, *, terms: Terms, text: str, note: str) -> bool:
        """A new version with the new terms/text. Amending while awaiting signature voids the
        pending signing request (back to draft); an active contract stays active."""
        self._require("draft", "awaiting_signature", "active", "suspended", action="amend")
        text = clean_text(text, "body", MAX_TEXT, required=True)
        new = terms.as_event()
        changes = {k: [self.terms.get(k), new[k]] for k in TERM_FIELDS if self.terms.get(k) != new[k]}
        if text != self.current["text"]:
            changes["text"] = [self.current["sha256"], sha256_text(text)]
        if not changes:
            return False
        status = "draft" if self.status == "awaiting_signature" else self.status
        self._record(
            self.Amended,
            meta,
            version=self.version_number + 1,
            text=text,
            sha256=sha256_text(text),
            terms=new,
            changes=changes,
            note=clean_text(note, "note", 500) or "amended",
            status=status,
        )
        return True

    def request_signature(
        self,
        meta: Meta,
        *,
        provider: str,
        token_sha256: str,
        expires_at: datetime,
        signer_email: str,
        pdf_sha256: str,
        external_id: str = "",
    ) -> None:
        self._require("draft", "awaiting_signature", action="send for signature")
        if provider not in PROVIDERS:
            raise ValidationError("provider", f"provider must be one of: {', '.join(PROVIDERS)}")
        if expires_at <= meta.at:
            raise ValidationError("expires_at", "the signing link must expire in the future")
        self._record(
            self.SignatureRequested,
            meta,
            version=self.version_number,
            provider=provider,
            token_sha256=token_sha256,
            expires_at=expires_at,
            signer_email=signer_email,
            pdf_sha256=pdf_sha256,
            external_id=external_id,
        )

    def signing_state(self, token_sha256: str, at: datetime) -> str:
        """ "ok", "used" (signed or replaced), or "expired" for a presented link token."""
        if self.signing is None or self.signing["token_sha256"] != token_sha256:
            return "used"
        if at >= self.signing["expires_at"]:
            return "expired"
        return "ok"

    def sign(
        self,
        meta: Meta,
        *,
        provider: str,
        name: Any,
        document: Any,
        ip: str,
        user_agent: str,
        pdf_sha256: str,
        token_sha256: str = "",
        evidence: dict[str, Any] | None = None,
    ) -> None:
        """Records the signature of the pending version and activates the contract."""
        if self.status != "awaiting_signature" or self.signing is None:
            raise ConflictError("this contract is not awaiting a signature")
        if provider == "builtin":
            state = self.signing_state(token_sha256, meta.at)
            if state != "ok":
                raise ConflictError(f"the signing link is {state}")
        if self.signing["provider"] != provider:
            raise ConflictError("the signature came from another provider than the one requested")
        if pdf_sha256 != self.signing["pdf_sha256"]:
            raise ConflictError("the signed document is not the one sent for signature")
        errors: dict[str, str] = {}
        values: dict[str, str] = {}
        for field, value, limit in (("name", name, 200), ("document", document, 20)):
            try:
                values[field] = clean_text(value, field, limit, required=True)
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise ValidationError.many(errors)
        version = self.versions[self.signing["version"] - 1]
        self._record(
            self.Signed,
            meta,
            version=version["number"],
            provider=provider,
            name=values["name"],
            document=values["document"],
            ip=str(ip)[:64],
            user_agent=str(user_agent)[:400],
            signed_at=meta.at,
            pdf_sha256=pdf_sha256,
            text_sha256=version["sha256"],
            evidence=dict(evidence or {}),
        )
        self._record(self.Activated, meta, how="signature", reason="signed electronically")

    def activate_on_paper(self, meta: Meta, reason: Any) -> None:
        self._require("draft", "awaiting_signature", action="activate")
        self._record(self.Activated, meta, how="paper", reason=clean_reason(reason))

    def link_subscription(self, meta: Meta, subscription_id: str, taken_over: bool) -> bool:
        if self.subscription_id == subscription_id:
            return False
        self._record(self.SubscriptionLinked, meta, subscription_id=subscription_id, taken_over=taken_over)
        return True

    def suspend(self, meta: Meta, reason: Any) -> None:
        self._require("active", action="suspend")
        self._record(self.Suspended, meta, reason=clean_reason(reason))

    def resume(self, meta: Meta, reason: Any) -> None:
        self._require("suspended", action="resume")
        self._record(self.Resumed, meta, reason=clean_reason(reason))

    def fee_on(self, on: date) -> Decimal:
        t = self.terms
        return loyalty_fee(Decimal(t["loyalty_fee"]), int(t["loyalty_months"]), t["start_date"], on)

    def cancel(self, meta: Meta, reason: Any, on: date, *, waive_fee: bool = False) -> Decimal:
        """Cancels; an active or suspended contract owes the loyalty fee for the months left
        (none when waived, e.g. the provider's breach). Returns the fee."""
        self._require(*OPEN_STATUSES, action="cancel")
        reason = clean_reason(reason)
        billed = self.status in ("active", "suspended")
        fee = self.fee_on(on) if billed and not waive_fee else Decimal("0.00")
        self._record(self.Cancelled, meta, reason=reason, on=on, fee=str(fee), previous=self.status)
        return fee

    def renew(self, meta: Meta, *, text: str) -> date:
        """A new period of `renewal_months` from the current end date, recorded as a new version."""
        self._require("active", "suspended", action="renew")
        end = self.end_date
        if end is None:
            raise ConflictError("an open-ended contract has no end date to renew")
        new_end = add_months(end, int(self.terms["renewal_months"]))
        terms = {**self.terms, "end_date": new_end}
        text = clean_text(text, "body", MAX_TEXT, required=True)
        self._record(
            self.Renewed,
            meta,
            version=self.version_number + 1,
            previous_end=end,
            end_date=new_end,
            text=text,
            sha256=sha256_text(text),
            terms=terms,
        )
        return new_end

    def expire(self, meta: Meta, reason: str) -> None:
        self._require("active", "suspended", action="expire")
        self._record(self.Expired, meta, reason=clean_reason(reason))

    def queue_expiry_notice(self, meta: Meta) -> bool:
        """Once per contract and end date; False when already queued (or nothing to notice)."""
        end = self.end_date
        if end is None or end in self.notices or self.status not in ("active", "suspended"):
            return False
        self._record(self.ExpiryNoticeQueued, meta, end_date=end)
        return True


class ContractSettings(Aggregate):
    """Per-tenant signature provider: the built-in signing page, or Clicksign with its webhook secret."""

    if TYPE_CHECKING:  # state set by the events (annotations here would become eventsourcing fields)
        tenant_id: str
        values: dict[str, Any]

    class Configured(Aggregate.Created):
        values: dict[str, Any]

    class Changed(Aggregate.Event):
        values: dict[str, Any]

        def apply(self, s: "ContractSettings") -> None:
            s.values = dict(self.values)

    @staticmethod
    def clean(values: dict[str, Any]) -> dict[str, Any]:
        provider = values.get("provider", "builtin")
        if provider not in PROVIDERS:
            raise ValidationError("provider", f"provider must be one of: {', '.join(PROVIDERS)}")
        out: dict[str, Any] = {
            "provider": provider,
            "link_hours": clean_int(values.get("link_hours", 72), "link_hours", 1, 720),
        }
        for field in ("clicksign_url", "clicksign_token", "clicksign_webhook_secret"):
            out[field] = clean_text(values.get(field, ""), field, 500)
        if provider == "clicksign":
            missing = {
                f: f"{f} is required for clicksign"
                for f in ("clicksign_url", "clicksign_token", "clicksign_webhook_secret")
                if not out[f]
            }
            if missing:
                raise ValidationError.many(missing)
        return out

    @classmethod
    def configure(cls, meta: Meta, values: dict[str, Any]) -> "ContractSettings":
        return cls._open(cls.Configured, meta, id=settings_id(meta.tenant_id), values=cls.clean(values))

    def change(self, meta: Meta, values: dict[str, Any]) -> bool:
        clean = self.clean({**self.values, **values})
        if clean == self.values:
            return False
        self._record(self.Changed, meta, values=clean)
        return True
