"""Reports benchmark: dashboard KPIs and the customers XLSX export over bulk-loaded read models.
Prints one JSON object.

    .venv/bin/python scripts/bench/reports.py [--customers 2000] [--invoices 24000] [--requests 200]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

The issue's size: `--customers 100000 --invoices 1200000` (targets: p95 ≤ 100 ms for the KPIs,
XLSX of 100,000 rows ≤ 15 s with peak RSS under 300 MB). Set-up (not measured) bulk-loads the
reports read models directly (`reports_customers`, `reports_invoices`, 24 months of
`kpi_monthly`), as the projection would have left them. Measured: `month_kpis` + `alerts` as the
`/api/v1/dashboard/kpis` and `/alerts` handlers run them (tenant reader connection, row-level
security on PostgreSQL), p50/p95/max; `growth` for 12 months; the customers report as XLSX
(openpyxl write-only), its seconds and the process's peak RSS. The default database is the
test server's PostgreSQL (a scratch database is created and dropped).
"""

from __future__ import annotations

import os
import statistics
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from _common import Timer, base_parser, bench_container, emit, peak_rss_mb, quiet_logs

TENANT = "bench-tenant"
CHUNK = 5000


def load(c: Any, customers: int, invoices: int) -> None:
    import sqlalchemy as sa

    from projections.reports.kpi import AMOUNTS, COUNTERS, kpi_monthly, reports_customers, reports_invoices

    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(customers)]
    with c.engine.begin() as conn:
        rows = []
        for i, cid in enumerate(ids):
            rows.append({"id": cid, "tenant_id": TENANT, "name": f"Cliente {i:06d}", "kind": "person",
                         "document": f"{i:011d}", "email": f"c{i}@example.com", "plan": f"Plano {i % 5}",
                         "city": ("Recife", "Olinda", "Caruaru")[i % 3], "uf": "PE",
                         "status": "inactive" if i % 50 == 0 else ("blocked" if i % 40 == 0 else "active"),
                         "created_at": start + timedelta(minutes=i * 5), "churned_at": None})
            if len(rows) >= CHUNK:
                conn.execute(sa.insert(reports_customers), rows)
                rows = []
        if rows:
            conn.execute(sa.insert(reports_customers), rows)
        rows = []
        today = date(2026, 12, 4)
        for n in range(invoices):
            due = today - timedelta(days=(n * 7) % 700)
            paid = n % 10 != 0
            rows.append({"id": str(uuid.UUID(int=10**9 + n)), "tenant_id": TENANT, "number": n + 1,
                         "customer_id": ids[n % customers], "plan_id": "", "status": "paid" if paid else "overdue",
                         "total": Decimal("99.90"), "outstanding": Decimal("0.00") if paid else Decimal("99.90"),
                         "paid": Decimal("99.90") if paid else Decimal("0.00"), "method": "pix" if paid else "",
                         "receivable": not paid, "overdue": not paid, "issue_date": due - timedelta(days=10),
                         "due_date": due, "paid_on": due if paid else None})
            if len(rows) >= CHUNK:
                conn.execute(sa.insert(reports_invoices), rows)
                rows = []
        if rows:
            conn.execute(sa.insert(reports_invoices), rows)
        months = []
        per_month_new = max(customers // 24, 1)
        per_month_inv = max(invoices // 24, 1)
        for k in range(24):
            year, month = 2025 + k // 12, k % 12 + 1
            row: dict[str, Any] = {"tenant_id": TENANT, "month": f"{year:04d}-{month:02d}",
                                   **dict.fromkeys(COUNTERS, 0), **dict.fromkeys(AMOUNTS, Decimal("0"))}
            row.update(new_customers=per_month_new, active_delta=per_month_new, invoices_issued=per_month_inv,
                       payments=per_month_inv * 9 // 10, invoiced=Decimal("99.90") * per_month_inv,
                       revenue=Decimal("99.90") * (per_month_inv * 9 // 10),
                       receivable_delta=Decimal("9.99") * per_month_inv,
                       overdue_delta=Decimal("9.99") * per_month_inv, mrr_delta=Decimal("99.90") * per_month_new)
            months.append(row)
        conn.execute(sa.insert(kpi_monthly), months)
        if c.engine.dialect.name == "postgresql":
            from projections.reports.kpi import TABLES
            from retaguarda.readdb import enable_row_level_security, ensure_reader_role

            ensure_reader_role(conn)
            for table in TABLES:  # as the migration does: the reader role under row-level security
                enable_row_level_security(conn, table.name)
            conn.execute(sa.text("ANALYZE"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def main() -> None:
    parser = base_parser(__doc__ or "")
    parser.set_defaults(database_url=os.environ.get("RETAGUARDA_TEST_DATABASE_URL",
                                                    "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=24000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    quiet_logs()
    from projections.reports.queries import alerts, growth, month_kpis
    from retaguarda.readdb import tenant_reader
    from retaguarda.reports.documents import build
    from retaguarda.reports.exports import to_xlsx

    with bench_container(args.database_url) as c:
        setup = Timer()
        load(c, args.customers, args.invoices)
        setup_s = round(setup.seconds, 2)
        now = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
        timings: list[float] = []
        for _ in range(args.requests):
            t = Timer()
            with tenant_reader(c.engine, TENANT) as conn:
                body = month_kpis(conn, TENANT, "2026-12")
                found = alerts(conn, TENANT, now)
            timings.append(t.seconds)
        assert body["current"]["active_customers"] > 0 and found
        g = Timer()
        with tenant_reader(c.engine, TENANT) as conn:
            series = growth(conn, TENANT, "2026-12", 12)
        growth_ms = round(g.seconds * 1000, 2)
        assert len(series) == 12
        x = Timer()
        with tenant_reader(c.engine, TENANT) as conn:
            doc = build(conn, TENANT, "customers", {}, now)
        data = to_xlsx(doc)
        xlsx_s = round(x.seconds, 2)
        emit({
            "benchmark": "reports", "database": "postgresql" if c.settings.database_url else "sqlite",
            "customers": args.customers, "invoices": args.invoices, "setup_s": setup_s,
            "kpis_alerts_requests": args.requests, "kpis_alerts_p50_ms": pct(timings, 0.5),
            "kpis_alerts_p95_ms": pct(timings, 0.95), "kpis_alerts_max_ms": round(max(timings) * 1000, 2),
            "kpis_alerts_mean_ms": round(statistics.mean(timings) * 1000, 2), "growth_12_ms": growth_ms,
            "xlsx_rows": doc.total, "xlsx_s": xlsx_s, "xlsx_bytes": len(data), "peak_rss_mb": peak_rss_mb(),
            "targets": {"kpis_p95_ms": 100, "xlsx_100k_s": 15, "rss_mb": 300},
        })


if __name__ == "__main__":
    main()
