"""Jobs of the cash context.

`cash.confirm_pix` (on `PixNotice.Received`): asks the PSP for the Pix (`GET /pix/{e2eid}`,
never trusting the webhook body), records the movement and matches it; retried with backoff,
then `PixNotice.Failed` (dead letter, retry from the reconciliation page).

`cash.create_cob` (on billing's `Invoice.Issued` / `Invoice.Generated`): when the tenant has an
account with a PSP, creates the invoice's immediate charge (`PUT /cob/{txid}`, txid derived from
the invoice) and hands its `location` to billing, whose location-based BR Code then replaces the
static one on the invoice and the pay page. A retry finds the charge already created
(`GET /cob/{txid}`); billing attaches it once.

`cash.poll_pix` (every 15 min): lists the Pix received in the last two hours from each PSP
(`GET /pix?inicio&fim`, every page) and records and matches those not seen yet — the safety net
for a webhook that never came. Idempotent by e2eid (the movement id and reference claim derive
from it), so overlapping windows and webhook + poll + statement record one movement.

`cash.nfse_follow_up` (the process manager, on `CashMovement.Matched` and billing's
`Invoice.PaymentReceived`): when the tenant's fiscal `emit_on_cash_confirm` (a confirmed receipt)
or billing's `nfse_on_paid` (an invoice became paid) is on, requests the NFS-e from the fiscal
context exactly once per receipt — the receipt is the invoice when there is one, else the
movement — and links movement ↔ invoice ↔ NFS-e. Every step is idempotent: the note id is
derived from the receipt (a second draft conflicts), the follow-up aggregate is unique per
receipt, and only a draft is sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import IntegrityError

from retaguarda.cash.domain import NAMESPACE, CashAccount, CashMovement, NfseFollowUp, PixNotice, follow_up_id
from retaguarda.integrations import current_attempt, job
from retaguarda.integrations.errors import TransientError
from retaguarda.shared.errors import ConflictError, NotFoundError
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

CONFIRM_PIX = "cash.confirm_pix"
NFSE_FOLLOW_UP = "cash.nfse_follow_up"
CREATE_COB = "cash.create_cob"
POLL_PIX = "cash.poll_pix"
PIX_RETRIES = 5
POLL_EVERY_SECONDS = 15 * 60
POLL_WINDOW = timedelta(hours=2)  # overlaps several runs: a run missed or late loses nothing
COB_DAYS_AFTER_DUE = 30


def notice_args(event: Any) -> tuple[str, int]:
    return str(event.originator_id), event.originator_version


def matched_args(event: Any) -> tuple[str, str, str, str]:
    return event.tenant_id, str(event.originator_id), event.invoice_id or "", "cash_confirm"


def paid_args(event: Any) -> tuple[str, str, str, str]:
    return event.tenant_id, "", str(event.originator_id), "invoice_paid"


def _meta(container: Container, tenant_id: str, job_name: str) -> Meta:
    return Meta(
        tenant_id=tenant_id,
        actor=f"system:{job_name}",
        correlation_id=uuid.uuid4().hex,
        at=container.clock.now(),
    )


def _pix_gave_up(container: Container, notice_id: str, error: str) -> None:
    cash = container.cash
    notice = cash.find(PixNotice, uuid.UUID(notice_id))
    if notice is None or notice.status != "received":
        return
    notice.fail(_meta(container, notice.tenant_id, CONFIRM_PIX), error, PIX_RETRIES + 1)
    cash.save(notice)


def record_pix_give_up(
    container: Container, notice_id: str, version: int = 0, *, error: str, attempts: int
) -> None:
    """Last retry failed: the notice goes to the dead-letter list (retry from the queue page)."""
    _pix_gave_up(container, notice_id, error or "the PSP did not answer")


@job(
    actor_name=CONFIRM_PIX,
    queue_name="cash",
    max_retries=PIX_RETRIES,
    min_backoff=1000,
    max_backoff=60_000,
    on_give_up=record_pix_give_up,
)
def confirm_pix(container: Container, notice_id: str, version: int) -> str:
    cash = container.cash
    notice = cash.find(PixNotice, uuid.UUID(notice_id))
    if notice is None:
        return "unknown notice"
    if notice.status == "confirmed":
        return "already confirmed"
    meta = _meta(container, notice.tenant_id, CONFIRM_PIX)
    account = cash.load(CashAccount, notice.account_id, notice.tenant_id)
    client = container.cash_psp_factory(account)
    if client is None:
        notice.fail(meta, "the account has no PSP configured", current_attempt())
        cash.save(notice)
        return "no PSP"
    try:
        pix = client.get_pix(notice.e2eid)
    except TransientError:
        raise  # retried with backoff; after the last try `record_pix_give_up`
    except Exception as exc:  # a permanent refusal: visible dead letter
        notice.fail(meta, str(exc), current_attempt())
        cash.save(notice)
        return "failed"
    finally:
        client.close()
    at = datetime.fromisoformat(pix.at.replace("Z", "+00:00"))
    mv, new = cash.record_pix(
        meta,
        notice.account_id,
        e2eid=pix.e2eid,
        txid=pix.txid,
        amount=pix.amount,
        at=at,
        payer_document=pix.payer_document,
        payer_name=pix.payer_name,
        info=pix.payer_info,
    )
    notice = cash.find(PixNotice, uuid.UUID(notice_id))
    if notice is not None and mv is not None and notice.confirm(meta, str(mv.id)):
        try:
            cash.save(notice)
        except IntegrityError:
            pass
    return "recorded" if new else "already recorded"


def _wanted(container: Container, tenant_id: str, trigger: str) -> bool:
    if trigger == "cash_confirm":
        fiscal = getattr(container, "fiscal", None)
        fs = fiscal.get_settings(tenant_id) if fiscal is not None else None
        return bool(fs is not None and getattr(fs, "emit_on_cash_confirm", False))
    settings = container.billing.settings_for(tenant_id)
    return bool(settings.values.get("nfse_on_paid"))


def note_id_for(follow_up: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"note\x1f{follow_up}")


@job(
    actor_name=NFSE_FOLLOW_UP,
    queue_name="cash",
    max_retries=8,
    min_backoff=1000,
    max_backoff=60_000,
    time_limit=120_000,
)
def nfse_follow_up(
    container: Container, tenant_id: str, movement_id: str, invoice_id: str, trigger: str
) -> str:
    cash, fiscal = container.cash, getattr(container, "fiscal", None)
    if fiscal is None or not _wanted(container, tenant_id, trigger):
        return "not enabled"
    meta = _meta(container, tenant_id, NFSE_FOLLOW_UP)
    invoice = None
    if invoice_id:
        invoice = container.billing.get_invoice(tenant_id, invoice_id)
        if trigger == "invoice_paid" and invoice.status != "paid":
            return "invoice not paid yet"
    movement = cash.load(CashMovement, movement_id, tenant_id) if movement_id else None
    if invoice is None and movement is None:
        return "nothing to do"
    if invoice is None and movement is not None and not movement.customer_id:
        return "receipt without customer"
    receipt = f"invoice:{invoice_id}" if invoice_id else f"movement:{movement_id}"
    fu_id = follow_up_id(tenant_id, receipt)
    fu = cash.find(NfseFollowUp, fu_id)
    if fu is None:
        note_id = note_id_for(fu_id)
        if invoice is not None:
            lines = "; ".join(str(i.get("description", "")) for i in invoice.items)[:1000]
            data: dict[str, Any] = {
                "customer_id": invoice.customer_id,
                "amount": str(invoice.total),
                "service": {"description": f"{lines} (fatura {invoice.number})"[:1000]},
            }
            customer_id = invoice.customer_id
        else:
            assert movement is not None
            data = {"customer_id": movement.customer_id, "amount": str(movement.amount)}
            customer_id = str(movement.customer_id)
        try:
            fiscal.create_draft(meta, data, note_id=note_id)
        except IntegrityError:
            pass  # an earlier attempt drafted it
        try:
            cash.save(
                NfseFollowUp.start(
                    meta,
                    receipt=receipt,
                    movement_id=movement_id or None,
                    invoice_id=invoice_id or None,
                    customer_id=customer_id,
                    nfse_id=str(note_id),
                    trigger=trigger,
                )
            )
        except IntegrityError:
            pass
        fu = cash.find(NfseFollowUp, fu_id)
        if fu is None:  # pragma: no cover - just saved or saved by a racer
            raise TransientError("follow-up not readable yet")
    note = fiscal.find_note(fu.nfse_id)
    if note is None:
        raise TransientError("note not readable yet")
    if note.status == "draft":
        try:
            fiscal.emit(meta, fu.nfse_id)
        except ConflictError:
            pass  # sent by a concurrent attempt
    targets = [movement_id] if movement_id else []
    if invoice_id:
        from projections.cash.ledger import movements_of_invoice

        with container.engine.connect() as conn:
            targets += [m["id"] for m in movements_of_invoice(conn, tenant_id, invoice_id)]
    for mid in dict.fromkeys(targets):
        try:
            cash.link_nfse(meta, mid, fu.nfse_id)
        except NotFoundError:
            continue
    return f"nfse {fu.nfse_id}"


def invoice_args(event: Any) -> tuple[str, str]:
    return event.tenant_id, str(event.originator_id)


def _psp_accounts(container: Container, tenant_id: str | None = None) -> list[tuple[str, str]]:
    from projections.cash.ledger import psp_accounts

    with container.engine.connect() as conn:
        return psp_accounts(conn, tenant_id)


@job(actor_name=CREATE_COB, queue_name="cash", max_retries=5, min_backoff=1000, max_backoff=60_000)
def create_cob(container: Container, tenant_id: str, invoice_id: str) -> str:
    return create_pix_charge(container, tenant_id, invoice_id)


def create_pix_charge(container: Container, tenant_id: str, invoice_id: str) -> str:
    """The invoice's `cob` at the tenant's (first) PSP, attached to the invoice. Idempotent."""
    from retaguarda.cash.install import cob_txid
    from retaguarda.cash.pixapi import PixApiRefused

    accounts = _psp_accounts(container, tenant_id)
    if not accounts:
        return "no PSP"
    inv = container.billing.get_invoice(tenant_id, invoice_id)
    if inv.status not in ("issued", "partially_paid", "overdue"):
        return f"invoice is {inv.status}"
    txid = cob_txid(invoice_id)
    pix: dict[str, Any] = dict(getattr(inv, "pix", None) or {})
    due_date: date = getattr(inv, "due_date")  # noqa: B009 - set by the event, not declared
    if pix.get("dynamic") and pix.get("txid") == txid:
        return "already attached"
    amount = inv.balance
    if amount <= 0:
        return "nothing to charge"
    cash = container.cash
    account = cash.load(CashAccount, accounts[0][1], tenant_id)
    client = container.cash_psp_factory(account)
    if client is None:  # pragma: no cover - the read model said it has one
        return "no PSP"
    meta = _meta(container, tenant_id, CREATE_COB)
    ends = datetime.combine(due_date + timedelta(days=COB_DAYS_AFTER_DUE), datetime.min.time(),
                            tzinfo=meta.at.tzinfo)
    expires = max(3600, int((ends - meta.at).total_seconds()))
    try:
        try:
            cob = client.put_cob(txid, amount=amount, key=account.psp["pix_key"], expires_in=expires,
                                 message=f"Fatura {inv.number}")
        except PixApiRefused as refused:
            try:
                cob = client.get_cob(txid)  # created by an earlier attempt
            except PixApiRefused:
                raise refused from None
    except PixApiRefused as exc:
        return f"refused by the PSP: {exc}"
    finally:
        client.close()
    location = str(cob.get("location") or "")
    if not location:
        return "the PSP returned no location"
    original = Decimal(str((cob.get("valor") or {}).get("original") or amount))
    saved = container.billing.attach_pix_charge(
        meta, invoice_id, txid=txid, location=location, amount=original
    )
    return "attached" if saved.position else "already attached"


@job(actor_name=POLL_PIX, queue_name="cash", max_retries=2, min_backoff=1000, max_backoff=30_000,
     time_limit=600_000)
def poll_pix(container: Container) -> str:
    return reconcile_received_pix(container)


def reconcile_received_pix(container: Container, window: timedelta = POLL_WINDOW) -> str:
    """Records the Pix each PSP lists in `window` (up to now) that are not recorded yet."""
    from retaguarda.cash.pixapi import PixApiRefused

    end = container.clock.now()
    start = end - window
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    since, until = start.astimezone(UTC).strftime(fmt), end.astimezone(UTC).strftime(fmt)
    cash = container.cash
    recorded = seen = failed = 0
    for tenant_id, account_id in _psp_accounts(container):
        account = cash.load(CashAccount, account_id, tenant_id)
        client = container.cash_psp_factory(account)
        if client is None:  # pragma: no cover
            continue
        meta = _meta(container, tenant_id, POLL_PIX)
        try:
            page, pages = 0, 1
            while page < pages and page < 1000:
                items, pages = client.list_pix(since, until, page)
                for pix in items:
                    if pix.amount <= 0:
                        continue
                    _mv, new = cash.record_pix(
                        meta,
                        account_id,
                        e2eid=pix.e2eid,
                        txid=pix.txid,
                        amount=pix.amount,
                        at=datetime.fromisoformat(pix.at.replace("Z", "+00:00")),
                        payer_document=pix.payer_document,
                        payer_name=pix.payer_name,
                        info=pix.payer_info,
                    )
                    recorded, seen = (recorded + 1, seen) if new else (recorded, seen + 1)
                page += 1
        except (TransientError, PixApiRefused):
            failed += 1  # the next run's window covers it again
        finally:
            client.close()
    return f"{recorded} Pix recorded, {seen} already recorded, {failed} accounts failed"
