"""The cash context: bank statements, boleto return files and remittances, the API Pix,
reconciliation with invoices, the cash book and the NFS-e that follows each receipt."""

from __future__ import annotations

from projections.cash import projections
from retaguarda.billing import Invoice
from retaguarda.cash import actors, api, dashboard, pages
from retaguarda.cash.domain import CashMovement, PixNotice
from retaguarda.cash.install import install, seed_demo
from retaguarda.integrations import Every, PeriodicJob, Trigger
from retaguarda.plugin import Context

CONTEXT = Context(
    name="cash",
    install=install,
    routes=api.routes,
    pages=pages.pages,
    projections=projections,
    jobs=(actors.confirm_pix, actors.nfse_follow_up, actors.create_cob, actors.poll_pix),
    triggers=(
        Trigger(PixNotice.Received, actors.CONFIRM_PIX, actors.notice_args),
        Trigger(PixNotice.RetryRequested, actors.CONFIRM_PIX, actors.notice_args),
        Trigger(CashMovement.Matched, actors.NFSE_FOLLOW_UP, actors.matched_args),
        Trigger(Invoice.PaymentReceived, actors.NFSE_FOLLOW_UP, actors.paid_args),
        Trigger(Invoice.Issued, actors.CREATE_COB, actors.invoice_args),
        Trigger(Invoice.Generated, actors.CREATE_COB, actors.invoice_args),
    ),
    periodic=(
        PeriodicJob(actors.POLL_PIX, Every(actors.POLL_EVERY_SECONDS), actors.POLL_PIX,
                    "Cash: Pix received in the last 2 h listed by each PSP (GET /pix), recorded once"),
    ),
    seed_demo=seed_demo,
    dashboard=dashboard.cards,
)
