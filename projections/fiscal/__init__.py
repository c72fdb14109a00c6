"""Read models of the fiscal context."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.fiscal.fiscal_book import FiscalBook
    from projections.fiscal.kpis import FiscalKpis
    from projections.fiscal.nfcom_list import NfcomList
    from projections.fiscal.nfse_list import NfseList
    from projections.fiscal.settings_view import FiscalSettingsView

    return [NfseList(), FiscalBook(), FiscalKpis(), FiscalSettingsView(), NfcomList()]
