"""The scheduler sends each periodic job once per period and keeps its run history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from retaguarda.integrations.scheduler import Daily, Every, PeriodicJob, Scheduler
from retaguarda.shared.errors import NotFoundError
from tests.integrations.helpers import install_test_authenticator

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _scheduler(container: Any, seconds: int = 60) -> Scheduler:
    return Scheduler(container, {"reconcile": PeriodicJob("reconcile", Every(seconds),
                                                          "integrations.reconcile")})


def _sent(container: Any) -> int:
    return container.broker.queues["integrations"].qsize()


def test_a_job_is_sent_once_per_period(container: Any) -> None:
    # Given a job every 60 s, first due at T0 + 60 s
    scheduler = _scheduler(container)
    scheduler.sync()
    # When the scheduler ticks often
    ticks = [scheduler.tick(T0.replace(second=s)) for s in (1, 30, 59)]
    assert ticks == [[], [], []]
    due = scheduler.list_jobs()[0]["next_run_at"]
    first = scheduler.tick(due)
    again = scheduler.tick(due)
    later = scheduler.tick(due + timedelta(seconds=30))
    # Then exactly one message was sent for that period
    assert first == ["reconcile"] and again == [] and later == []
    assert _sent(container) == 1
    row = scheduler.list_jobs()[0]
    assert row["runs"] == 1 and row["last_run_at"] == due
    assert (row["next_run_at"] - due).total_seconds() == 60


def test_two_schedulers_do_not_send_the_same_run_twice(container: Any) -> None:
    a, b = _scheduler(container), _scheduler(container)
    a.sync()
    b.sync()
    due = a.list_jobs()[0]["next_run_at"]
    assert a.tick(due) + b.tick(due) == ["reconcile"]
    assert _sent(container) == 1


def test_a_daily_job_runs_at_the_sao_paulo_time() -> None:
    daily = Daily("03:00")
    # 10:00 UTC is 07:00 in São Paulo: the next 03:00 is tomorrow, 06:00 UTC
    assert daily.next_after(T0) == datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
    assert daily.next_after(datetime(2026, 11, 23, 5, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
    assert str(daily) == "daily 03:00 America/Sao_Paulo"


def test_run_now_sends_the_job_and_the_worker_records_its_result(container: Any) -> None:
    scheduler: Scheduler = container.scheduler
    with pytest.raises(NotFoundError):
        scheduler.run_now("nope")
    # When an admin runs the reconciler now
    scheduler.run_now("reconcile")
    container.worker.start()
    container.broker.join("integrations", timeout=10_000)
    # Then its run and result show up
    [row] = [r for r in scheduler.list_jobs() if r["name"] == "reconcile"]
    assert row["runs"] == 1 and row["last_run_at"] is not None
    assert row["last_result"].startswith("ok: emails: 0 re-sent")
    assert row["schedule"] == "every 300s"


def test_the_jobs_page_and_api_list_jobs_and_run_them(client: Any, live_container: Any) -> None:
    from dataclasses import replace

    install_test_authenticator(live_container)
    # The test authenticator's admin is the deployment's platform operator
    live_container.settings = replace(live_container.settings, platform_operators=("admin@a.test",))
    admin = {"x-test-role": "admin"}
    # The page lists the reconciler with its schedule and a run-now button
    page = client.get("/admin/jobs", headers=admin)
    assert page.status_code == 200
    assert "reconcile" in page.text and "every 300s" in page.text and "Executar agora" in page.text
    # The API lists it with the dispatcher's lag and runs it on demand
    listing = client.get("/api/v1/ops/jobs", headers=admin).json()
    names = [j["name"] for j in listing["items"]]
    assert "reconcile" in names and names == sorted(names)  # contexts add their own jobs
    assert listing["dispatcher"]["name"] == "dispatcher"
    response = client.post("/api/v1/ops/jobs/reconcile/run", headers=admin)
    assert response.status_code == 202 and response.json()["runs"] == 1
    assert client.post("/api/v1/ops/jobs/unknown/run", headers=admin).status_code == 404
    # And the form button works (CSRF-protected) and only for ops admins
    token = client.cookies.get("rg_csrf")
    pressed = client.post("/admin/jobs/reconcile/run", headers={**admin, "x-csrftoken": token},
                          follow_redirects=False)
    assert pressed.status_code == 303
    assert client.get("/admin/jobs", headers={"x-test-role": "manager"}).status_code == 403
