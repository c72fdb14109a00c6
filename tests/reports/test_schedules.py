"""A scheduled report reaches a local SMTP server once per period, however often the job runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from retaguarda.integrations.jobs import tune_actors
from retaguarda.reports.domain import ScheduledReport, due_moment, period_of
from tests.conftest import build_container
from tests.fakes.smtp import FakeSmtpServer
from tests.integrations.helpers import install_test_authenticator, wait_until
from tests.reports.conftest import customer, meta_at


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def container(tmp_path: Path, smtp: FakeSmtpServer) -> Iterator[Any]:
    c = build_container(tmp_path / "var", smtp_url=smtp.url)
    tune_actors(c.broker, min_backoff=10, max_backoff=40)
    install_test_authenticator(c)
    yield c
    c.close()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_weekly_report_is_sent_once_per_week_across_repeated_runs(live_container: Any,
                                                                  smtp: FakeSmtpServer) -> None:
    customer(live_container, 0)
    saved = live_container.reports.create_schedule(meta_at(), {
        "kind": "customers", "format": "xlsx", "frequency": "weekly", "weekday": 1, "time": "08:00",
        "recipients": ["x@example.com", "y@example.com"]})
    sid = str(saved.aggregate.id)
    # Monday 2026-11-30 07:59 in São Paulo (10:59 UTC): not yet due
    assert live_container.reports.request_due([sid], utc(2026, 11, 30, 10, 59)) == []
    # 08:00 and later that week: due once
    runs = [utc(2026, 11, 30, 11, 0), utc(2026, 11, 30, 11, 1), utc(2026, 12, 2, 9, 0), utc(2026, 12, 6, 20, 0)]
    assert sum(len(live_container.reports.request_due([sid], t)) for t in runs) == 1
    messages = smtp.wait_for_messages(2, timeout=30)
    assert sorted(m.rcpt_tos[0] for m in messages) == ["x@example.com", "y@example.com"]
    parts = [p for p in messages[0].message.walk() if p.get_filename()]
    assert parts and parts[0].get_filename().endswith(".xlsx")
    assert parts[0].get_payload(decode=True).startswith(b"PK")
    # The next Monday: once more
    assert live_container.reports.request_due([sid], utc(2026, 12, 7, 12, 0)) == [sid]
    assert live_container.reports.request_due([sid], utc(2026, 12, 7, 12, 5)) == []
    wait_until(lambda: len(smtp.messages) == 4, timeout=30)
    report = live_container.reports.get_schedule("tenant-a", sid)
    assert sorted(s for s in report.requests.values()) == ["sent", "sent"]


def test_a_paused_schedule_is_not_sent(container: Any) -> None:
    saved = container.reports.create_schedule(meta_at(), {
        "kind": "churn", "format": "pdf", "frequency": "daily", "time": "06:00", "recipients": ["a@b.co"]})
    sid = str(saved.aggregate.id)
    container.reports.change_schedule(meta_at(), sid, {"paused": True})
    assert container.reports.request_due([sid], utc(2026, 12, 4, 12, 0)) == []
    container.reports.change_schedule(meta_at(), sid, {"paused": False})
    assert container.reports.request_due([sid], utc(2026, 12, 4, 12, 0)) == [sid]


def test_periods_and_due_moments() -> None:
    local = datetime(2026, 2, 27, 9, 0)
    assert period_of("daily", local) == "2026-02-27"
    assert period_of("weekly", local) == "2026-W09"
    assert period_of("monthly", local) == "2026-02"
    assert due_moment("monthly", None, 31, "08:00", local) == datetime(2026, 2, 28, 8, 0)  # clamped
    assert due_moment("weekly", 1, None, "08:00", local) == datetime(2026, 2, 23, 8, 0)  # that Monday
    with pytest.raises(Exception, match="weekday"):
        ScheduledReport.create(meta_at(), {"kind": "billing", "frequency": "weekly", "recipients": ["a@b.co"]})
