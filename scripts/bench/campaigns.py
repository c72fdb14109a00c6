"""Campaign pipeline throughput on Redis vs bare Dramatiq actors making the same HTTP call.

    .venv/bin/python scripts/bench/campaigns.py --messages 100000 [--redis redis://127.0.0.1:6379/9]

Both sides send every message to the same fake CDA server (tests/fakes/campaigns/cda.py, real
sockets) through a Redis broker and an in-process Dramatiq worker with the same thread count.
The pipeline side goes through everything a campaign does (fan-out in batches, aggregate check,
rate limiter, provider client, `Sent` event, projections); the bare side is one actor doing the
HTTP POST. Prints JSON: messages/s of each, the ratio, and p95 queue time (enqueue → first send).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[-1], 3) if len(values) >= 20 else round(max(values or [0]), 3)


def bare(fake: Any, redis_url: str, count: int, threads: int) -> dict[str, Any]:
    import dramatiq
    import httpx
    import redis
    from dramatiq.brokers.redis import RedisBroker

    redis.Redis.from_url(redis_url).flushdb()
    broker = RedisBroker(url=redis_url, namespace="bench-bare")
    dramatiq.set_broker(broker)
    client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
    waits: list[float] = []
    done = threading.Event()
    lock = threading.Lock()
    counter = [0]

    @dramatiq.actor(broker=broker, queue_name="bare", max_retries=3)
    def send(message_id: str, phone: str, enqueued: float) -> None:
        waits.append(time.time() - enqueued)
        r = client.post(f"{fake.base_url}/v1/messages", headers={"X-Api-Key": "cda-test-key",
                                                                   "Idempotency-Key": message_id},
                        json={"recipient": {"phone": phone}, "message": {"text": "Oferta"}})
        r.raise_for_status()
        with lock:
            counter[0] += 1
            if counter[0] >= count:
                done.set()

    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    started = time.time()
    for i in range(count):
        send.send(f"bare-{i}", f"+55119{80000000 + i:08d}", time.time())
    done.wait(timeout=3600)
    elapsed = time.time() - started
    worker.stop()
    client.close()
    return {"messages": counter[0], "seconds": round(elapsed, 2), "per_second": round(counter[0] / elapsed, 1),
            "p95_queue_seconds": _p95(waits)}


def pipeline(fake: Any, redis_url: str, count: int, threads: int, batch: int, database_url: str | None,
             chunk: int) -> dict[str, Any]:
    import redis

    from projections.base import metadata
    from retaguarda.bootstrap import bootstrap
    from retaguarda.settings import load_settings
    from retaguarda.shared.meta import Meta

    redis.Redis.from_url(redis_url).flushdb()
    var = Path(tempfile.mkdtemp()) / "var"
    extra: dict[str, Any] = {}
    if database_url:
        import uuid

        extra = {"database_url": database_url, "database_schema": "bench_" + uuid.uuid4().hex[:8]}
    settings = load_settings({}, var_dir=var, env="test", redis_url=redis_url, cda_url=fake.base_url, **extra)
    container = bootstrap(settings)
    if database_url:
        from retaguarda.migrate import migrate

        migrate(container)
    else:
        metadata.create_all(container.engine)
    container.runner.start_thread()
    t = container.campaigns_tuning
    t.batch_size = batch
    t.send_chunk = chunk
    t.finalize_every_seconds = 0.5
    meta = Meta(tenant_id="bench", actor="bench", correlation_id="bench", at=container.clock.now())
    container.campaigns.configure(meta, general={"quiet_start": "00:00", "quiet_end": "00:00"},
                                  providers={"cda": {"rate_per_second": 10_000, "concurrency": 512}},
                                  credentials={"cda": {"api_key": "cda-test-key", "sender": "BENCH"}})
    worker = container.worker
    worker.worker_threads = threads
    people = [{"phone": f"+55119{70000000 + i:08d}", "name": f"P{i}", "consent": True} for i in range(count)]
    started = time.time()
    saved, _ = container.campaigns.dispatch_campaign(
        meta, external_id="bench", name="Bench", provider="cda", content={"text": "Oferta"},
        recipients=people, options={"kind": "transactional"}, batch_size=batch)
    accepted = time.time()
    container.dispatcher.start_thread()
    worker.start()
    first_send = None
    while len(fake.received) < count and time.time() - started < 3600:
        if first_send is None and fake.received:
            first_send = time.time()
        time.sleep(0.2)
    elapsed = time.time() - started
    sent = len(fake.received)
    # queue time per message: CampaignMessage created → Sent (both event times, from the read model)
    import sqlalchemy as sa

    from projections.campaigns.campaign_progress import campaign_messages as m

    container.wait_for(container.store.head(), timeout=120)
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(m.c.created_at, m.c.updated_at).where(m.c.status == "sent")).all()
    waits = [(u - c).total_seconds() for c, u in rows]
    worker.stop()
    container.dispatcher.stop()
    container.close()
    return {"messages": sent, "seconds": round(elapsed, 2), "per_second": round(sent / elapsed, 1),
            "dispatch_request_seconds": round(accepted - started, 2),
            "first_send_after_seconds": round((first_send or time.time()) - started, 2),
            "p95_queue_seconds": _p95(waits),
            "duplicates": sum(1 for n in fake.attempts.values() if n > 1)}


def _quiet_logs() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)


def main() -> None:
    from tests.fakes.campaigns.cda import start_fake_cda

    _quiet_logs()

    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL for the event store and read models (default: SQLite files)")
    parser.add_argument("--chunk", type=int, default=20, help="messages per send job")
    args = parser.parse_args()
    fake = start_fake_cda()
    try:
        bare_result = bare(fake, args.redis, args.messages, args.threads)
        fake.reset()
        pipe_result = pipeline(fake, args.redis, args.messages, args.threads, args.batch, args.database_url,
                               args.chunk)
    finally:
        fake.stop()
    print(json.dumps({"messages": args.messages, "threads": args.threads, "chunk": args.chunk,
                      "store": "postgresql" if args.database_url else "sqlite", "bare_dramatiq": bare_result,
                      "pipeline": pipe_result,
                      "ratio": round(pipe_result["per_second"] / max(bare_result["per_second"], 0.001), 3),
                      "target_ratio": 0.5}, indent=2))


if __name__ == "__main__":
    main()
