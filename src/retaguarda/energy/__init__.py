"""Energy context: utility-portal accounts (SMS login), consumer units, solar plants and their
beneficiaries, bills with PIX/barcode and cached PDFs. Public surface: the aggregates."""

from __future__ import annotations

from retaguarda.energy.domain import ConsumerUnit, EnergyAccount, EnergyBill

__all__ = ["ConsumerUnit", "EnergyAccount", "EnergyBill"]
