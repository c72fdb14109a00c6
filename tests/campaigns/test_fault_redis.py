"""Fault test on PostgreSQL + Redis with real worker processes: a worker is killed with SIGKILL in
the middle of a 5,000-message campaign; every recipient still gets exactly one message at the
fake provider and the totals add up."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
import redis

from tests.conftest import PG_URL, REDIS_URL
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.integration

REDIS_DB = 8
COUNT = 5000


def _spawn(name: str, env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "retaguarda.cli", name], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


@pytest.mark.timeout(600)
def test_killing_a_worker_mid_campaign_neither_loses_nor_doubles_a_message(tmp_path, pg_schema, redis_url):
    from retaguarda.bootstrap import bootstrap
    from retaguarda.settings import load_settings
    from retaguarda.shared.meta import Meta
    from tests.campaigns.conftest import recipients
    from tests.fakes.campaigns.cda import start_fake_cda

    url = REDIS_URL.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    fake = start_fake_cda(latency=0.002)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAGUARDA_")}
    env.update(
        RETAGUARDA_ENV="production", RETAGUARDA_VAR_DIR=str(tmp_path / "var"), RETAGUARDA_DATABASE_URL=PG_URL,
        RETAGUARDA_DATABASE_SCHEMA=pg_schema, RETAGUARDA_REDIS_URL=url, RETAGUARDA_CDA_URL=fake.base_url,
        RETAGUARDA_SECRET_KEY=secrets.token_urlsafe(32),
        RETAGUARDA_EVENT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_SEAL_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_CHECKPOINT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_CLAIM_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_DEMO_PASSWORD="fault-demo-pw", RETAGUARDA_PORT="0",
    )
    done = run_cli(["migrate"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    # Given the tenant's settings and a 5,000-recipient campaign written to the log
    container = bootstrap(load_settings(env))
    meta = Meta(tenant_id="fault-tenant", actor="user-1", correlation_id="fault", at=container.clock.now())
    container.campaigns.configure(meta, general={"quiet_start": "00:00", "quiet_end": "00:00", "stall_seconds": 3},
                                  providers={"cda": {"rate_per_second": 5000, "concurrency": 64}},
                                  credentials={"cda": {"api_key": "cda-test-key", "sender": "FAULT"}})
    saved, _ = container.campaigns.dispatch_campaign(
        meta, external_id="wp-fault", name="Fault", provider="cda", content={"text": "Oferta"},
        recipients=recipients(COUNT), options={"kind": "transactional"})
    campaign_id = str(saved.aggregate.id)
    # The production processes (compose.yaml) minus web: the scheduler runs the campaigns watchdog,
    # which re-sends what a killed worker held when no message is left to re-check it.
    logs = {name: open(tmp_path / f"{name}.log", "wb")
            for name in ("projector", "scheduler", "w1", "w2", "w3")}
    procs = {"projector": _spawn("projector", env, logs["projector"]),
             "scheduler": _spawn("scheduler", env, logs["scheduler"]),
             "w1": _spawn("worker", env, logs["w1"]), "w2": _spawn("worker", env, logs["w2"])}
    try:
        # When a worker is killed -9 while messages are flowing
        deadline = time.monotonic() + 120
        while len(fake.received) < COUNT // 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fake.received) >= COUNT // 4, "the campaign never got going"
        procs["w1"].send_signal(signal.SIGKILL)
        procs["w1"].wait(timeout=10)
        killed_at = len(fake.received)
        procs["w3"] = _spawn("worker", env, logs["w3"])  # the supervisor's replacement
        # Then the campaign completes with every recipient reached exactly once
        from projections.campaigns.campaign_progress import get_campaign_row

        deadline = time.monotonic() + 300
        row = None
        while time.monotonic() < deadline:
            with container.engine.connect() as conn:
                row = get_campaign_row(conn, None, campaign_id)
            if row and row["status"] in ("completed", "completed_with_failures", "failed"):
                break
            time.sleep(0.5)
        assert row and row["status"] == "completed", (row, len(fake.received))
        assert killed_at < COUNT
        assert len(fake.received) == COUNT
        assert sorted(fake.by_recipient.values()) == [1] * COUNT
        assert row["totals"] == {"queued": 0, "sent": COUNT, "delivered": 0, "failed": 0, "skipped": 0}
        assert sum(row["totals"].values()) == row["messages"] == COUNT
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for fh in logs.values():
            fh.close()
        container.close()
        fake.stop()
