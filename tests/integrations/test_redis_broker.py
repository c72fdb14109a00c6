"""The production path: RedisBroker, consumed by an in-process Worker and by a separate
`run_worker` process (the body of `retaguarda worker`), over the machine's Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from projections.ops.outbox import get_email_row
from tests.conftest import REDIS_URL, build_container, require_service
from tests.fakes.smtp import FakeSmtpServer
from tests.integrations.helpers import now_meta, wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _isolated_redis_url() -> str:
    # A database of its own, so the test never meets messages of a running deployment.
    return urlunparse(urlparse(REDIS_URL)._replace(path="/14"))


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def redis_container(tmp_path: Path, smtp: FakeSmtpServer) -> Iterator[Any]:
    require_service("redis")
    c = build_container(tmp_path / "var", redis_url=_isolated_redis_url(), smtp_url=smtp.url)
    c.broker.flush_all()
    yield c
    c.broker.flush_all()
    c.close()


def _status(container: Any, email_id: str) -> str | None:
    container.runner.catch_up()
    with container.engine.connect() as conn:
        row = get_email_row(conn, "tenant-a", email_id)
    return row["status"] if row else None


def _queue_email(container: Any) -> str:
    saved = container.notifications.send_email(now_meta(), "ana@example.com", "plain",
                                               {"subject": "Via Redis", "text": "Olá"})
    return str(saved.aggregate.id)


def test_messages_go_through_redis_to_an_in_process_worker(redis_container: Any,
                                                           smtp: FakeSmtpServer) -> None:
    from dramatiq.brokers.redis import RedisBroker

    c = redis_container
    assert isinstance(c.broker, RedisBroker)
    # Given an e-mail dispatched onto Redis
    email_id = _queue_email(c)
    c.dispatcher.catch_up()
    assert c.broker.client.llen(f"{c.broker.namespace}:notifications") == 1
    # When a worker consumes the queue
    c.worker.start()
    # Then the e-mail is delivered and recorded as sent
    wait_until(lambda: _status(c, email_id) == "sent", timeout=20)
    assert [m.message["Subject"] for m in smtp.messages] == ["Via Redis"]


def _spawn(command: str, tmp_path: Path, smtp: FakeSmtpServer) -> subprocess.Popen[bytes]:
    """`retaguarda <command>` as its own process, on this test's var dir and Redis."""
    env = {**os.environ, "RETAGUARDA_ENV": "test", "RETAGUARDA_VAR_DIR": str(tmp_path / "var"),
           "RETAGUARDA_REDIS_URL": _isolated_redis_url(), "RETAGUARDA_SMTP_URL": smtp.url,
           "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "retaguarda.cli", command], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _terminate(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")[-2000:]


def test_a_separate_worker_process_dispatches_and_delivers(redis_container: Any, tmp_path: Path,
                                                           smtp: FakeSmtpServer) -> None:
    c = redis_container
    # Given an e-mail requested in this process (the "web" process)
    email_id = _queue_email(c)
    # When `retaguarda worker` (worker + dispatcher) runs as its own process
    proc = _spawn("worker", tmp_path, smtp)
    try:
        # Then it delivers the e-mail and records it in the shared event store
        wait_until(lambda: _status(c, email_id) == "sent", timeout=30)
        assert len(smtp.messages) == 1
    finally:
        out = _terminate(proc)
    assert proc.returncode == 0, out


def test_the_scheduler_process_registers_its_jobs_and_stops_cleanly(redis_container: Any,
                                                                    tmp_path: Path,
                                                                    smtp: FakeSmtpServer) -> None:
    c = redis_container
    proc = _spawn("scheduler", tmp_path, smtp)
    try:
        wait_until(lambda: any(j["next_run_at"] for j in c.scheduler.list_jobs()), timeout=30)
    finally:
        out = _terminate(proc)
    assert proc.returncode == 0, out
