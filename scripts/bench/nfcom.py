"""NFCom throughput on one core. Prints one JSON object.

- `build_sign_validate_per_s`: build the NFCom (lxml, schema order) + enveloped RSA-SHA1 signature +
  serialise + re-parse + XSD validation of the signed bytes (what the SVRS client does before
  sending), in a loop for `--seconds`.
- `sandbox_documents_per_s`: the whole emission through the sandbox backend (the above + gzip +
  base64 + SOAP 1.2 envelope + the simulated SVRS: decompress, XSD, signature verification, key
  checks, protocol) for `--documents` NFCom with distinct numbers.
- `billing_run`: `--invoices` combined billing invoices (a plan split into an SCM line with its
  cClass and an SVA line with its service code, as the monthly run writes them) documented the
  way the queue does it — `fiscal.invoice_documents` (NFCom + NFS-e drafts, emission requested)
  then the emission jobs against the sandboxes — on a throw-away container (SQLite, or
  `--database-url postgresql://…`): invoices/s, documents/s, authorized counts.
- `peak_rss_mib`: the process's peak resident memory (after all parts).

    .venv/bin/python scripts/bench/nfcom.py [--seconds 5] [--documents 300] [--invoices 100]
    .venv/bin/python scripts/bench/nfcom.py --invoices 10000      # the issue's size (slow)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--invoices", type=int, default=100,
                        help="combined invoices of the billing-run part (the issue's size: 10000; 0 skips it)")
    parser.add_argument("--database-url", default=None, help="postgresql://… (default: SQLite in a temp dir)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from retaguarda.fiscal.nfcom import sign as S
    from retaguarda.fiscal.nfcom import xml as X
    from retaguarda.fiscal.nfcom.backends import make_backend
    from retaguarda.shared.clock import SystemClock
    from tests.fiscal.nfcom.helpers import certificate, request

    cert = certificate()
    base = request(issued_at=datetime.now(timezone.utc))
    X.validate(X.parse(X.to_bytes(S.sign(X.build_nfcom(base), cert))))  # warm-up: schema, key

    n = size = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        data = X.to_bytes(S.sign(X.build_nfcom(replace(base, number=n + 1)), cert))
        X.validate(X.parse(data))
        size += len(data)
        n += 1
    elapsed = time.perf_counter() - t0

    backend = make_backend(
        "sandbox",
        certificate=cert,
        issuer_cnpj=base.issuer.cnpj,
        environment="homologacao",
        clock=SystemClock(),
        scope=object(),
    )
    authorized = 0
    t1 = time.perf_counter()
    for i in range(args.documents):
        out = backend.emit(replace(base, number=100_000 + i, issued_at=datetime.now(timezone.utc)), str(i))
        authorized += out.status == "authorized"
    e2e = time.perf_counter() - t1
    run = billing_run(args.invoices, args.database_url) if args.invoices > 0 else None

    print(
        json.dumps(
            {
                "benchmark": "nfcom",
                "cores": 1,
                "seconds": round(elapsed, 2),
                "documents_built": n,
                "build_sign_validate_per_s": round(n / elapsed, 1),
                "avg_signed_bytes": size // max(1, n),
                "items_per_document": len(base.items),
                "sandbox_documents": args.documents,
                "sandbox_authorized": authorized,
                "sandbox_documents_per_s": round(args.documents / e2e, 1),
                "billing_run": run,
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )


def billing_run(invoices: int, database_url: str | None) -> dict[str, object]:
    """`invoices` combined invoices → NFCom + NFS-e each, through the jobs' own functions."""
    import uuid
    from datetime import date
    from decimal import Decimal

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import bench_container, bench_meta, customer_fields, quiet_logs

    from retaguarda.billing import Invoice
    from retaguarda.billing.domain import plan_items
    from retaguarda.fiscal.actors import emit_nfse
    from retaguarda.fiscal.install import DEMO_SETTINGS
    from retaguarda.fiscal.nfcom.actors import emit_nfcom
    from retaguarda.fiscal.nfcom.install import DEMO_NFCOM_SETTINGS
    from retaguarda.fiscal.nfcom.invoicing import documents_for_invoice

    quiet_logs()
    tenant = "bench-tenant"
    fiscal = {"class": "combined", "cclass": "0100401", "service_code": "010701", "sva_amount": "19.90"}
    with bench_container(database_url) as c:
        meta = bench_meta()
        c.fiscal.save_settings(meta, dict(DEMO_SETTINGS))
        c.nfcom.save_settings(meta, {**DEMO_NFCOM_SETTINGS, "issue_on": "manual"})
        fields = customer_fields(1)
        fields["address"] = {**fields["address"], "city": "Belo Horizonte", "uf": "MG", "ibge_code": "3106200"}
        customer = str(c.customers.register_customer(meta, **fields).aggregate.id)
        now = datetime.now(timezone.utc)
        ids: list[str] = []
        batch: list[object] = []
        for i in range(invoices):
            items = plan_items(f"Fibra 500 Mega 01/{now:%m/%Y}", Decimal("119.90"), fiscal)
            inv = Invoice.generate(bench_meta(i), invoice_id=uuid.uuid4(), number=i + 1, customer_id=customer,
                                   subscription_id=None, period_start=date(now.year, now.month, 1),  # type: ignore[arg-type]
                                   period_end=date(now.year, now.month, 28), description="", amount=Decimal("119.90"),
                                   due_date=date(now.year, now.month, 28), issue_date=date(now.year, now.month, 1),
                                   pix=None, boleto={"digitable_line": "0" * 47}, items=items)
            ids.append(str(inv.id))
            batch.append(inv)
            if len(batch) == 500:
                c.store.save(*batch)
                batch = []
        if batch:
            c.store.save(*batch)
        t0 = time.perf_counter()
        created = [documents_for_invoice(c, tenant, invoice_id, "bulk") for invoice_id in ids]
        drafts_s = time.perf_counter() - t0
        statuses: dict[str, int] = {}
        for out in created:
            for key, fn in (("nfcom_id", emit_nfcom), ("nfse_id", emit_nfse)):
                if key in out:
                    result = str(fn(c, out[key]))
                    statuses[f"{key[:-3]}:{result}"] = statuses.get(f"{key[:-3]}:{result}", 0) + 1
        total_s = time.perf_counter() - t0
        documents = sum(("nfcom_id" in o) + ("nfse_id" in o) for o in created)
        return {
            "invoices": invoices,
            "database": "postgresql" if database_url else "sqlite",
            "documents": documents,
            "results": statuses,
            "drafts_seconds": round(drafts_s, 2),
            "seconds": round(total_s, 2),
            "invoices_per_s": round(invoices / total_s, 1),
            "documents_per_s": round(documents / total_s, 1),
        }


if __name__ == "__main__":
    main()
