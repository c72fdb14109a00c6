"""Each fake also runs as its own process (for the Redis kill -9 fault test and the bench)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from retaguarda.campaigns.providers import make_provider
from retaguarda.settings import Settings
from tests.fakes.campaigns.samples import message, messages

ROOT = Path(__file__).resolve().parents[3]


def _spawn(module: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", f"tests.fakes.campaigns.{module}", "--port", "0", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, json.loads(line)["base_url"]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def test_a_fake_in_another_process_counts_deliveries_and_takes_faults(clock: Any) -> None:
    proc, base_url = _spawn("cda", "--api-key", "k")
    try:
        provider = make_provider("cda", settings=Settings(cda_url=base_url), credentials={"api_key": "k"},
                                 clock=clock)
        httpx.post(f"{base_url}/_fake/faults", json={"kind": "status", "status": 503, "count": 1})
        with pytest.raises(Exception):
            provider.send(message(1))
        for msg in messages(20) + messages(5):
            provider.send(msg)
        state = httpx.get(f"{base_url}/_fake/state").json()
        assert (state["received"], state["replays"], state["duplicates"]) == (20, 5, 0)
        assert state["faults_served"] == {"status": 1}
        received = httpx.get(f"{base_url}/_fake/received").json()
        assert len(received["keys"]) == 20 and set(received["by_recipient"].values()) == {1}
        httpx.post(f"{base_url}/_fake/reset")
        assert httpx.get(f"{base_url}/_fake/state").json()["received"] == 0
    finally:
        _stop(proc)
    assert proc.returncode == 0


def test_the_rbm_fake_process_publishes_its_service_account(tmp_path: Path, clock: Any) -> None:
    out = tmp_path / "sa.json"
    proc, base_url = _spawn("rbm", "--agent-id", "agent-x", "--service-account-out", str(out))
    try:
        settings = Settings(rcs_url=base_url, rcs_token_url=base_url)
        creds = {"agent_id": "agent-x", "service_account_json": out.read_text()}
        assert make_provider("rcs", settings=settings, credentials=creds, clock=clock).send(message(1)).channel == "rcs"
        assert httpx.get(f"{base_url}/_fake/service_account").json()["client_email"]
    finally:
        _stop(proc)


def test_all_fakes_together_accept_their_default_credentials(clock: Any, tmp_path: Path) -> None:
    from tests.fakes.campaigns.all import env_lines, start_all
    from tests.fakes.campaigns.rbm import FakeRbm

    fakes = start_all()
    try:
        lines = env_lines(fakes)
        env = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
        settings = Settings(**{k[len("RETAGUARDA_"):].lower(): v for k, v in env.items()})
        spare = FakeRbm()  # stands for the demo tenant's own generated key
        foreign_key = spare.service_account_json()
        spare.stop()
        defaults = {
            "cda": {"api_key": "cda-test-key"}, "gosac": {"token": "gosac-test-token"},
            "noah": {"client_id": "noah-client", "client_secret": "noah-secret"}, "sms": {"api_key": "sms-test-key"},
            "rcs": {"agent_id": "demo-agent", "service_account_json": foreign_key},
            "salesforce": {"client_id": "sf-client", "client_secret": "sf-secret"},
        }
        for name, creds in defaults.items():
            outcome = make_provider(name, settings=settings, credentials=creds, clock=clock).test_connection()
            assert outcome["ok"], (name, outcome)
    finally:
        for fake in fakes.values():
            fake.stop()
