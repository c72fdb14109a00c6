"""Billing generation run for N subscriptions on PostgreSQL: invoices/s, peak memory, and a re-run
that creates none. Prints one JSON object.

    .venv/bin/python scripts/bench/billing.py [--subscriptions 100000] [--url postgresql://...]

Uses a fresh schema (dropped afterwards). Subscriptions are saved directly in batches (set-up,
not measured); the run is `billing.runs.generate` (batches of 500 invoices per atomic save with
their period claims and the tenant's numbers). By default the projector thread is paused during the
run and its catch-up is timed separately (`projection_catch_up_seconds`, and
`end_to_end_invoices_per_second` for both); `--projector-during` keeps it running alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-charges", action="store_true",
                        help="do not configure a PIX key and boleto agreement (no BR Code/boleto per invoice)")
    parser.add_argument("--projector-during", action="store_true",
                        help="keep the projector thread running during the run (it competes for the GIL)")
    args = parser.parse_args()

    import sqlalchemy as sa

    from retaguarda.billing import runs
    from retaguarda.billing.domain import Plan, Subscription
    from retaguarda.bootstrap import bootstrap
    from retaguarda.migrate import migrate
    from retaguarda.settings import load_settings
    from retaguarda.shared.meta import Meta

    schema = "bench_" + uuid.uuid4().hex[:8]
    settings = load_settings({}, var_dir=Path(tempfile.mkdtemp()) / "var", env="test", database_url=args.url,
                             database_schema=schema)
    c = bootstrap(settings)
    try:
        migrate(c)
        c.runner.start_thread()
        tenant = "bench-tenant"
        meta = Meta(tenant_id=tenant, actor="system:bench", correlation_id="bench",
                    at=datetime(2026, 11, 23, 12, tzinfo=timezone.utc))
        plan = Plan.create(meta, name="Fibra 300M", price="99.90", cycle="monthly")
        c.store.save(plan)
        t0 = time.perf_counter()
        batch = []
        for i in range(args.subscriptions):
            batch.append(Subscription.start(meta, customer_id=str(uuid.uuid4()), plan=plan, due_day=1 + i % 28,
                                            start_date=date(2026, 11, 1 + i % 28)))
            if len(batch) == 1000:
                c.store.save(*batch)
                batch = []
        if batch:
            c.store.save(*batch)
        c.wait_for(c.store.head(), timeout=3600)
        setup_s = time.perf_counter() - t0
        # Subscriptions start on 2026-11-01…28 with their due day on that date, so a run for
        # 2026-11-28 with a lead of 0 days bills every one exactly once (its first, full period).
        charges = {} if args.no_charges else {
            "pix_key": "financeiro@bench.test", "merchant_name": "Provedor Bench", "merchant_city": "Sao Paulo",
            "boleto_bank": "001", "boleto_agreement": "1234567", "boleto_wallet": "17"}
        c.billing.configure(meta, lead_days=0, **charges)
        c.wait_for(c.store.head(), timeout=3600)
        head_before = c.store.head()
        if not args.projector_during:
            c.runner.stop()  # measured separately below, as the read side's own cost
        t1, cpu1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        created = runs.generate(c, tenant, date(2026, 11, 28))
        run_s = time.perf_counter() - t1
        cpu2 = resource.getrusage(resource.RUSAGE_SELF)
        run_cpu = (cpu2.ru_utime - cpu1.ru_utime) + (cpu2.ru_stime - cpu1.ru_stime)
        events = c.store.head() - head_before
        t3 = time.perf_counter()
        if args.projector_during:
            c.wait_for(c.store.head(), timeout=3600)
        else:
            c.runner.catch_up(timeout=3600)
        projection_s = time.perf_counter() - t3
        t2 = time.perf_counter()
        again = runs.generate(c, tenant, date(2026, 11, 28))
        rerun_s = time.perf_counter() - t2
        with c.engine.connect() as conn:
            rows = conn.execute(sa.text("select count(*), count(distinct number) from billing_invoices")).one()
        print(json.dumps({
            "subscriptions": args.subscriptions, "pix_and_boleto_per_invoice": not args.no_charges, "setup_seconds": round(setup_s, 1),
            "invoices_created": created, "run_seconds": round(run_s, 2),
            "invoices_per_second": round(created / run_s, 1) if run_s else None,
            "run_cpu_seconds": round(run_cpu, 2),
            "invoices_per_cpu_second": round(created / run_cpu, 1) if run_cpu else None,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "events_written": events, "events_per_invoice": round(events / created, 3) if created else None,
            "projector_during_run": args.projector_during,
            "projection_catch_up_seconds": round(projection_s, 2),
            "end_to_end_invoices_per_second": round(created / (run_s + projection_s), 1) if created else None,
            "rerun_created": again, "rerun_seconds": round(rerun_s, 2),
            "invoices_in_read_model": rows[0], "distinct_numbers": rows[1],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "target_invoices_per_second": 500,
        }))
    finally:
        c.close()
        eng = sa.create_engine(args.url.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        eng.dispose()


if __name__ == "__main__":
    main()
