"""Every read model the runner keeps current: the `projections()` of each context in `CONTEXTS`."""

from __future__ import annotations

from projections.base import Projection


def all_projections() -> list[Projection]:
    from retaguarda.contexts import CONTEXTS

    return [projection for ctx in CONTEXTS for projection in ctx.projections()]


def by_name(names: list[str] | None = None) -> list[Projection]:
    projections = all_projections()
    if not names:
        return projections
    known = {p.name: p for p in projections}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown projection(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
