"""The audit context: the trail of every event and its hash-chained seal (read side only)."""

from __future__ import annotations

from projections.base import Projection
from retaguarda.audit import api, pages
from retaguarda.plugin import Context


def projections() -> list[Projection]:
    from projections.audit.audit_trail import AuditTrail
    from projections.audit.seal import AuditSeal

    return [AuditTrail(), AuditSeal()]


CONTEXT = Context(name="audit", routes=api.routes, pages=pages.pages, projections=projections)
