"""NFCom throughput on one core. Prints one JSON object.

- `build_sign_validate_per_s`: build the NFCom (lxml, schema order) + enveloped RSA-SHA1 signature +
  serialise + re-parse + XSD validation of the signed bytes (what the SVRS client does before
  sending), in a loop for `--seconds`.
- `sandbox_documents_per_s`: the whole emission through the sandbox backend (the above + gzip +
  base64 + SOAP 1.2 envelope + the simulated SVRS: decompress, XSD, signature verification, key
  checks, protocol) for `--documents` NFCom with distinct numbers.
- `peak_rss_mib`: the process's peak resident memory.

    .venv/bin/python scripts/bench/nfcom.py [--seconds 5] [--documents 300]
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
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
