"""Read models of the cnpj context: the watch-list with its checks, and usage metering."""

from __future__ import annotations

from projections.base import Projection


def projections() -> list[Projection]:
    from projections.cnpj.usage import CnpjUsage
    from projections.cnpj.watchlist import CnpjWatchlist

    return [CnpjWatchlist(), CnpjUsage()]
