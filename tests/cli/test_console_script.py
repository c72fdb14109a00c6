"""The console script as operators call it: replay and audit verify exit codes and output."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from retaguarda.shared.documents import make_cpf
from tests.conftest import build_container

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".venv" / "bin" / "retaguarda"


def _run(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAGUARDA_")}
    env.update(RETAGUARDA_VAR_DIR=str(var_dir), RETAGUARDA_ENV="test")
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "retaguarda.cli"]
    return subprocess.run([*command, *args], env=env, text=True, capture_output=True, timeout=120)


@pytest.fixture
def populated(tmp_path, meta):
    var_dir = tmp_path / "var"
    container = build_container(var_dir)
    ids = []
    for i in range(12):
        saved = container.customers.register_customer(meta, name=f"Cliente {i}", kind="person",
                                                      document=make_cpf(f"{i + 700:09d}"), email=f"c{i}@x.test")
        ids.append(str(saved.aggregate.id))
    container.customers.update_customer(meta, ids[0], name="Renomeado")
    container.runner.catch_up()
    container.close()
    return var_dir, ids


def test_replay_rebuilds_every_projection_and_reports_counts(populated):
    var_dir, _ = populated
    done = _run(var_dir, "replay")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    by_name = {r["projection"]: r for r in report["replayed"]}
    assert by_name["customer_list"]["rows"] == {"customers": 12}
    assert by_name["audit_trail"]["events"] == by_name["audit_trail"]["handled"] > 0
    assert "events/s" in done.stderr  # progress with rate and ETA


def test_replay_of_an_unknown_projection_fails_with_the_known_names(populated):
    var_dir, _ = populated
    done = _run(var_dir, "replay", "no_such_view")
    assert done.returncode != 0
    assert "customer_list" in done.stderr


def test_audit_history_and_state_from_the_command_line(populated):
    var_dir, ids = populated
    history = _run(var_dir, "audit", "history", ids[0])
    assert history.returncode == 0, history.stderr
    assert "Customer.Updated" in history.stdout
    state = _run(var_dir, "audit", "state", ids[0], "--version", "1")
    assert state.returncode == 0 and "Cliente 0" in state.stdout and "Renomeado" not in state.stdout


def test_audit_verify_passes_then_names_the_tampered_position(populated):
    var_dir, _ = populated
    assert _run(var_dir, "audit", "verify").returncode == 0
    # When someone edits one stored event's bytes directly in the database
    with sqlite3.connect(var_dir / "events.sqlite") as db:
        state = db.execute("select state from stored_events where rowid = 5").fetchone()[0]
        db.execute("update stored_events set state = ? where rowid = 5", (bytes([state[0] ^ 1]) + state[1:],))
    done = _run(var_dir, "audit", "verify")
    assert done.returncode != 0
    assert "5" in done.stderr
