"""Cash commands: accounts, import preview → confirm, matching, manual reconciliation, Pix.

Ports (given by `install`): `known(tenant_id, keys) -> set[str]` (keys already recorded, from
the read model), `open_invoices(tenant_id) -> list[OpenInvoice]`, and `pay(meta, invoice_id,
amount, method, paid_at, reference)` — billing's public service. Paying a matched credit takes
three idempotent steps, so a crash or a retry anywhere never pays twice: (1) an automatic match
claims the invoice for this movement (one automatic payment per invoice, ever); (2) billing
records the payment once per movement (its payment reference is the movement id); (3) the
movement records `Matched`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from eventsourcing.persistence import IntegrityError

from retaguarda.cash.domain import (
    CLAIM_SCOPE,
    CashAccount,
    CashImport,
    CashMovement,
    Matcher,
    OpenInvoice,
    Receipt,
    movement_id,
    paid_at_of,
    reference_keys,
    source_key,
)
from retaguarda.cash.formats import FORMATS, FileFormatError, Line, detect, read
from retaguarda.services import Saved, Service
from retaguarda.shared.claims import Claim, claim_id
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.errors import ConflictError, NotFoundError, ValidationError
from retaguarda.shared.meta import Meta

BATCH = 500
MAX_UPLOAD = 50 * 1024 * 1024
AUTO_SCOPE = "cash-auto-payment"
METHOD_OF_SOURCE = {"api_pix": "pix", "return_file": "boleto", "statement": "transfer", "manual": "transfer"}


@dataclass(frozen=True)
class ConfirmResult:
    recorded: int
    matched: int
    unmatched: int
    duplicates: int


class ImportFiles:
    """Uploaded files, content-addressed outside the database (`<dir>/ab/<sha256>`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def store(self, stream: IO[bytes], limit: int = MAX_UPLOAD) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise ValidationError("file", f"the file is larger than {limit // (1024 * 1024)} MB")
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            return sha, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def open(self, sha256: str) -> IO[bytes]:
        return self.path(sha256).open("rb")


def keyed_lines(lines: Iterable[Line], account_id: str) -> Iterator[tuple[Line, str, list[str]]]:
    """(line, source key, reference keys); identical statement lines of one file get nth 0, 1, …"""
    seen: dict[str, int] = {}
    for line in lines:
        base = source_key(
            account_id,
            source=line.source,
            posted_on=line.posted_on,
            amount=line.amount,
            kind=line.kind,
            fitid=line.fitid,
            memo=line.memo,
            nosso_numero=line.nosso_numero,
            occurrence=line.occurrence,
        )
        nth = seen.get(base, 0)
        seen[base] = nth + 1
        key = base if nth == 0 else base[: base.rfind(":") + 1] + str(nth)
        refs = reference_keys(
            e2eid=line.e2eid, txid=line.txid if line.kind == "credit" else "", nosso_numero=line.nosso_numero
        )
        yield line, key, refs


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Cash(Service):
    def __init__(
        self,
        store: Any,
        on_saved: Any,
        *,
        files: ImportFiles,
        known: Callable[[str, list[str]], set[str]],
        open_invoices: Callable[[str], list[OpenInvoice]],
        pay: Callable[..., Any],
    ) -> None:
        super().__init__(store, on_saved)
        self.files = files
        self._known = known
        self._open_invoices = open_invoices
        self._pay = pay

    # Accounts ----------------------------------------------------------------------------------
    def open_account(self, meta: Meta, **fields: Any) -> Saved:
        acc = CashAccount.open(
            meta, opening_date=fields.pop("opening_date", None) or meta.at.date(), **fields
        )
        if self.find(CashAccount, acc.id) is not None:
            raise ConflictError("this account is already registered", field="number")
        try:
            return Saved(acc, self.save(acc))
        except IntegrityError:
            raise ConflictError("this account is already registered", field="number") from None

    def get_account(self, tenant_id: str, account_id: str) -> CashAccount:
        return self.load(CashAccount, account_id, tenant_id)

    def configure_psp(self, meta: Meta, account_id: str, **fields: Any) -> Saved:
        import secrets

        def command() -> Saved:
            acc = self.load(CashAccount, account_id, meta.tenant_id)
            acc.configure_psp(meta, webhook_token=acc.webhook_token or secrets.token_urlsafe(24), **fields)
            return Saved(acc, self.save(acc))

        return self.retrying(command)

    # Import --------------------------------------------------------------------------------------
    def _lines(self, fmt: str, stream: IO[bytes], mapping: dict[str, str]) -> Iterator[Line]:
        return read(stream, fmt, mapping=mapping)

    def preview_import(
        self,
        meta: Meta,
        account_id: str,
        stream: IO[bytes],
        *,
        filename: str = "",
        fmt: str = "",
        mapping: dict[str, str] | None = None,
    ) -> Saved:
        """Stores the file, reads it through (streamed) and counts credits, debits and duplicates.
        Records only the preview; an unreadable file raises ValidationError("file", "line N: …")."""
        acc = self.load(CashAccount, account_id, meta.tenant_id)
        sha, size = self.files.store(stream)
        if size == 0:
            raise ValidationError("file", "the file is empty")
        try:
            with self.files.open(sha) as fh:
                head = fh.read(4096)
            fmt = fmt or detect(head)
            if fmt not in FORMATS:
                raise ValidationError("format", f"one of {', '.join(FORMATS)}")
            use_mapping = dict(mapping or acc.csv_mapping or {})
            if fmt == "csv" and not use_mapping:
                raise ValidationError("mapping", "a CSV file needs a column mapping (date, amount, …)")
            counts = {"lines": 0, "credits": 0, "debits": 0, "duplicates": 0}
            totals = {"credit": Decimal("0.00"), "debit": Decimal("0.00")}
            with self.files.open(sha) as fh:
                for chunk in _chunks(keyed_lines(self._lines(fmt, fh, use_mapping), str(acc.id)), BATCH):
                    dup = self._duplicates(meta.tenant_id, chunk)
                    for line, key, _refs in chunk:
                        counts["lines"] += 1
                        if key in dup:
                            counts["duplicates"] += 1
                            continue
                        counts["credits" if line.kind == "credit" else "debits"] += 1
                        totals[line.kind] += line.amount
        except FileFormatError as exc:
            raise ValidationError("file", f"cannot read the file: {exc}") from None
        except UnicodeDecodeError:
            raise ValidationError("file", "cannot read the file: unknown text encoding") from None
        if counts["lines"] == 0:
            raise ValidationError("file", "no movements found in the file")
        imp = CashImport.preview(
            meta,
            uuid.uuid4(),
            account_id=str(acc.id),
            filename=filename[:200],
            format=fmt,
            sha256=sha,
            size=size,
            credit_total=totals["credit"],
            debit_total=totals["debit"],
            mapping=use_mapping if fmt == "csv" else {},
            **counts,
        )
        return Saved(imp, self.save(imp))

    def preview_lines(
        self, tenant_id: str, import_id: str, *, offset: int = 0, limit: int = 50
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the import's lines, each with `duplicate` (already recorded)."""
        imp = self.load(CashImport, import_id, tenant_id)
        out: list[dict[str, Any]] = []
        total = 0
        with self.files.open(imp.sha256) as fh:
            for chunk in _chunks(
                keyed_lines(self._lines(imp.format, fh, imp.mapping), imp.account_id), BATCH
            ):
                window = [c for i, c in enumerate(chunk, start=total) if offset <= i < offset + limit]
                dup = self._duplicates(tenant_id, window) if window else set()
                for line, key, _ in window:
                    out.append(
                        {
                            **line.as_dict(),
                            "duplicate": key in dup,
                            "movement_id": str(movement_id(tenant_id, key)),
                        }
                    )
                total += len(chunk)
        return out, total

    def _duplicates(self, tenant_id: str, chunk: list[tuple[Line, str, list[str]]]) -> set[str]:
        """Source keys of `chunk` already recorded (by source key or by any reference)."""
        keys = [k for _, k, _ in chunk] + [r for _, _, refs in chunk for r in refs]
        known = self._known(tenant_id, keys)
        dup = {k for _, k, refs in chunk if k in known or any(r in known for r in refs)}
        # references repeated inside the chunk: the first one wins
        seen: set[str] = set()
        for _, k, refs in chunk:
            if k in dup:
                continue
            if any(r in seen for r in refs):
                dup.add(k)
            seen.update(refs)
        return dup

    def confirm_import(self, meta: Meta, import_id: str) -> ConfirmResult:
        """Records every line not recorded before (in atomic batches) and matches the credits."""
        imp = self.load(CashImport, import_id, meta.tenant_id)
        imp.start_confirm()
        recorded = duplicates = credits = matched = 0
        matcher = self.matcher(meta.tenant_id)
        with self.files.open(imp.sha256) as fh:
            for chunk in _chunks(
                keyed_lines(self._lines(imp.format, fh, imp.mapping), imp.account_id), BATCH
            ):
                dup = self._duplicates(meta.tenant_id, chunk)
                fresh = [(line, key) for line, key, _ in chunk if key not in dup]
                duplicates += len(chunk) - len(fresh)
                saved = self._record_batch(meta, imp.account_id, str(imp.id), fresh)
                recorded += len(saved)
                duplicates += len(fresh) - len(saved)
                batch_credits = [m for m in saved if m.kind == "credit"]
                credits += len(batch_credits)
                matched += self.match_movements(meta, batch_credits, matcher)
        imp = self.load(CashImport, import_id, meta.tenant_id)
        imp.confirm(
            meta, recorded=recorded, matched=matched, unmatched=credits - matched, duplicates=duplicates
        )
        try:
            self.save(imp)
        except IntegrityError:
            raise ConflictError(
                "this import was confirmed at the same time by someone else", field="id"
            ) from None
        return ConfirmResult(recorded, matched, credits - matched, duplicates)

    def _movement(self, meta: Meta, account_id: str, import_id: str, line: Line, key: str) -> CashMovement:
        return CashMovement.record(
            meta,
            account_id=account_id,
            import_id=import_id,
            source=line.source,
            key=key,
            posted_on=line.posted_on,
            amount=line.amount,
            kind=line.kind,
            memo=line.memo,
            counterpart_name=line.name,
            counterpart_document=line.payer_document,
            fitid=line.fitid,
            txid=line.txid if line.kind == "credit" else "",
            e2eid=line.e2eid,
            nosso_numero=line.nosso_numero,
            fees=line.fees,
            interest=line.interest,
            credit_on=line.credit_on,
        )

    def _claims(self, meta: Meta, mv: CashMovement) -> list[Claim]:
        return [Claim.take(CLAIM_SCOPE, f"{meta.tenant_id}:{ref}", str(mv.id), meta) for ref in mv.references]

    def _record_batch(
        self, meta: Meta, account_id: str, import_id: str, lines: list[tuple[Line, str]]
    ) -> list[CashMovement]:
        """Saves the batch atomically; when another writer got one of them first, line by line."""
        if not lines:
            return []
        movements = [self._movement(meta, account_id, import_id, line, key) for line, key in lines]
        claims = [c for mv in movements for c in self._claims(meta, mv)]
        try:
            self.save(*movements, *claims)
            return movements
        except IntegrityError:
            pass
        saved = []
        for line, key in lines:
            mv = self._movement(meta, account_id, import_id, line, key)
            if self.record_one(meta, mv):
                saved.append(mv)
        return saved

    def record_one(self, meta: Meta, mv: CashMovement) -> bool:
        """Saves one movement with its reference claims; False when it (or a reference) exists."""
        if self.find(CashMovement, mv.id) is not None:
            return False
        for ref in mv.references:
            if self.find(Claim, claim_id(CLAIM_SCOPE, f"{meta.tenant_id}:{ref}")) is not None:
                return False
        try:
            self.save(mv, *self._claims(meta, mv))
            return True
        except IntegrityError:
            return False

    # Matching --------------------------------------------------------------------------------------
    def matcher(self, tenant_id: str) -> Matcher:
        return Matcher(self._open_invoices(tenant_id))

    def match_movements(
        self, meta: Meta, movements: list[CashMovement], matcher: Matcher | None = None
    ) -> int:
        if not movements:
            return 0
        matcher = matcher or self.matcher(meta.tenant_id)
        matched = 0
        for mv in movements:
            if mv.kind != "credit" or mv.status != "unmatched":
                continue
            found = matcher.find(receipt_of(mv))
            if found is None:
                self._flag_if_referenced(meta, mv)
                continue
            if self.settle(meta, str(mv.id), found.invoice.id, found.rule, automatic=True):
                matched += 1
        return matched

    def settle(self, meta: Meta, movement_id_: str, invoice_id: str, rule: str, *, automatic: bool) -> bool:
        """Pays `invoice_id` with the movement (idempotent; see the module doc). False when an
        automatic match finds the invoice already paid by another movement (then flagged)."""
        mv = self.load(CashMovement, movement_id_, meta.tenant_id)
        if mv.status == "matched":
            return mv.invoice_id == invoice_id
        mv._open_for_match()
        if automatic:
            key = f"{meta.tenant_id}:{invoice_id}"
            holder = self.find(Claim, claim_id(AUTO_SCOPE, key))
            if holder is None:
                try:
                    self.save(Claim.take(AUTO_SCOPE, key, str(mv.id), meta))
                except IntegrityError:
                    holder = self.find(Claim, claim_id(AUTO_SCOPE, key))
            if holder is not None and holder.owner_id != str(mv.id):

                def flag() -> Saved:
                    m = self.load(CashMovement, movement_id_, meta.tenant_id)
                    m.flag(
                        meta,
                        f"invoice already paid by movement {holder.owner_id}: check for a double payment",
                        invoice_id,
                    )
                    return Saved(m, self.save(m))

                self.retrying(flag)
                return False
        paid_at = paid_at_of(mv.posted_on, None, SAO_PAULO)
        try:
            self._pay(
                meta,
                invoice_id,
                amount=mv.amount,
                method=METHOD_OF_SOURCE.get(mv.source, "transfer"),
                paid_at=min(paid_at, meta.at),
                reference=str(mv.id),
            )
        except ConflictError as exc:
            if exc.field != "reference":
                raise
        customer_id = None
        try:
            customer_id = self._invoice_customer(meta.tenant_id, invoice_id)
        except NotFoundError:
            pass

        def command() -> Saved:
            m = self.load(CashMovement, movement_id_, meta.tenant_id)
            if m.status == "matched":
                return Saved(m, 0)
            m.match(
                meta, invoice_id=invoice_id, customer_id=customer_id, rule=rule, payment_reference=str(mv.id)
            )
            return Saved(m, self.save(m))

        self.retrying(command)
        return True

    invoice_customer: Callable[[str, str], str] | None = None
    referenced_invoice: Callable[[str, str], Any] | None = None

    def _flag_if_referenced(self, meta: Meta, mv: CashMovement) -> None:
        """A credit naming an invoice that is not open (paid, cancelled): a possible double payment."""
        tokens = [mv.txid] if mv.txid else []
        tokens += [
            t for t in re.findall(r"[A-Za-z0-9]{22}", f"{mv.memo} {mv.counterpart_name}") if t not in tokens
        ]
        for token in tokens:
            inv = self.referenced_invoice(meta.tenant_id, token) if self.referenced_invoice else None
            if inv is None:
                continue

            def flag(inv: Any = inv) -> Saved:
                m = self.load(CashMovement, str(mv.id), meta.tenant_id)
                m.flag(
                    meta,
                    f"invoice {inv.number} is {inv.status}, not open: check for a double payment",
                    str(inv.id),
                )
                return Saved(m, self.save(m))

            self.retrying(flag)
            return

    def _invoice_customer(self, tenant_id: str, invoice_id: str) -> str | None:
        return self.invoice_customer(tenant_id, invoice_id) if self.invoice_customer else None

    def match_to_invoice(self, meta: Meta, movement_id_: str, invoice_id: str) -> CashMovement:
        mv = self.load(CashMovement, movement_id_, meta.tenant_id)
        if mv.status == "matched" and mv.invoice_id != invoice_id:
            raise ConflictError("this movement is already matched", field="id")
        self.settle(meta, movement_id_, invoice_id, "manual", automatic=False)
        return self.load(CashMovement, movement_id_, meta.tenant_id)

    def match_to_customer(self, meta: Meta, movement_id_: str, customer_id: str) -> CashMovement:
        """A receipt without invoice (e.g. an advance): kept as the customer's, for the NFS-e."""

        def command() -> Saved:
            mv = self.load(CashMovement, movement_id_, meta.tenant_id)
            mv.match(
                meta, invoice_id=None, customer_id=customer_id, rule="manual_customer", payment_reference=""
            )
            return Saved(mv, self.save(mv))

        return self.retrying(command).aggregate

    def mark_not_revenue(self, meta: Meta, movement_id_: str, category: str) -> CashMovement:
        def command() -> Saved:
            mv = self.load(CashMovement, movement_id_, meta.tenant_id)
            mv.mark_not_revenue(meta, category)
            return Saved(mv, self.save(mv))

        return self.retrying(command).aggregate

    def link_nfse(self, meta: Meta, movement_id_: str, nfse_id: str) -> None:
        def command() -> Saved:
            mv = self.load(CashMovement, movement_id_, meta.tenant_id)
            return Saved(mv, self.save(mv) if mv.link_nfse(meta, nfse_id) else 0)

        self.retrying(command)

    # Remittance (CNAB 240 remessa) ------------------------------------------------------------------
    def generate_remittance(
        self, meta: Meta, account_id: str, *, beneficiary: Any, titles: list[tuple[str, Any]]
    ) -> Saved:
        """Registers the boletos of `titles` ((invoice id, Title)) not registered before, in one
        remessa; each invoice is claimed so a later remessa never repeats it."""
        from io import BytesIO

        from retaguarda.cash.domain import CashRemittance
        from retaguarda.cash.formats.cnab240 import write_remessa_240
        from retaguarda.shared.sequence import next_number

        self.load(CashAccount, account_id, meta.tenant_id)

        def command() -> Saved:
            pending = [
                (inv, t)
                for inv, t in titles
                if self.find(Claim, claim_id("cash-remitted", f"{meta.tenant_id}:{inv}")) is None
            ]
            number, seq = next_number(self, f"cash:remessa:{account_id}", meta)
            rem = write_remessa_240(beneficiary, [t for _, t in pending], sequence=number, at=meta.at)
            sha, _size = self.files.store(BytesIO(rem.text.encode("latin-1")))
            filename = f"CB{meta.at:%d%m}{number:02d}.REM"[:30]
            remittance = CashRemittance.generate(
                meta,
                uuid.uuid4(),
                account_id=account_id,
                sequence=number,
                invoice_ids=[inv for inv, _ in pending],
                total=rem.total,
                sha256=sha,
                filename=filename,
            )
            claims = [
                Claim.take("cash-remitted", f"{meta.tenant_id}:{inv}", str(remittance.id), meta)
                for inv, _ in pending
            ]
            return Saved(remittance, self.save(remittance, seq, *claims))

        return self.retrying(command)

    # API Pix ----------------------------------------------------------------------------------------
    def receive_pix_webhook(self, meta: Meta, account_id: str, items: list[Any]) -> dict[str, int]:
        """Records a notice per Pix of a PSP webhook (`{"pix": [...]}`); the actor confirms each with
        the PSP. A repeated delivery records nothing new."""
        from retaguarda.cash.domain import PixNotice

        new = repeated = 0
        for i, item in enumerate(items[:1000]):
            if not isinstance(item, dict):
                raise ValidationError(f"pix[{i}]", "each Pix is an object")
            notice = PixNotice.receive(
                meta,
                account_id=account_id,
                e2eid=str(item.get("endToEndId") or ""),
                txid=str(item.get("txid") or ""),
            )
            if self.find(PixNotice, notice.id) is not None:
                repeated += 1
                continue
            try:
                self.save(notice)
                new += 1
            except IntegrityError:
                repeated += 1
        return {"received": new, "repeated": repeated}

    def retry_pix_notice(self, meta: Meta, notice_id: str) -> Saved:
        from retaguarda.cash.domain import PixNotice

        def command() -> Saved:
            n = self.load(PixNotice, notice_id, meta.tenant_id)
            n.retry(meta)
            return Saved(n, self.save(n))

        return self.retrying(command)

    def record_pix(
        self,
        meta: Meta,
        account_id: str,
        *,
        e2eid: str,
        txid: str,
        amount: Decimal,
        at: datetime,
        payer_document: str = "",
        payer_name: str = "",
        info: str = "",
    ) -> tuple[CashMovement | None, bool]:
        """Records a Pix confirmed by the PSP and matches it. (movement, new?)"""
        line = Line(
            line_no=0,
            posted_on=at.astimezone(SAO_PAULO).date(),
            posted_at=at,
            amount=amount,
            kind="credit",
            source="api_pix",
            e2eid=e2eid,
            txid=txid,
            memo=info,
            name=payer_name,
            payer_document=payer_document,
        )
        key = source_key(
            account_id, source="api_pix", posted_on=line.posted_on, amount=amount, kind="credit", e2eid=e2eid
        )
        mv = self._movement(meta, account_id, "", line, key)
        new = self.record_one(meta, mv)
        if not new:
            existing = self.find(CashMovement, mv.id)
            return existing, False
        self.match_movements(meta, [mv])
        return self.load(CashMovement, str(mv.id), meta.tenant_id), True


def receipt_of(mv: CashMovement) -> Receipt:
    return Receipt(
        amount=mv.amount,
        posted_on=mv.posted_on,
        txid=mv.txid,
        nosso_numero=mv.nosso_numero,
        payer_document=mv.counterpart_document,
        text=f"{mv.memo} {mv.counterpart_name}",
    )


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
