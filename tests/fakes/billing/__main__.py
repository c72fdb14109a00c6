"""Run the billing fakes by hand (demo or manual testing), until Ctrl-C:

    .venv/bin/python -m tests.fakes.billing \\
        --stripe-webhook http://127.0.0.1:8000/api/v1/billing/webhooks/stripe \\
        --mercadopago-webhook http://127.0.0.1:8000/api/v1/billing/webhooks/mercadopago

Prints one JSON line with each fake's base URL and credentials; point RETAGUARDA_STRIPE_URL and
RETAGUARDA_MERCADOPAGO_URL at them and put the keys/secrets in the tenant's billing settings.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from tests.fakes.billing import start_fake_access_network, start_fake_mercadopago, start_fake_stripe


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.billing")
    parser.add_argument("--stripe-webhook", default=None)
    parser.add_argument("--mercadopago-webhook", default=None)
    args = parser.parse_args()
    stripe = start_fake_stripe(webhook_url=args.stripe_webhook)
    mp = start_fake_mercadopago(webhook_url=args.mercadopago_webhook)
    network = start_fake_access_network()
    print(json.dumps({
        "stripe": {"url": stripe.base_url, "api_key": stripe.api_key, "webhook_secret": stripe.secret},
        "mercadopago": {"url": mp.base_url, "access_token": mp.access_token, "webhook_secret": mp.secret},
        "access_network": {"url": network.url, "secret": network.secret},
    }), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for fake in (stripe, mp, network):
            fake.stop()


if __name__ == "__main__":
    main()
