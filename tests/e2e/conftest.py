"""A real `retaguarda serve` process on a free port, migrated and seeded, for e2e and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

DEMO_PASSWORD = "e2e-demo-password"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAGUARDA_")}
    env.update(RETAGUARDA_VAR_DIR=str(var_dir), RETAGUARDA_PORT=str(port),
               RETAGUARDA_DEMO_PASSWORD=DEMO_PASSWORD, RETAGUARDA_ENV="development", **extra)
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retaguarda.cli", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    var_dir = tmp_path_factory.mktemp("serve") / "var"
    port = free_port()
    env = _env(var_dir, port)
    for step in (["migrate"], ["seed"]):
        done = run_cli(step, env)
        assert done.returncode == 0, done.stderr[-2000:]
    log = open(var_dir / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "serve"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/health/live")
        yield {"base": base, "var_dir": var_dir, "env": env, "password": DEMO_PASSWORD}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def api_login(base: str, email: str, password: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
