"""Every read model the runner keeps current. Add a projection here to have it run and replay."""

from __future__ import annotations

from projections.base import Projection


def all_projections() -> list[Projection]:
    from projections.customers.customer_list import CustomerList

    found: list[Projection] = [CustomerList()]
    for loader in _OPTIONAL:
        found.extend(loader())
    from retaguarda.contexts import context_modules

    for module in context_modules("", package="projections"):
        found.extend(module.projections())
    return found


def _identity() -> list[Projection]:
    try:
        from projections.identity.user_directory import UserDirectory
    except ImportError:
        return []
    return [UserDirectory()]


def _audit() -> list[Projection]:
    try:
        from projections.audit.audit_trail import AuditTrail
        from projections.audit.seal import AuditSeal
    except ImportError:
        return []
    return [AuditTrail(), AuditSeal()]


def _ops() -> list[Projection]:
    try:
        from projections.ops.outbox import Outbox
    except ImportError:
        return []
    return [Outbox()]


_OPTIONAL = (_identity, _audit, _ops)


def by_name(names: list[str] | None = None) -> list[Projection]:
    projections = all_projections()
    if not names:
        return projections
    known = {p.name: p for p in projections}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown projection(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]
