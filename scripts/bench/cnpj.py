#!/usr/bin/env python
"""Latency of a cached CNPJ check through the API vs `/health/live`, and checks/s against the fakes.

Starts the three fake providers (tests/fakes/cnpj) on 127.0.0.1, seeds a fresh embedded (SQLite)
var dir with the demo tenant set to the live chain pointed at the fakes (custom plan, no quota or
rate-limit ceiling in the way), starts `retaguarda serve` in a subprocess, then measures:

- p50/p95 of `POST /api/v1/cnpj/targets/{id}/check` answered from the cache (sequential requests),
- p50/p95 of `GET /health/live` on the same server (sequential), for reference,
- checks/s of `?refresh=true` checks (cache bypassed: the real httpx client asks the fake provider)
  from `--concurrency` clients.

Prints one JSON object. Target: cached check p50 <= 5 ms.

    .venv/bin/python scripts/bench/cnpj.py [--requests 500] [--refresh-requests 200] [--concurrency 4]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, emit, quiet_logs
from api import free_port, wait_until_up

PASSWORD = "bench-password-123"
TARGET_P50_MS = 5.0


def seed(var_dir: Path, urls: dict[str, str], targets: list[str]) -> dict[str, Any]:
    from projections.base import metadata
    from retaguarda.bootstrap import bootstrap
    from retaguarda.identity.install import DEMO_ADMIN, seed_demo
    from retaguarda.migrate import load_metadata
    from retaguarda.settings import load_settings
    from retaguarda.shared.meta import Meta

    container = bootstrap(load_settings({}, var_dir=var_dir, log_level="WARNING", **urls))
    try:
        load_metadata()
        metadata.create_all(container.engine)
        container.runner.start()
        demo = seed_demo(container, PASSWORD)
        meta = Meta(tenant_id=demo["tenant_id"], actor=demo["admin_id"], correlation_id="bench",
                    at=container.clock.now())
        container.cnpj.configure(meta, providers=["cnpjws", "brasilapi", "receitaws"], plan="custom",
                                 monthly_quota=10_000_000, rate_per_minute=1_000_000)
        ids = [str(container.cnpj.add_target(meta, cnpj=cnpj, label=f"bench {i}").aggregate.id)
               for i, cnpj in enumerate(targets)]
        container.runner.catch_up(timeout=120)
    finally:
        container.close()
    return {"email": DEMO_ADMIN, "targets": ids}


def start_server(var_dir: Path, port: int, urls: dict[str, str]) -> tuple[Any, Path]:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAGUARDA_")}
    env.update({"RETAGUARDA_VAR_DIR": str(var_dir), "RETAGUARDA_PORT": str(port), "RETAGUARDA_HOST": "127.0.0.1",
                "RETAGUARDA_LOG_LEVEL": "WARNING"})
    env.update({f"RETAGUARDA_{k.upper()}": v for k, v in urls.items()})
    log_path = var_dir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "retaguarda.cli", "serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=str(ROOT))
    return proc, log_path


def summary(latencies: list[float], seconds: float, statuses: dict[int, int]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {"requests": len(ordered), "seconds": round(seconds, 3), "statuses": statuses,
            "per_second": round(len(ordered) / seconds, 1) if seconds else None,
            "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else None,
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 2) if ordered else None}


def sequential(client: Any, method: str, path: str, n: int, **kwargs: Any) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        status = client.request(method, path, **kwargs).status_code
        latencies.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
    return summary(latencies, time.perf_counter() - started, statuses)


def in_process(urls: dict[str, str], cnpj: str, n: int) -> dict[str, Any]:
    """Where a cached check's time goes: the check itself (one event-store commit) vs the
    read-your-writes wait for every projection (the runner commits once per projection)."""
    from datetime import datetime, timezone

    from projections.base import metadata
    from retaguarda.bootstrap import bootstrap
    from retaguarda.migrate import load_metadata
    from retaguarda.settings import load_settings
    from retaguarda.shared.meta import Meta

    with tempfile.TemporaryDirectory(prefix="retaguarda-bench-cnpj-ip-") as tmp:
        c = bootstrap(load_settings({}, var_dir=Path(tmp) / "var", log_level="WARNING", **urls))
        try:
            load_metadata()
            metadata.create_all(c.engine)
            c.runner.start()
            c.runner.start_thread()
            meta = Meta("bench", "bench", "bench", datetime.now(timezone.utc))
            c.cnpj.configure(meta, plan="custom", monthly_quota=10_000_000, rate_per_minute=1_000_000)
            target = str(c.cnpj.add_target(meta, cnpj=cnpj).aggregate.id)
            for _ in range(10):
                c.wait_for(c.cnpj_checks.check_now(meta, target).position)
            check, settle = [], []
            for _ in range(n):
                t0 = time.perf_counter()
                saved = c.cnpj_checks.check_now(meta, target)
                t1 = time.perf_counter()
                c.wait_for(saved.position)
                check.append(t1 - t0)
                settle.append(time.perf_counter() - t1)
            return {"checks": n, "projections": len(c.runner.names),
                    "check_p50_ms": round(statistics.median(check) * 1000, 2),
                    "read_your_writes_wait_p50_ms": round(statistics.median(settle) * 1000, 2)}
        finally:
            c.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import argparse

    import httpx

    from retaguarda.shared.documents import make_cnpj
    from tests.fakes.cnpj import fake_providers, sample_company

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--requests", type=int, default=500, help="cached checks and /health/live requests")
    parser.add_argument("--refresh-requests", type=int, default=200, help="checks that bypass the cache")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)
    quiet_logs()
    cnpjs = [make_cnpj(f"{40000000 + i:08d}0001") for i in range(max(1, args.concurrency))]
    with fake_providers() as fakes, tempfile.TemporaryDirectory(prefix="retaguarda-bench-cnpj-") as tmp:
        for fake in fakes.values():
            for cnpj in cnpjs:
                fake.add(sample_company(cnpj=cnpj))
        urls = {"cnpjws_url": fakes["cnpjws"].url, "brasilapi_url": fakes["brasilapi"].url,
                "receitaws_url": fakes["receitaws"].url}
        var_dir = Path(tmp) / "var"
        demo = seed(var_dir, urls, cnpjs)
        port = free_port()
        proc, log_path = start_server(var_dir, port, urls)
        try:
            wait_until_up(port, proc, log_path, timeout=180)
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/api/v1/auth/login", json={"email": demo["email"], "password": PASSWORD},
                               timeout=30).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
                first = client.post(f"/api/v1/cnpj/targets/{demo['targets'][0]}/check")
                first.raise_for_status()
                assert first.json()["cache_hit"] is False and first.json()["provider"] == "cnpjws"
                check_path = f"/api/v1/cnpj/targets/{demo['targets'][0]}/check"
                sequential(client, "POST", check_path, args.warmup)
                sequential(client, "GET", "/health/live", args.warmup)
                cached = sequential(client, "POST", check_path, args.requests)
                sample = client.post(check_path).json()
                assert sample["cache_hit"] is True, sample
                live = sequential(client, "GET", "/health/live", args.requests)
            calls_before = sum(f.calls for f in fakes.values())
            latencies: list[float] = []
            statuses: dict[int, int] = {}
            share = [args.refresh_requests // args.concurrency + (1 if i < args.refresh_requests % args.concurrency
                                                                  else 0) for i in range(args.concurrency)]

            def worker(i: int) -> None:
                path = f"/api/v1/cnpj/targets/{demo['targets'][i % len(demo['targets'])]}/check?refresh=true"
                with httpx.Client(base_url=base, headers=auth, timeout=30) as c:
                    for _ in range(share[i]):
                        t0 = time.perf_counter()
                        status = c.post(path).status_code
                        latencies.append(time.perf_counter() - t0)
                        statuses[status] = statuses.get(status, 0) + 1

            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(worker, range(args.concurrency)))
            refreshed = summary(latencies, time.perf_counter() - started, statuses)
            refreshed["provider_requests"] = sum(f.calls for f in fakes.values()) - calls_before
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except Exception:
                proc.kill()
        breakdown = in_process(urls, cnpjs[0], min(100, args.requests))
    result = {
        "benchmark": "cnpj",
        "cached_check": cached,
        "health_live": live,
        "cached_minus_live_p50_ms": round(cached["p50_ms"] - live["p50_ms"], 2),
        "refresh_checks_against_fakes": refreshed,
        "checks_per_second_against_fakes": refreshed["per_second"],
        "in_process_breakdown": breakdown,
        "target_cached_p50_ms": TARGET_P50_MS,
        "meets_target": cached["p50_ms"] <= TARGET_P50_MS,
    }
    emit(result)
    return result


if __name__ == "__main__":
    main()
