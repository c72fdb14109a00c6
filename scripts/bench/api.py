#!/usr/bin/env python
"""Requests/s of `GET /api/v1/customers` (Bearer token) vs `GET /health/live` on the same server.

Seeds a fresh embedded (SQLite) var dir with the demo tenant and ~200 customers, starts
`retaguarda web` with uvicorn in a subprocess on a free port, logs in, then fires a bounded
number of requests per endpoint from concurrent keep-alive connections (a small asyncio HTTP/1.1
client by default, so the client costs little CPU next to the server; `--client httpx` uses a
thread pool of httpx clients instead). Rounds alternate between the endpoints. Prints one JSON
object.

    .venv/bin/python scripts/bench/api.py [--requests 2000] [--concurrency 8] [--customers 200]
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, customer_fields, emit, quiet_logs

TARGET_RATIO = 0.4
PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(var_dir: Path, customers: int) -> dict[str, Any]:
    """Demo tenant + admin, and `customers` customers, projected; returns the admin's e-mail."""
    from projections.base import metadata
    from retaguarda.bootstrap import bootstrap
    from retaguarda.identity.install import DEMO_ADMIN, seed_demo
    from retaguarda.migrate import load_metadata
    from retaguarda.settings import load_settings
    from retaguarda.shared.meta import Meta

    container = bootstrap(load_settings({}, var_dir=var_dir, log_level="WARNING"))
    try:
        load_metadata()
        metadata.create_all(container.engine)  # what `retaguarda migrate` builds, as the tests do
        container.runner.start()
        demo = seed_demo(container, PASSWORD)
        now = container.clock.now()
        for i in range(customers):
            meta = Meta(tenant_id=demo["tenant_id"], actor=demo["admin_id"], correlation_id=f"seed-{i}",
                        at=now - timedelta(minutes=customers - i))
            container.customers.register_customer(meta, **customer_fields(i))
        container.runner.catch_up(timeout=120)
    finally:
        container.close()
    return {"email": DEMO_ADMIN, "tenant_id": demo["tenant_id"]}


def start_server(var_dir: Path, port: int, log_level: str) -> tuple[subprocess.Popen[bytes], Path]:
    env = {**os.environ, "RETAGUARDA_VAR_DIR": str(var_dir), "RETAGUARDA_PORT": str(port),
           "RETAGUARDA_HOST": "127.0.0.1", "RETAGUARDA_LOG_LEVEL": log_level}
    env.pop("RETAGUARDA_DATABASE_URL", None)
    env.pop("RETAGUARDA_REDIS_URL", None)
    log_path = var_dir / "server.log"
    exe = Path(sys.executable).parent / "retaguarda"
    cmd = [str(exe), "web"] if exe.exists() else [sys.executable, "-m", "retaguarda.cli", "web"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))
    return proc, log_path


def wait_until_up(port: int, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server did not come up:\n{log_path.read_text()[-3000:]}")


# Load generators ---------------------------------------------------------------------------

async def _raw_worker(port: int, request: bytes, count: int, latencies: list[float],
                      statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]
                                                                     if line)}
            if "content-length" in headers:
                await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding") == "chunked":
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def load_raw(port: int, path: str, headers: dict[str, str], total: int, concurrency: int) -> dict[str, Any]:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json",
             *[f"{k}: {v}" for k, v in headers.items()]]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    share = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]

    async def run() -> None:
        await asyncio.gather(*[_raw_worker(port, request, n, latencies, statuses) for n in share if n])

    started = time.perf_counter()
    asyncio.run(run())
    return _summary(total, time.perf_counter() - started, latencies, statuses)


def load_httpx(port: int, path: str, headers: dict[str, str], total: int, concurrency: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    share = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]

    def worker(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
            for _ in range(n):
                started = time.perf_counter()
                status = client.get(path).status_code
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, [n for n in share if n]))
    return _summary(total, time.perf_counter() - started, latencies, statuses)


def _summary(total: int, seconds: float, latencies: list[float], statuses: dict[int, int]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {"requests": total, "seconds": seconds, "statuses": statuses,
            "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else None,
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2) if ordered else None}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import argparse

    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per endpoint")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    parser.add_argument("--log-level", default="INFO", help="server log level (access lines at INFO)")
    args = parser.parse_args(argv)
    quiet_logs()
    load = load_raw if args.client == "raw" else load_httpx
    with tempfile.TemporaryDirectory(prefix="retaguarda-bench-api-") as tmp:
        var_dir = Path(tmp) / "var"
        t0 = time.perf_counter()
        demo = seed(var_dir, args.customers)
        seed_seconds = time.perf_counter() - t0
        port = free_port()
        proc, log_path = start_server(var_dir, port, args.log_level)
        try:
            wait_until_up(port, proc, log_path)
            login = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                               json={"email": demo["email"], "password": PASSWORD}, timeout=30)
            login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            listing = httpx.get(f"http://127.0.0.1:{port}/api/v1/customers", headers=auth, timeout=30)
            listing.raise_for_status()
            page = listing.json()
            endpoints = {"health_live": ("/health/live", {}), "customers": ("/api/v1/customers", auth)}
            for path, headers in endpoints.values():  # warm-up
                load(port, path, headers, min(200, args.requests), args.concurrency)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
            per_round = max(1, args.requests // args.rounds)
            for _ in range(args.rounds):
                for name, (path, headers) in endpoints.items():
                    runs[name].append(load(port, path, headers, per_round, args.concurrency))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    result: dict[str, Any] = {"benchmark": "api", "database": "sqlite", "client": args.client,
                              "concurrency": args.concurrency, "customers_seeded": args.customers,
                              "customers_total_in_list": page.get("total"),
                              "items_per_page": len(page.get("items", [])),
                              "seed_seconds": round(seed_seconds, 1)}
    for name, rs in runs.items():
        requests = sum(r["requests"] for r in rs)
        seconds = sum(r["seconds"] for r in rs)
        statuses: dict[str, int] = {}
        for r in rs:
            for status, n in r["statuses"].items():
                statuses[str(status)] = statuses.get(str(status), 0) + n
        result[name] = {"requests": requests, "requests_per_s": round(requests / seconds, 1),
                        "statuses": statuses, "p50_ms": rs[-1]["p50_ms"], "p95_ms": rs[-1]["p95_ms"]}
    ratio = result["customers"]["requests_per_s"] / result["health_live"]["requests_per_s"]
    result.update(ratio=round(ratio, 3), target_ratio=TARGET_RATIO,
                  all_ok=all(set(result[n]["statuses"]) == {"200"} for n in runs),
                  meets_target=ratio >= TARGET_RATIO)
    emit(result)
    return result


if __name__ == "__main__":
    main()
