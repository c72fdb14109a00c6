"""Fiscal context: NFS-e issuance (docs/fiscal.md for the domain side, docs/fiscal-wire.md for the wire side)."""

from retaguarda.fiscal.domain import Certificate, FiscalSettings, Nfse

__all__ = ["Certificate", "FiscalSettings", "Nfse"]
