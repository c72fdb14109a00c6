"""Jobs of the reports context.

`reports.run_schedules` (periodic, every minute) requests each due scheduled report once per
period: the request is recorded on the aggregate, so two runs in the same period (or two
schedulers) cannot both request it. `reports.send_report` (on `ScheduledReport.SendRequested`)
builds the file and queues one e-mail per recipient with it attached, in the same save as
`ScheduledReport.Sent`; a redelivered message finds the request already sent and does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retaguarda.integrations import job

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

SEND_REPORT = "reports.send_report"
RUN_SCHEDULES = "reports.run_schedules"


def request_args(event: Any) -> tuple[str, str]:
    return str(event.originator_id), event.request_id


def record_give_up(
    container: Container, schedule_id: str, request_id: str, *, error: str, attempts: int
) -> None:
    container.reports.record_failure(schedule_id, request_id, error)


@job(
    actor_name=SEND_REPORT,
    queue_name="reports",
    max_retries=3,
    min_backoff=1000,
    max_backoff=30_000,
    time_limit=600_000,
    on_give_up=record_give_up,
)
def send_report(container: Container, schedule_id: str, request_id: str) -> str:
    return container.reports.deliver(schedule_id, request_id)


@job(actor_name=RUN_SCHEDULES, queue_name="reports", max_retries=0)
def run_schedules(container: Container) -> str:
    from projections.reports.schedules import active_schedule_ids

    with container.engine.connect() as conn:
        ids = active_schedule_ids(conn)
    requested = container.reports.request_due(ids, container.clock.now())
    return f"{len(requested)} report(s) requested of {len(ids)} schedule(s)"
