"""kill -9 a real projector process while it works: nothing is lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from projections.runner import positions, rebuild
from retaguarda.shared.documents import make_cpf
from tests.conftest import build_container
from tests.projections.test_replay import snapshot


def _spawn_projector(var_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RETAGUARDA_VAR_DIR": str(var_dir), "RETAGUARDA_ENV": "test",
           "RETAGUARDA_PROJECTOR_BATCH_SIZE": "25"}
    env.pop("RETAGUARDA_DATABASE_URL", None)
    env.pop("RETAGUARDA_REDIS_URL", None)
    return subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "projector"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killing_the_projector_mid_batch_neither_loses_nor_doubles(tmp_path, meta):
    # Given 600 customers whose events are not projected yet
    var_dir = tmp_path / "var"
    container = build_container(var_dir)
    for i in range(600):
        container.customers.register_customer(meta, name=f"Customer {i}", kind="person",
                                              document=make_cpf(f"{i + 1000:09d}"), email=f"c{i}@x.com")
    head = container.store.head()
    names = container.runner.names
    kills = 0
    # When a projector process is killed -9 as soon as it has made progress, several times
    for _ in range(5):
        before = min(positions(container.engine, names).values())
        if before >= head:
            break
        proc = _spawn_projector(var_dir)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and min(positions(container.engine, names).values()) == before:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills += 1
    # And a last projector runs to the end
    proc = _spawn_projector(var_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and min(positions(container.engine, names).values()) < head:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    # Then every customer is in the read model exactly once…
    assert kills >= 2
    assert set(positions(container.engine, names).values()) == {head}
    with container.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from customers")).scalar() == 600
        assert conn.execute(sa.text("select count(distinct document) from customers")).scalar() == 600
    # …and the tables equal what a replay from event 1 builds
    live = snapshot(container)
    for projection in container.runner.projections:
        rebuild(container.store, container.engine, projection)
    assert snapshot(container) == live
    container.close()
