"""Cash context aggregates and pure rules: accounts, imports, movements, dedup keys, matching.

A movement is recorded once whatever source reports it first: its id comes from the key of
the source that reported it (FITID, or date+amount+memo, for a statement line; nosso número
for a return file; e2eid for the API Pix) and every reference it carries (e2eid, txid, nosso
número) is claimed with it, so the same Pix seen by the webhook and then on the statement is
refused the second time. Matching is pure: `Matcher` over a snapshot of open invoices.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

NAMESPACE = uuid.UUID("3f0c7c1e-5d0b-4b8e-9f43-1c2a8e6b7d55")
SOURCES = ("statement", "return_file", "api_pix", "manual")
KINDS = ("credit", "debit")
STATUSES = ("unmatched", "matched", "not_revenue", "ignored")
NOT_REVENUE_CATEGORIES = ("transfer", "loan", "refund", "fee", "tax", "other")
CLAIM_SCOPE = "cash-reference"
DATE_WINDOW_DAYS = 5
CENT = Decimal("0.01")


MAX_MONEY = Decimal("999999999999.99")
"""Largest amount (either sign) a balance or movement may carry: `1e30` or 40 nines are typing
errors or probes, answered 422 naming the field instead of overflowing later (#20 defect 4)."""


def _money(value: Any, field_name: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except ArithmeticError:
        raise ValidationError(field_name, "must be a decimal amount") from None
    if not amount.is_finite():
        raise ValidationError(field_name, "must be a decimal amount")
    if abs(amount) > MAX_MONEY:
        raise ValidationError(field_name, f"must be at most {MAX_MONEY} in absolute value")
    return amount


def _text(value: Any, field_name: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(field_name, "is required")
    if len(text) > limit:
        raise ValidationError(field_name, f"at most {limit} characters")
    return text


def fold(text: str) -> str:
    """Upper-case ASCII with single spaces: memo comparison ignores accents and spacing."""
    plain = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", plain).strip().upper()


# Keys ------------------------------------------------------------------------------------------


def reference_keys(*, e2eid: str = "", txid: str = "", nosso_numero: str = "") -> list[str]:
    """The references a movement claims (one receipt each): e2eid, txid, nosso número."""
    keys = []
    if e2eid:
        keys.append(f"e2e:{e2eid}")
    if txid:
        keys.append(f"txid:{txid}")
    if nosso_numero:
        keys.append(f"nn:{nosso_numero.lstrip('0') or '0'}")
    return keys


def source_key(
    account_id: str,
    *,
    source: str,
    posted_on: date,
    amount: Decimal,
    kind: str,
    fitid: str = "",
    memo: str = "",
    e2eid: str = "",
    nosso_numero: str = "",
    occurrence: str = "",
    nth: int = 0,
) -> str:
    """The identity of a line within its source. A statement line: FITID (BB repeats FITIDs, so
    with date, amount and kind) or else date+amount+memo; `nth` tells identical lines of one
    file apart, so importing the same file again gives the same keys."""
    if source == "api_pix" and e2eid:
        return f"pix:{e2eid}"
    if source == "return_file" and nosso_numero:
        return f"ret:{account_id}:{nosso_numero.lstrip('0') or '0'}:{occurrence}"
    base = f"fitid:{fitid}" if fitid else f"memo:{fold(memo)}"
    return f"st:{account_id}:{base}:{posted_on.isoformat()}:{amount}:{kind}:{nth}"


def movement_id(tenant_id: str, key: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"{tenant_id}\x1f{key}")


def account_uuid(tenant_id: str, bank: str, agency: str, number: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"account\x1f{tenant_id}\x1f{bank}\x1f{agency}\x1f{number}")


def follow_up_id(tenant_id: str, receipt: str) -> UUID:
    """The NFS-e of one receipt (`invoice:<id>` or `movement:<id>`): one note, ever."""
    return uuid.uuid5(NAMESPACE, f"nfse\x1f{tenant_id}\x1f{receipt}")


# Aggregates -------------------------------------------------------------------------------------


class CashAccount(Aggregate):
    """A bank account the money lands in. PSP credentials live only in (encrypted) events."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        agency: str
        csv_mapping: dict[str, str]
        number: str
        psp: dict[str, Any]
        webhook_token: str

    class Opened(Aggregate.Created):
        name: str
        bank: str
        agency: str
        number: str
        opening_balance: Decimal
        opening_date: date

        def apply(self, acc: "CashAccount") -> None:
            super().apply(acc)
            acc.csv_mapping = {}
            acc.psp = {}
            acc.webhook_token = ""

    class CsvMappingSaved(Aggregate.Event):
        mapping: dict[str, str]

        def apply(self, acc: "CashAccount") -> None:
            acc.csv_mapping = dict(self.mapping)

    class PspConfigured(Aggregate.Event):
        """`secrets` holds client_secret and the client key: the audit views redact it."""

        base_url: str
        client_id: str
        pix_key: str
        cert_pem: str
        ca_pem: str
        webhook_token: str
        secrets: dict[str, str]

        def apply(self, acc: "CashAccount") -> None:
            acc.psp = {
                "base_url": self.base_url,
                "client_id": self.client_id,
                "pix_key": self.pix_key,
                "cert_pem": self.cert_pem,
                "ca_pem": self.ca_pem,
                **self.secrets,
            }
            acc.webhook_token = self.webhook_token

    @classmethod
    def open(
        cls,
        meta: Meta,
        *,
        name: Any,
        bank: Any,
        agency: Any,
        number: Any,
        opening_balance: Any = "0",
        opening_date: date,
    ) -> "CashAccount":
        bank_code = _text(bank, "bank", 3, required=True)
        if not re.fullmatch(r"\d{3}", bank_code):
            raise ValidationError("bank", "bank code has 3 digits (e.g. 001)")
        agency_t = _text(agency, "agency", 10, required=True)
        number_t = _text(number, "number", 20, required=True)
        return cls._open(
            cls.Opened,
            meta,
            id=account_uuid(meta.tenant_id, bank_code, agency_t, number_t),
            name=_text(name, "name", 80, required=True),
            bank=bank_code,
            agency=agency_t,
            number=number_t,
            opening_balance=_money(opening_balance, "opening_balance"),
            opening_date=opening_date,
        )

    def save_csv_mapping(self, meta: Meta, mapping: dict[str, str]) -> bool:
        if mapping == self.csv_mapping:
            return False
        self._record(self.CsvMappingSaved, meta, mapping=dict(mapping))
        return True

    def configure_psp(
        self,
        meta: Meta,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        pix_key: str,
        cert_pem: str,
        key_pem: str,
        ca_pem: str,
        webhook_token: str,
    ) -> None:
        if not base_url.startswith("https://"):
            raise ValidationError("base_url", "the PSP URL must be https")
        for name, value in (
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("pix_key", pix_key),
            ("cert_pem", cert_pem),
            ("key_pem", key_pem),
        ):
            if not value:
                raise ValidationError(name, "is required")
        self._record(
            self.PspConfigured,
            meta,
            base_url=base_url,
            client_id=client_id,
            pix_key=pix_key[:77],
            cert_pem=cert_pem,
            ca_pem=ca_pem,
            webhook_token=webhook_token,
            secrets={"client_secret": client_secret, "key_pem": key_pem},
        )


class CashImport(Aggregate):
    """One uploaded file: previewed (nothing recorded), then confirmed once."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        account_id: str
        duplicates: int
        format: str
        mapping: dict[str, str]
        matched: int
        recorded: int
        sha256: str
        status: str
        unmatched: int

    class Previewed(Aggregate.Created):
        account_id: str
        filename: str
        format: str
        sha256: str
        size: int
        lines: int
        credits: int
        debits: int
        duplicates: int
        credit_total: Decimal
        debit_total: Decimal
        mapping: dict[str, str]

        def apply(self, imp: "CashImport") -> None:
            super().apply(imp)
            imp.status = "preview"
            imp.recorded = imp.matched = imp.unmatched = 0

    class Confirmed(Aggregate.Event):
        recorded: int
        matched: int
        unmatched: int
        duplicates: int

        def apply(self, imp: "CashImport") -> None:
            imp.status = "confirmed"
            imp.recorded, imp.matched, imp.unmatched = self.recorded, self.matched, self.unmatched
            imp.duplicates = self.duplicates

    @classmethod
    def preview(cls, meta: Meta, import_id: UUID, **fields: Any) -> "CashImport":
        return cls._open(cls.Previewed, meta, id=import_id, **fields)

    def start_confirm(self) -> None:
        if self.status != "preview":
            raise ConflictError(f"this import is already {self.status}", field="id")

    def confirm(self, meta: Meta, *, recorded: int, matched: int, unmatched: int, duplicates: int) -> None:
        self.start_confirm()
        self._record(
            self.Confirmed,
            meta,
            recorded=recorded,
            matched=matched,
            unmatched=unmatched,
            duplicates=duplicates,
        )


class CashMovement(Aggregate):
    """Money in or out of an account, as one source reported it, and what it was matched to."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        amount: Decimal
        category: str
        counterpart_document: str
        counterpart_name: str
        customer_id: str | None
        invoice_id: str | None
        kind: str
        memo: str
        nfse_id: str | None
        nosso_numero: str
        note: str
        payment_reference: str
        posted_on: date
        references: list[str]
        rule: str
        source: str
        status: str
        txid: str

    class Recorded(Aggregate.Created):
        account_id: str
        import_id: str
        source: str
        source_key: str
        references: list[str]
        posted_on: date
        amount: Decimal
        kind: str
        memo: str
        counterpart_name: str
        counterpart_document: str
        fitid: str
        txid: str
        e2eid: str
        nosso_numero: str
        fees: Decimal
        interest: Decimal
        credit_on: date | None

        def apply(self, mv: "CashMovement") -> None:
            super().apply(mv)
            mv.status = "unmatched"
            mv.invoice_id = None
            mv.customer_id = None
            mv.rule = ""
            mv.payment_reference = ""
            mv.category = ""
            mv.nfse_id = None
            mv.note = ""

    class Matched(Aggregate.Event):
        invoice_id: str | None
        customer_id: str | None
        rule: str
        payment_reference: str

        def apply(self, mv: "CashMovement") -> None:
            mv.status = "matched"
            mv.invoice_id, mv.customer_id = self.invoice_id, self.customer_id
            mv.rule, mv.payment_reference = self.rule, self.payment_reference
            mv.note = ""

    class Flagged(Aggregate.Event):
        """Left for a person: e.g. its invoice was already paid by another movement."""

        note: str
        invoice_id: str | None

        def apply(self, mv: "CashMovement") -> None:
            mv.note = self.note

    class MarkedNotRevenue(Aggregate.Event):
        category: str

        def apply(self, mv: "CashMovement") -> None:
            mv.status = "not_revenue"
            mv.category = self.category

    class NfseLinked(Aggregate.Event):
        nfse_id: str

        def apply(self, mv: "CashMovement") -> None:
            mv.nfse_id = self.nfse_id

    class PaymentCancelledAlert(Aggregate.Event):
        reason: str

        def apply(self, mv: "CashMovement") -> None:
            mv.note = self.reason

    @classmethod
    def record(
        cls,
        meta: Meta,
        *,
        account_id: str,
        import_id: str,
        source: str,
        key: str,
        posted_on: date,
        amount: Decimal,
        kind: str,
        memo: str = "",
        counterpart_name: str = "",
        counterpart_document: str = "",
        fitid: str = "",
        txid: str = "",
        e2eid: str = "",
        nosso_numero: str = "",
        fees: Decimal = Decimal("0.00"),
        interest: Decimal = Decimal("0.00"),
        credit_on: date | None = None,
    ) -> "CashMovement":
        if source not in SOURCES:
            raise ValidationError("source", f"one of {', '.join(SOURCES)}")
        if kind not in KINDS:
            raise ValidationError("kind", "credit or debit")
        if amount <= 0:
            raise ValidationError("amount", "must be greater than zero")
        return cls._open(
            cls.Recorded,
            meta,
            id=movement_id(meta.tenant_id, key),
            account_id=account_id,
            import_id=import_id,
            source=source,
            source_key=key,
            references=reference_keys(e2eid=e2eid, txid=txid, nosso_numero=nosso_numero),
            posted_on=posted_on,
            amount=amount.quantize(CENT),
            kind=kind,
            memo=memo[:255],
            counterpart_name=counterpart_name[:120],
            counterpart_document=counterpart_document[:14],
            fitid=fitid[:255],
            txid=txid[:35],
            e2eid=e2eid[:32],
            nosso_numero=nosso_numero[:20],
            fees=fees.quantize(CENT),
            interest=interest.quantize(CENT),
            credit_on=credit_on,
        )

    def _open_for_match(self) -> None:
        if self.kind != "credit":
            raise ConflictError("only a credit can be matched to a receivable", field="id")
        if self.status == "matched":
            raise ConflictError("this movement is already matched", field="id")

    def match(
        self,
        meta: Meta,
        *,
        invoice_id: str | None,
        customer_id: str | None,
        rule: str,
        payment_reference: str,
    ) -> None:
        self._open_for_match()
        self._record(
            self.Matched,
            meta,
            invoice_id=invoice_id,
            customer_id=customer_id,
            rule=rule,
            payment_reference=payment_reference,
        )

    def flag(self, meta: Meta, note: str, invoice_id: str | None = None) -> None:
        if self.note != note:
            self._record(self.Flagged, meta, note=note[:300], invoice_id=invoice_id)

    def mark_not_revenue(self, meta: Meta, category: str) -> None:
        if category not in NOT_REVENUE_CATEGORIES:
            raise ValidationError("category", f"one of {', '.join(NOT_REVENUE_CATEGORIES)}")
        if self.status == "matched":
            raise ConflictError("a matched movement cannot be marked as not revenue", field="id")
        self._record(self.MarkedNotRevenue, meta, category=category)

    def link_nfse(self, meta: Meta, nfse_id: str) -> bool:
        if self.nfse_id == nfse_id:
            return False
        self._record(self.NfseLinked, meta, nfse_id=nfse_id)
        return True


class NfseFollowUp(Aggregate):
    """The process manager's memory for one receipt: the NFS-e it asked for (exactly once)."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        nfse_id: str

    class Started(Aggregate.Created):
        receipt: str
        movement_id: str | None
        invoice_id: str | None
        customer_id: str
        nfse_id: str
        trigger: str

    @classmethod
    def start(
        cls,
        meta: Meta,
        *,
        receipt: str,
        movement_id: str | None,
        invoice_id: str | None,
        customer_id: str,
        nfse_id: str,
        trigger: str,
    ) -> "NfseFollowUp":
        return cls._open(
            cls.Started,
            meta,
            id=follow_up_id(meta.tenant_id, receipt),
            receipt=receipt,
            movement_id=movement_id,
            invoice_id=invoice_id,
            customer_id=customer_id,
            nfse_id=nfse_id,
            trigger=trigger,
        )


class CashRemittance(Aggregate):
    """A CNAB 240 remessa registering boletos at the bank (each invoice once: claims)."""

    class Generated(Aggregate.Created):
        account_id: str
        sequence: int
        invoice_ids: list[str]
        total: Decimal
        sha256: str
        filename: str

    @classmethod
    def generate(
        cls,
        meta: Meta,
        remittance_id: UUID,
        *,
        account_id: str,
        sequence: int,
        invoice_ids: list[str],
        total: Decimal,
        sha256: str,
        filename: str,
    ) -> "CashRemittance":
        if not invoice_ids:
            raise ConflictError("no issued boleto is waiting to be registered", field="account_id")
        return cls._open(
            cls.Generated,
            meta,
            id=remittance_id,
            account_id=account_id,
            sequence=sequence,
            invoice_ids=list(invoice_ids),
            total=total,
            sha256=sha256,
            filename=filename,
        )


class PixNotice(Aggregate):
    """A PSP webhook said a Pix arrived. Only a trigger: the actor asks the PSP before anything
    is recorded. One per e2eid (a repeated webhook is the same notice)."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        account_id: str
        attempts: int
        e2eid: str
        error: str
        status: str

    class Received(Aggregate.Created):
        account_id: str
        e2eid: str
        txid: str

        def apply(self, n: "PixNotice") -> None:
            super().apply(n)
            n.status = "received"
            n.error = ""
            n.attempts = 0

    class Confirmed(Aggregate.Event):
        movement_id: str

        def apply(self, n: "PixNotice") -> None:
            n.status = "confirmed"
            n.error = ""

    class Failed(Aggregate.Event):
        error: str
        attempts: int

        def apply(self, n: "PixNotice") -> None:
            n.status = "failed"
            n.error = self.error
            n.attempts = self.attempts

    class RetryRequested(Aggregate.Event):
        def apply(self, n: "PixNotice") -> None:
            n.status = "received"

    @classmethod
    def receive(cls, meta: Meta, *, account_id: str, e2eid: str, txid: str) -> "PixNotice":
        if not re.fullmatch(r"[A-Za-z0-9]{32}", e2eid or ""):
            raise ValidationError("pix.endToEndId", "must be 32 letters or digits")
        return cls._open(
            cls.Received,
            meta,
            id=uuid.uuid5(NAMESPACE, f"pix\x1f{meta.tenant_id}\x1f{e2eid}"),
            account_id=account_id,
            e2eid=e2eid,
            txid=(txid or "")[:35],
        )

    def confirm(self, meta: Meta, movement_id: str) -> bool:
        if self.status == "confirmed":
            return False
        self._record(self.Confirmed, meta, movement_id=movement_id)
        return True

    def fail(self, meta: Meta, error: str, attempts: int) -> None:
        self._record(self.Failed, meta, error=error[:300], attempts=attempts)

    def retry(self, meta: Meta) -> None:
        if self.status != "failed":
            raise ConflictError("only a failed notice can be retried", field="id")
        self._record(self.RetryRequested, meta)


# Matching -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoice:
    id: str
    number: int
    customer_id: str
    balance: Decimal
    due_date: date
    document: str = ""
    txid: str = ""
    nosso_numero: str = ""
    other_txids: tuple[str, ...] = ()  # e.g. the txid of the invoice's PSP charge (cob)


@dataclass(frozen=True)
class Receipt:
    """What matching needs of a credit."""

    amount: Decimal
    posted_on: date
    txid: str = ""
    nosso_numero: str = ""
    seu_numero: str = ""
    payer_document: str = ""
    text: str = ""


@dataclass(frozen=True)
class Match:
    invoice: OpenInvoice
    rule: str  # reference | document_amount | amount_date


@dataclass
class Matcher:
    """Rules in order: exact reference (txid, nosso número) → payer document + amount → amount +
    date window (only when exactly one invoice fits). An invoice matched once is taken out, so
    one snapshot never pays an invoice twice."""

    invoices: Iterable[OpenInvoice]
    window_days: int = DATE_WINDOW_DAYS
    _by_txid: dict[str, OpenInvoice] = field(default_factory=dict, init=False)
    _by_nn: dict[str, OpenInvoice] = field(default_factory=dict, init=False)
    _by_doc: dict[tuple[str, Decimal], list[OpenInvoice]] = field(default_factory=dict, init=False)
    _by_amount: dict[Decimal, list[OpenInvoice]] = field(default_factory=dict, init=False)
    _taken: set[str] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        for inv in self.invoices:
            self.add(inv)

    def add(self, inv: OpenInvoice) -> None:
        for txid in (inv.txid, *inv.other_txids):
            if txid:
                self._by_txid[txid] = inv
        if inv.nosso_numero:
            self._by_nn[inv.nosso_numero.lstrip("0")] = inv
        if inv.balance > 0:
            if inv.document:
                self._by_doc.setdefault((inv.document, inv.balance), []).append(inv)
            self._by_amount.setdefault(inv.balance, []).append(inv)

    def _free(self, invs: Iterable[OpenInvoice]) -> list[OpenInvoice]:
        return [i for i in invs if i.id not in self._taken]

    def find(self, r: Receipt) -> Match | None:
        found = self.peek(r)
        if found is not None:
            self._taken.add(found.invoice.id)
        return found

    def peek(self, r: Receipt) -> Match | None:
        for ref, index in ((r.txid, self._by_txid), (r.nosso_numero.lstrip("0"), self._by_nn)):
            inv = index.get(ref) if ref else None
            if inv is not None and inv.id not in self._taken:
                return Match(inv, "reference")
        if r.text:
            for token in re.findall(r"[A-Za-z0-9]{22,35}", r.text):
                inv = self._by_txid.get(token)
                if inv is not None and inv.id not in self._taken:
                    return Match(inv, "reference")
        if r.payer_document:
            cands = self._free(self._by_doc.get((r.payer_document, r.amount), []))
            if cands:
                return Match(min(cands, key=lambda i: (i.due_date, i.number)), "document_amount")
        cands = [
            i
            for i in self._free(self._by_amount.get(r.amount, []))
            if abs((i.due_date - r.posted_on).days) <= self.window_days
        ]
        if len(cands) == 1:
            return Match(cands[0], "amount_date")
        return None

    def suggestions(self, r: Receipt, limit: int = 3) -> list[OpenInvoice]:
        """Invoices a person may want to pick: same amount first (closest due date), then same payer."""
        same = sorted(
            self._free(self._by_amount.get(r.amount, [])), key=lambda i: abs((i.due_date - r.posted_on).days)
        )
        out = same[:limit]
        if r.payer_document and len(out) < limit:
            for inv in self._free(
                v for (doc, _), lst in self._by_doc.items() if doc == r.payer_document for v in lst
            ):
                if inv not in out:
                    out.append(inv)
        return out[:limit]


def paid_at_of(posted_on: date, at: datetime | None, tz: Any) -> datetime:
    """When the money arrived: the source's instant, or noon local time of the posting date."""
    if at is not None:
        return at
    return datetime(posted_on.year, posted_on.month, posted_on.day, 12, tzinfo=tz)
