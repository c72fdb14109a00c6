"""Contracts context: service contracts with versions, templates, e-signature, loyalty fee, renewal and
expiry, followed by billing through events. Public surface: the aggregates (and their events), the
service and the loyalty-fee function."""

from __future__ import annotations

from retaguarda.contracts.domain import Contract, ContractSettings, ContractTemplate
from retaguarda.contracts.fees import loyalty_fee

__all__ = ["Contract", "ContractSettings", "ContractTemplate", "loyalty_fee"]
