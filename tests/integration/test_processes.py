"""The production shape: web, worker, projector and scheduler as separate processes on PostgreSQL + Redis."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time

import httpx
import pytest
import redis

from tests.conftest import PG_URL, REDIS_URL
from tests.e2e.conftest import free_port, run_cli, wait_http

pytestmark = pytest.mark.integration

REDIS_DB = 7  # its own database, flushed first, so other runs' queues never interfere


def _poll(fetch, accept, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    value = fetch()
    while not accept(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = fetch()
    return value


def test_the_four_processes_run_the_spine_together(tmp_path, pg_schema, redis_url):
    redis_url = REDIS_URL.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAGUARDA_")}
    env.update(
        RETAGUARDA_ENV="production", RETAGUARDA_PORT=str(port), RETAGUARDA_VAR_DIR=str(tmp_path / "var"),
        RETAGUARDA_DATABASE_URL=PG_URL, RETAGUARDA_DATABASE_SCHEMA=pg_schema, RETAGUARDA_REDIS_URL=redis_url,
        RETAGUARDA_SECRET_KEY=secrets.token_urlsafe(32),
        RETAGUARDA_EVENT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_SEAL_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_CHECKPOINT_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_CLAIM_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        RETAGUARDA_DEMO_PASSWORD="processes-demo-pw",
    )
    # Given a migrated and seeded database (the compose `migrate` step)
    for step in (["migrate"], ["seed"]):
        done = run_cli(step, env)
        assert done.returncode == 0, done.stderr[-3000:]
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("web", "worker", "projector", "scheduler")}
    procs = {name: subprocess.Popen([sys.executable, "-m", "retaguarda.cli", name], env=env,
                                    stdout=fh, stderr=subprocess.STDOUT) for name, fh in logs.items()}
    base = f"http://127.0.0.1:{port}"
    try:
        # When the four processes are up, the web process reports ready
        wait_http(base + "/health/live", timeout=60)
        ready = _poll(lambda: httpx.get(base + "/health/ready"), lambda r: r.status_code == 200, 60)
        assert ready.status_code == 200, ready.text
        # And a new tenant signs up and logs in
        signup = httpx.post(base + "/api/v1/auth/signup", json={
            "tenant_name": "Provedor Teste", "name": "Dona Admin", "email": "dona@provedor.test",
            "password": "uma senha bem longa"})
        assert signup.status_code == 201, signup.text
        login = httpx.post(base + "/api/v1/auth/login",
                           json={"email": "dona@provedor.test", "password": "uma senha bem longa"})
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        # Then a customer written through the web process is readable at once (projector process)
        created = httpx.post(base + "/api/v1/customers", headers=auth, json={
            "name": "Cliente Multi Processo", "kind": "company", "document": "11.222.333/0001-81",
            "email": "mp@cliente.test"})
        assert created.status_code == 201, created.text
        listed = httpx.get(base + "/api/v1/customers", headers=auth, params={"search": "multi"}).json()
        assert [c["id"] for c in listed["items"]] == [created.json()["id"]]
        # And the welcome e-mail goes out through dispatcher → Redis → worker → mailer
        outbox = _poll(lambda: httpx.get(base + "/api/v1/ops/outbox", headers=auth).json(),
                       lambda o: any(i["status"] == "sent" for i in o["items"]), 60)
        assert [i["to"] for i in outbox["items"] if i["status"] == "sent"] == ["dona@provedor.test"]
        # And a job sent by the web process ("run now", for the admin's own tenant) is run by the worker,
        # recorded with who asked
        assert httpx.post(base + "/api/v1/ops/jobs/billing.daily_run/run", headers=auth).status_code == 202
        jobs = _poll(lambda: httpx.get(base + "/api/v1/ops/jobs", headers=auth).json(),
                     lambda j: any(x["last_finished_at"] for x in j["items"]), 60)
        assert any(x["last_finished_at"] and x["runs"] >= 1 for x in jobs["items"]), jobs
        # And the audit trail and seal cover what the processes wrote
        verify = httpx.post(base + "/api/v1/audit/verify", headers=auth)
        assert verify.status_code == 200 and verify.json()["ok"] is True, verify.text
        done = run_cli(["audit", "verify"], env)
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in procs.items():
            try:
                codes[name] = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = "killed"
        for fh in logs.values():
            fh.close()
    # Every process stops cleanly on SIGTERM (uvicorn re-raises the signal after its graceful shutdown).
    assert codes["web"] in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (tmp_path / "web.log").read_text()
    assert {k: v for k, v in codes.items() if k != "web"} == {"worker": 0, "projector": 0, "scheduler": 0}, {
        name: (tmp_path / f"{name}.log").read_text()[-1500:] for name in codes}
