"""Every fake campaign provider in one process, for the demo and manual runs.

    python -m tests.fakes.campaigns.all [--base-port 18080] [--env-file var/fakes.env]

Starts CDA, GOSAC, NOAH, SMS, RBM (lenient: any service-account key and agent id, so the demo
tenant's generated key works), Salesforce and WordPress with the credentials the demo tenant is
seeded with, prints `RETAGUARDA_<NAME>_URL=…` lines (and writes them to `--env-file`), and serves
until SIGTERM/SIGINT. Export those variables before `retaguarda serve` / the worker.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from tests.fakes.campaigns.cda import FakeCda
from tests.fakes.campaigns.gosac import FakeGosac
from tests.fakes.campaigns.noah import FakeNoah
from tests.fakes.campaigns.rbm import FakeRbm
from tests.fakes.campaigns.salesforce import FakeSalesforce
from tests.fakes.campaigns.sms import FakeSms
from tests.fakes.campaigns.wordpress import FakeWordPress


def start_all(base_port: int = 0, latency: float = 0.0) -> dict[str, Any]:
    """name -> started fake; ports base_port+0..6 (ephemeral when 0)."""
    def port(i: int) -> int:
        return base_port + i if base_port else 0

    fakes: dict[str, Any] = {
        "cda": FakeCda(port=port(0), latency=latency),
        "gosac": FakeGosac(port=port(1), latency=latency),
        "noah": FakeNoah(port=port(2), latency=latency),
        "sms": FakeSms(port=port(3), latency=latency),
        "rcs": FakeRbm(port=port(4), latency=latency, lenient=True),
        "salesforce": FakeSalesforce(port=port(5), latency=latency),
        "wordpress": FakeWordPress(port=port(6)),
    }
    for fake in fakes.values():
        fake.start()
    return fakes


def env_lines(fakes: dict[str, Any]) -> list[str]:
    lines = [f"RETAGUARDA_{name.upper()}_URL={fake.base_url}" for name, fake in fakes.items() if name != "wordpress"]
    lines.append(f"RETAGUARDA_RCS_TOKEN_URL={fakes['rcs'].base_url}")
    lines.append(f"# WordPress webhook URL (tenant setting): {fakes['wordpress'].webhook_url}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--env-file", type=Path, default=None)
    args = parser.parse_args(argv)
    fakes = start_all(args.base_port, args.latency)
    lines = env_lines(fakes)
    print("\n".join(lines), flush=True)
    if args.env_file:
        args.env_file.write_text("\n".join(line for line in lines if not line.startswith("#")) + "\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for fake in fakes.values():
        fake.stop()


if __name__ == "__main__":
    main()
