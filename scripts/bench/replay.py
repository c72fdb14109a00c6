#!/usr/bin/env python
"""Replay rate: rebuild the `customer_list` projection (or all) from N stored events, with peak RSS.

The log is generated fast, not through the application layer: a pool of real Customer histories
(Registered, Claim.Taken, Updated, Updated, Blocked) is mapped once with the store's own mapper
(`store.mapper.to_stored_event`: transcoded and AES-encrypted exactly as the app stores them) and
then inserted in large batches with fresh aggregate ids through the store's recorder. Then
`projections.runner.rebuild` is timed. Prints one JSON object.

    .venv/bin/python scripts/bench/replay.py [--events 1000000] [--all] [--database-url postgresql://…]
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    Timer,
    base_parser,
    bench_container,
    bench_meta,
    customer_fields,
    emit,
    is_postgres,
    peak_rss_mb,
    quiet_logs,
)

TARGET_EVENTS_PER_S = 20_000
TARGET_RSS_MB = 500
POOL = 1000          # distinct customer histories mapped through the real mapper
INSERT_BATCH = 20_000


def history_pool(container: Any, size: int) -> list[list[tuple[str, bytes, bool]]]:
    """`size` histories; each item is (topic, encrypted state, belongs-to-the-claim)."""
    from retaguarda.customers import Customer
    from retaguarda.shared.claims import Claim

    mapper = container.store.mapper
    pool = []
    for i in range(size):
        meta = bench_meta(i)
        customer = Customer.register(uuid.uuid4(), meta, **customer_fields(i))
        claim = Claim.take(f"customer-document:{meta.tenant_id}", customer.document, str(customer.id), meta)
        customer.update(meta.later(meta.at), email=f"novo{i}@bench.example", plan="Empresarial 1G")
        customer.update(meta.later(meta.at), name=f"Cliente Renomeado {i}", phones=["11 98888-7777"])
        customer.block(meta.later(meta.at), "inadimplência")
        events = customer.collect_events()
        claim_event = claim.collect_events()[0]
        stored = [mapper.to_stored_event(e) for e in events]
        claim_stored = mapper.to_stored_event(claim_event)
        pool.append([(stored[0].topic, stored[0].state, False),
                     (claim_stored.topic, claim_stored.state, True),
                     *[(s.topic, s.state, False) for s in stored[1:]]])
    return pool


def generate(container: Any, events: int) -> tuple[int, float]:
    """Appends `events` stored events (whole histories; the last may be cut short)."""
    from eventsourcing.persistence import StoredEvent

    timer = Timer()
    pool = history_pool(container, POOL)
    recorder = container.store.recorder
    written = 0
    batch: list[Any] = []
    g = 0
    while written < events:
        history = pool[g % len(pool)]
        g += 1
        customer_id, claim_id = uuid.uuid4(), uuid.uuid4()
        version = 0
        for topic, state, is_claim in history:
            if written >= events:
                break
            if is_claim:
                batch.append(StoredEvent(originator_id=claim_id, originator_version=1, topic=topic,
                                         state=state))
            else:
                version += 1
                batch.append(StoredEvent(originator_id=customer_id, originator_version=version, topic=topic,
                                         state=state))
            written += 1
        if len(batch) >= INSERT_BATCH:
            recorder.insert_events(batch)
            batch = []
    if batch:
        recorder.insert_events(batch)
    return written, timer.seconds


def current_rss_mb() -> float:
    try:
        import psutil

        return round(psutil.Process().memory_info().rss / (1024 * 1024), 1)
    except ImportError:  # pragma: no cover
        return -1.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from projections.registry import all_projections, by_name
    from projections.runner import rebuild

    parser = base_parser(__doc__.splitlines()[1])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--all", action="store_true", help="also rebuild every other projection")
    parser.add_argument("--batch-size", type=int, default=2000, help="events per replay batch")
    parser.add_argument("--progress", action="store_true", help="progress lines on stderr")
    args = parser.parse_args(argv)
    quiet_logs()
    with bench_container(args.database_url) as container:
        written, gen_seconds = generate(container, args.events)
        head = container.store.head()
        rss_before = current_rss_mb()
        last = [0.0]

        def progress(seen: int, total: int, elapsed: float) -> None:
            if args.progress and time.monotonic() - last[0] > 5:
                last[0] = time.monotonic()
                rate = seen / elapsed if elapsed else 0
                print(f"replay {seen}/{total} {rate:,.0f} ev/s", file=sys.stderr, flush=True)

        reports = {}
        cpu = time.process_time()
        report = rebuild(container.store, container.engine, by_name(["customer_list"])[0],
                         batch_size=args.batch_size, progress=progress)
        cpu = time.process_time() - cpu
        reports["customer_list"] = {
            "events": report.events, "handled": report.handled, "seconds": round(report.seconds, 2),
            "events_per_s": round(report.events / report.seconds, 1), "rows": report.rows,
            "cpu_seconds": round(cpu, 2),
        }
        peak_after_customer_list = peak_rss_mb()
        if args.all:
            for projection in all_projections():
                if projection.name == "customer_list":
                    continue
                projection.configure(container.settings)
                r = rebuild(container.store, container.engine, projection, batch_size=args.batch_size,
                            progress=progress)
                reports[projection.name] = {"events": r.events, "handled": r.handled,
                                            "seconds": round(r.seconds, 2),
                                            "events_per_s": round(r.events / r.seconds, 1), "rows": r.rows}
        main_rate = reports["customer_list"]["events_per_s"]
        result = {
            "benchmark": "replay",
            "database": "postgresql" if is_postgres(container) else "sqlite",
            "events": written,
            "log_head": head,
            "generate_seconds": round(gen_seconds, 1),
            "projection": "customer_list",
            "events_per_s": main_rate,
            "seconds": reports["customer_list"]["seconds"],
            "rss_before_replay_mb": rss_before,
            "peak_rss_mb": peak_after_customer_list,
            "peak_rss_mb_all": peak_rss_mb(),
            "target_events_per_s": TARGET_EVENTS_PER_S,
            "target_rss_mb": TARGET_RSS_MB,
            "meets_target": main_rate >= TARGET_EVENTS_PER_S and peak_after_customer_list < TARGET_RSS_MB,
            "projections": reports,
        }
    emit(result)
    return result


if __name__ == "__main__":
    main()
