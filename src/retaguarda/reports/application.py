"""Reports service: scheduled reports (create, change, pause, delete, send now), the periodic run
that requests each due report once per period, and the sending itself (build the file, queue one
e-mail per recipient with the file attached, record `Sent` in the same save)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from retaguarda.eventstore import EventStore, IntegrityError
from retaguarda.reports.domain import ScheduledReport
from retaguarda.services import Saved, Service
from retaguarda.shared.meta import Meta

ZONE = ZoneInfo("America/Sao_Paulo")
TEMPLATE = "reports.scheduled"

Builder = Callable[[str, str, dict[str, Any], str, datetime], tuple[str, str, bytes, int, str]]
"""(tenant_id, kind, filters, format, now) → (filename, content type, bytes, rows, title)."""


class Reports(Service):
    def __init__(
        self,
        store: EventStore,
        on_saved: Callable[[int], None] | None,
        clock: Any,
        notifications: Any,
        builder: Builder,
    ) -> None:
        super().__init__(store, on_saved)
        self.clock = clock
        self.notifications = notifications
        self.builder = builder

    # Commands (API) ----------------------------------------------------------------------
    def create_schedule(self, meta: Meta, data: dict[str, Any]) -> Saved:
        report = ScheduledReport.create(meta, data)
        return Saved(report, self.save(report))

    def get_schedule(self, tenant_id: str, schedule_id: str) -> ScheduledReport:
        report = self.load(ScheduledReport, schedule_id, tenant_id)
        if report.deleted:
            from retaguarda.shared.errors import NotFoundError

            raise NotFoundError("ScheduledReport", schedule_id)
        return report

    def change_schedule(self, meta: Meta, schedule_id: str, data: dict[str, Any]) -> Saved:
        def command() -> Saved:
            report = self.get_schedule(meta.tenant_id, schedule_id)
            changed = report.change(meta, data)
            return Saved(report, self.save(report) if changed else 0)

        return self.retrying(command)

    def delete_schedule(self, meta: Meta, schedule_id: str) -> Saved:
        def command() -> Saved:
            report = self.get_schedule(meta.tenant_id, schedule_id)
            report.delete(meta)
            return Saved(report, self.save(report))

        return self.retrying(command)

    def send_now(self, meta: Meta, schedule_id: str) -> tuple[Saved, str]:
        def command() -> tuple[Saved, str]:
            report = self.get_schedule(meta.tenant_id, schedule_id)
            request_id = report.request_now(meta)
            return Saved(report, self.save(report)), request_id

        return self.retrying(command)

    # System side (jobs) ------------------------------------------------------------------
    def request_due(self, schedule_ids: list[str], now: datetime) -> list[str]:
        """Requests this period's sending of each due schedule (at most once per period)."""
        local = now.astimezone(ZONE)
        requested = []
        for schedule_id in schedule_ids:

            def command(schedule_id: str = schedule_id) -> str | None:
                report = self.find(ScheduledReport, uuid.UUID(schedule_id))
                if report is None:
                    return None
                meta = Meta(
                    tenant_id=report.tenant_id,
                    actor="system:reports.run_schedules",
                    correlation_id=uuid.uuid4().hex,
                    at=now,
                )
                request_id = report.request_period(meta, local)
                if request_id is not None:
                    self.save(report)
                return request_id

            if self.retrying(command) is not None:
                requested.append(schedule_id)
        return requested

    def deliver(self, schedule_id: str, request_id: str) -> str:
        """Builds the report and queues the e-mails; idempotent per request."""
        report = self.find(ScheduledReport, uuid.UUID(schedule_id))
        if report is None or report.requests.get(request_id) != "requested":
            return "skipped"
        now = self.clock.now()
        meta = Meta(
            tenant_id=report.tenant_id,
            actor="system:reports.send_report",
            correlation_id=uuid.uuid4().hex,
            at=now,
        )
        name, content_type, data, rows, title = self.builder(
            report.tenant_id, report.kind, dict(report.filters), report.format, now
        )
        emails = [
            self.notifications.compose_email(
                meta,
                to,
                TEMPLATE,
                {
                    "title": title,
                    "kind": report.kind,
                    "filename": name,
                    "rows": rows,
                    "generated_at": now.isoformat(),
                },
                attachments=[(name, content_type, data)],
            )
            for to in report.recipients
        ]
        if not report.record_sent(
            meta,
            request_id,
            filename=name,
            sha256=hashlib.sha256(data).hexdigest(),
            rows=rows,
            email_ids=[str(e.id) for e in emails],
        ):
            return "skipped"
        try:
            self.save(report, *emails)
        except IntegrityError:  # a concurrent delivery of the same request won: it sent the e-mails
            return "skipped (sent concurrently)"
        return f"sent {name} to {len(emails)} recipient(s)"

    def record_failure(self, schedule_id: str, request_id: str, error: str) -> None:
        def command() -> None:
            report = self.find(ScheduledReport, uuid.UUID(schedule_id))
            if report is None:
                return
            meta = Meta(
                tenant_id=report.tenant_id,
                actor="system:reports.send_report",
                correlation_id=uuid.uuid4().hex,
                at=self.clock.now(),
            )
            if report.record_failed(meta, request_id, error):
                self.save(report)

        self.retrying(command)
