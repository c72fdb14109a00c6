"""Cash context: bank statements (OFX, CSV), boleto return files (CNAB 240/400) and remittances,
the BCB API Pix, reconciliation with invoices and the NFS-e that follows each receipt.
Public surface: the aggregates (and their events) and the `Cash` service."""

from __future__ import annotations

from typing import Any

from retaguarda.cash.domain import CashAccount, CashImport, CashMovement, NfseFollowUp

__all__ = ["Cash", "CashAccount", "CashImport", "CashMovement", "NfseFollowUp"]


def __getattr__(name: str) -> Any:
    if name == "Cash":
        from retaguarda.cash.application import Cash

        return Cash
    raise AttributeError(name)
