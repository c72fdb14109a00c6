"""Installs the reports context: the service, with a builder that renders a report for a tenant."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from retaguarda.reports.application import Reports

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


def install(container: Container) -> None:
    def builder(
        tenant_id: str, kind: str, filters: dict[str, Any], fmt: str, now: datetime
    ) -> tuple[str, str, bytes, int, str]:
        from retaguarda.readdb import tenant_reader
        from retaguarda.reports.documents import build
        from retaguarda.reports.exports import CONTENT_TYPES, filename, render

        with tenant_reader(container.engine, tenant_id) as conn:
            doc = build(conn, tenant_id, kind, filters, now)
        return filename(doc, fmt), CONTENT_TYPES[fmt].split(";")[0], render(doc, fmt), doc.total, doc.title

    container.reports = Reports(
        container.store, container.after_write, container.clock, container.notifications, builder
    )
