#!/usr/bin/env python
"""Event append rate through the application layer vs. a raw insert loop on the same database.

App: `customers.register_customer` (Customer.Registered + Claim.Taken in one transaction) then
`update_customer` (load + Customer.Updated), i.e. 3 events in 2 transactions per customer.
Raw: the same stored rows (same topics, same encrypted payload sizes, fresh ids) inserted with
plain sqlite3/psycopg into a scratch table shaped like the event table, in transactions of the
same shape (2 rows, then 1 row), and also one row per transaction. Prints one JSON object.

    .venv/bin/python scripts/bench/eventstore.py [--events 3000] [--database-url postgresql://…]
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
    raw_connection,
)

RAW_TABLE = "bench_raw_events"
TARGET_RATIO = 0.6


def run_app(container: Any, first: int, customers: int) -> tuple[int, float]:
    """Returns (events written, seconds) for `customers` register+update pairs."""
    service = container.customers
    head_before = container.store.head()
    timer = Timer()
    for i in range(first, first + customers):
        meta = bench_meta(i)
        saved = service.register_customer(meta, **customer_fields(i))
        service.update_customer(meta, str(saved.aggregate.id), email=f"novo{i}@bench.example")
    seconds = timer.seconds
    return container.store.head() - head_before, seconds


def _create_raw_table(conn: Any, postgres: bool) -> None:
    if postgres:
        conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        conn.execute(
            f"CREATE TABLE {RAW_TABLE} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(f"CREATE UNIQUE INDEX ON {RAW_TABLE} (notification_id)")
        conn.commit()
    else:
        conn.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        conn.execute(
            f"CREATE TABLE {RAW_TABLE} (originator_id TEXT, originator_version INTEGER, topic TEXT, "
            "state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )


def _transactions(container: Any, start: int, stop: int) -> list[list[tuple[Any, ...]]]:
    """The app's stored rows grouped like its transactions (register: 2 rows, update: 1 row)."""
    notifications = container.store.read(start, stop - start + 1)
    groups: list[list[tuple[Any, ...]]] = []
    current: list[tuple[Any, ...]] = []
    for n in notifications:
        row = (uuid.uuid4(), n.originator_version, n.topic, n.state)
        if n.topic.endswith("Customer.Registered"):
            current = [row]
            groups.append(current)
        elif n.topic.endswith("Claim.Taken") and current:
            current.append(row)
        else:
            groups.append([row])
    return groups


class RawLoop:
    """Plain DB-API inserts into a scratch table shaped like the event table."""

    def __init__(self, container: Any) -> None:
        self.postgres = is_postgres(container)
        self.conn = raw_connection(container)
        _create_raw_table(self.conn, self.postgres)

    def run(self, groups: list[list[tuple[Any, ...]]]) -> tuple[int, float]:
        conn = self.conn
        if self.postgres:
            sql = (f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
                   "VALUES (%s, %s, %s, %s) RETURNING notification_id")
            timer = Timer()
            for rows in groups:
                with conn.cursor() as cur:
                    for row in rows:
                        cur.execute(sql, row)
                        cur.fetchone()
                conn.commit()
        else:
            sql = (f"INSERT INTO {RAW_TABLE} (originator_id, originator_version, topic, state) "
                   "VALUES (?,?,?,?)")
            groups = [[(r[0].hex, *r[1:]) for r in rows] for rows in groups]
            cur = conn.cursor()
            timer = Timer()
            for rows in groups:
                cur.execute("BEGIN")
                for row in rows:
                    cur.execute(sql, row)
                cur.execute("COMMIT")
        return sum(len(g) for g in groups), timer.seconds

    def close(self) -> None:
        self.conn.execute(f"DROP TABLE {RAW_TABLE}")
        if self.postgres:
            self.conn.commit()
        self.conn.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = base_parser(__doc__.splitlines()[1])
    parser.add_argument("--events", type=int, default=3000, help="events to append (3 per customer)")
    parser.add_argument("--rounds", type=int, default=10, help="app/raw loops alternate this many times")
    args = parser.parse_args(argv)
    quiet_logs()
    customers = max(1, args.events // 3)
    rounds = max(1, min(args.rounds, customers))
    per_round = customers // rounds
    with bench_container(args.database_url) as container:
        raw = RawLoop(container)
        run_app(container, 10_000_000, min(50, customers))  # warm-up (imports, caches, file growth)
        raw.run(_transactions(container, 1, container.store.head()))
        app_events = raw_events = single_events = 0
        app_seconds = raw_seconds = single_seconds = app_cpu = 0.0
        # Interleaved rounds so both loops see the same machine load and file sizes.
        for r in range(rounds):
            n = per_round if r < rounds - 1 else customers - per_round * (rounds - 1)
            start = container.store.head() + 1
            cpu = time.process_time()
            events, seconds = run_app(container, r * per_round, n)
            app_cpu += time.process_time() - cpu
            app_events += events
            app_seconds += seconds
            groups = _transactions(container, start, container.store.head())
            events, seconds = raw.run(groups)
            raw_events += events
            raw_seconds += seconds
            events, seconds = raw.run([[row] for rows in _transactions(container, start,
                                                                        container.store.head())
                                       for row in rows])
            single_events += events
            single_seconds += seconds
        raw.close()
        app_rate = app_events / app_seconds
        raw_rate = raw_events / raw_seconds
        result = {
            "benchmark": "eventstore_append",
            "database": "postgresql" if is_postgres(container) else "sqlite",
            "events": app_events,
            "customers": customers,
            "app_seconds": round(app_seconds, 3),
            "app_events_per_s": round(app_rate, 1),
            "app_transactions_per_s": round(2 * customers / app_seconds, 1),
            "app_cpu_ms_per_transaction": round(app_cpu * 1000 / (2 * customers), 3),
            "rounds": rounds,
            "raw_events": raw_events,
            "raw_seconds": round(raw_seconds, 3),
            "raw_events_per_s": round(raw_rate, 1),
            "raw_single_row_tx_events_per_s": round(single_events / single_seconds, 1),
            "ratio": round(app_rate / raw_rate, 3),
            "ratio_vs_single_row_tx": round(app_rate / (single_events / single_seconds), 3),
            "target_ratio": TARGET_RATIO,
            "meets_target": app_rate / raw_rate >= TARGET_RATIO,
            "peak_rss_mb": peak_rss_mb(),
        }
    emit(result)
    return result


if __name__ == "__main__":
    main()
