"""What NFCom adds to the fiscal `CONTEXT` (retaguarda/fiscal/context.py): its jobs, the triggers
that turn its events (and billing's invoice events) into jobs, and the reconciler of stuck ones."""

from __future__ import annotations

from retaguarda.billing import Invoice
from retaguarda.fiscal.nfcom import actors, bulk, invoicing
from retaguarda.fiscal.nfcom.domain import Nfcom
from retaguarda.fiscal.nfcom.install import find_stuck, invoice_issued, invoice_paid, nfcom_args
from retaguarda.integrations import JobSpec, Reconciler, Trigger

JOBS: tuple[JobSpec, ...] = (actors.emit_nfcom, actors.cancel_nfcom, invoicing.invoice_documents, bulk.nfcom_bulk)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(Nfcom.EmissionRequested, actors.EMIT, nfcom_args),
    Trigger(Nfcom.EmissionRetryRequested, actors.EMIT, nfcom_args),
    Trigger(Nfcom.CancellationRequested, actors.CANCEL, nfcom_args),
    Trigger(Nfcom.CancellationRetryRequested, actors.CANCEL, nfcom_args),
    # billing → fiscal documents (SCM → NFCom, SVA → NFS-e), through billing's public events
    Trigger(Invoice.Issued, invoicing.INVOICE_DOCUMENTS, invoice_issued),
    # the monthly billing run's invoices are created already issued (one Generated event each)
    Trigger(Invoice.Generated, invoicing.INVOICE_DOCUMENTS, invoice_issued),
    Trigger(Invoice.PaymentReceived, invoicing.INVOICE_DOCUMENTS, invoice_paid),
    # a bulk run: each Started/Progressed event sends the next chunk
    Trigger(bulk.NfcomBulkRun.Started, bulk.BULK, bulk.bulk_args),
    Trigger(bulk.NfcomBulkRun.Progressed, bulk.BULK, bulk.bulk_args),
)

RECONCILERS: tuple[Reconciler, ...] = (Reconciler("fiscal_nfcom", find_stuck),)
