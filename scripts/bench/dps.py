"""DPS throughput on one core: build + XSD-validate + sign + serialise (the emission pipeline
also re-validates the signed document: see "e2e"), and end-to-end
emission against the fake Sefin over mutual TLS. Prints one JSON object.

    .venv/bin/python scripts/bench/dps.py [--seconds 5] [--notes 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the signing loop")
    parser.add_argument("--notes", type=int, default=200, help="notes emitted against the fake Sefin")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    from retaguarda.fiscal import dps as D
    from retaguarda.fiscal import xmlsign
    from retaguarda.fiscal.backends import make_backend
    from retaguarda.fiscal.certificates import generate_test_ca
    from retaguarda.shared.clock import SystemClock
    from tests.fakes.fiscal import start_fake_sefin
    from tests.fiscal.wire.conftest import ISSUER_CNPJ, make_request

    ca = generate_test_ca("bench CA")
    cert = ca.issue_a1(ISSUER_CNPJ, "BENCH")
    req = make_request()
    # warm-up: compiles the schema and loads the key once
    root = D.build_dps(req)
    D.validate(root)
    xmlsign.sign(root, cert)

    def loop(engine: str) -> tuple[int, float, int]:
        n = sizes = 0
        t0 = time.perf_counter()
        deadline = t0 + args.seconds
        while time.perf_counter() < deadline:
            root = D.build_dps(req.__class__(**{**req.__dict__, "number": n + 1}))
            D.validate(root, "DPS")
            xmlsign.sign(root, cert, engine=engine)
            sizes += len(D.to_bytes(root))
            n += 1
        return n, time.perf_counter() - t0, sizes

    n, elapsed, sizes = loop(xmlsign.DEFAULT_ENGINE)
    signed_per_s = n / elapsed

    # context for the number: the bare RSA-2048 private-key operation, same core, same moment
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    r = 0
    t2 = time.perf_counter()
    while time.perf_counter() - t2 < min(2.0, args.seconds):
        cert.private_key.sign(b"x" * 64, padding.PKCS1v15(), hashes.SHA256())
        r += 1
    rsa_per_s = r / (time.perf_counter() - t2)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    with tempfile.TemporaryDirectory() as tmp:
        sefin = start_fake_sefin(Path(tmp), issuer_cnpj=ISSUER_CNPJ)
        try:
            backend = make_backend("portal_nacional", settings=sefin.settings, credentials={},
                                   certificate=sefin.client_certificate, issuer_cnpj=ISSUER_CNPJ,
                                   environment="producao_restrita", clock=SystemClock(),
                                   ca_bundle=str(sefin.ca_path), timeout=10)
            backend.emit(make_request(number=10**9), "warm-up")
            authorized = 0
            t1 = time.perf_counter()
            for i in range(args.notes):
                outcome = backend.emit(make_request(number=i + 1), f"bench-{i}")
                authorized += outcome.status == "authorized"
            e2e = time.perf_counter() - t1
        finally:
            sefin.stop()

    print(json.dumps({
        "benchmark": "fiscal.dps",
        "cores": 1,
        "signed_dps": n,
        "seconds": round(elapsed, 3),
        "signed_dps_per_s": round(signed_per_s, 1),
        "target_signed_dps_per_s": 300,
        "meets_target": signed_per_s >= 300,
        "engine": xmlsign.DEFAULT_ENGINE,
        "avg_dps_bytes": round(sizes / max(n, 1)),
        "rsa2048_sign_per_s_same_core": round(rsa_per_s, 1),
        "load_average_1m": load,
        "e2e_notes": args.notes,
        "e2e_authorized": authorized,
        "e2e_seconds": round(e2e, 3),
        "e2e_notes_per_s": round(args.notes / e2e, 1),
        "e2e_note": "client and fake Sefin (XSD + signature check + signed NFS-e) share the same core",
    }, indent=2))


if __name__ == "__main__":
    main()
