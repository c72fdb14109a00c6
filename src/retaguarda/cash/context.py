"""The cash context: bank statements, boleto return files and remittances, the API Pix,
reconciliation with invoices, the cash book and the NFS-e that follows each receipt."""

from __future__ import annotations

from projections.cash import projections
from retaguarda.billing import Invoice
from retaguarda.cash import actors, api, dashboard, pages
from retaguarda.cash.domain import CashMovement, PixNotice
from retaguarda.cash.install import install, seed_demo
from retaguarda.integrations import Trigger
from retaguarda.plugin import Context

CONTEXT = Context(
    name="cash", install=install, routes=api.routes, pages=pages.pages, projections=projections,
    jobs=(actors.confirm_pix, actors.nfse_follow_up),
    triggers=(
        Trigger(PixNotice.Received, actors.CONFIRM_PIX, actors.notice_args),
        Trigger(PixNotice.RetryRequested, actors.CONFIRM_PIX, actors.notice_args),
        Trigger(CashMovement.Matched, actors.NFSE_FOLLOW_UP, actors.matched_args),
        Trigger(Invoice.PaymentReceived, actors.NFSE_FOLLOW_UP, actors.paid_args),
    ),
    seed_demo=seed_demo, dashboard=dashboard.cards,
)
