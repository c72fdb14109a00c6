"""Installs the campaigns context: service, actors on the broker, triggers and the demo settings."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from retaguarda.shared.meta import Meta

STATUS_EVENTS = ("Received", "DispatchStarted", "Scheduled", "Started", "Finished", "Cancelled", "Failed")


def install(container: Any) -> None:
    import retaguarda.campaigns.actors
    import retaguarda.campaigns.tables  # noqa: F401  (the callbacks table on the metadata)
    from retaguarda.campaigns.application import Campaigns
    from retaguarda.campaigns.domain import Campaign
    from retaguarda.campaigns.pipeline import close_providers, tuning
    from retaguarda.integrations import Every, register_periodic, register_trigger

    container.services["campaigns"] = Campaigns(container.store, container.after_write, container.clock)
    tuning(container)
    register_trigger(Campaign.Received, "campaigns.dispatch", lambda e: (str(e.originator_id), 0))
    register_trigger(Campaign.Cancelled, "campaigns.sweep_cancelled", lambda e: (str(e.originator_id),))
    for name in STATUS_EVENTS:
        register_trigger(getattr(Campaign, name), "campaigns.notify_wordpress",
                         lambda e, n=name: (str(e.originator_id), e.originator_version, n))
    register_periodic("campaigns-watchdog", Every(60), "campaigns.watchdog",
                      "Re-checks active campaigns (completion, stalled sends, lost fan-out)")
    container.extras.setdefault("on_close", []).append(lambda: close_providers(container))


def demo_credentials(container: Any) -> dict[str, dict[str, Any]]:
    """Credentials the fake providers (`tests/fakes/campaigns`) accept by default; the demo points
    every provider at its settings URL, so running the fakes there makes the demo deliver."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    account = {"type": "service_account", "client_email": "demo-agent@demo.iam.gserviceaccount.com",
               "private_key": pem, "private_key_id": "demo"}
    return {
        "cda": {"api_key": "cda-test-key", "sender": "RETAGUARDA"},
        "gosac": {"token": "gosac-test-token", "account_id": "demo"},
        "noah": {"client_id": "noah-client", "client_secret": "noah-secret", "channel": "sms"},
        "sms": {"api_key": "sms-test-key", "sender": "RETAGUARDA"},
        "rcs": {"agent_id": "demo-agent", "service_account_json": json.dumps(account), "ttl_seconds": 3600},
        "salesforce": {"subdomain": "demo", "client_id": "sf-client", "client_secret": "sf-secret",
                       "account_id": "100", "data_extension_key": "retaguarda_contacts",
                       "sms_definition_key": "retaguarda-sms", "event_definition_key": "APIEvent-retaguarda",
                       "send_mode": "journey"},
    }


DEMO_GENERAL = {"quiet_start": "00:00", "quiet_end": "00:00"}
"""The demo tenant sends at any hour (a 24-hour window), so a demo or a check run at night sees
messages arrive; new tenants get the 09:00–21:00 default, editable under Provider settings."""


def seed_demo(container: Any, tenant_id: str, actor: str) -> None:
    """Campaign settings for the demo tenant (idempotent): demo credentials, a webhook secret."""
    service = container.campaigns
    if service.get_settings(tenant_id) is not None:
        return
    meta = Meta(tenant_id=tenant_id, actor=actor, correlation_id=uuid.uuid4().hex, at=container.clock.now())
    service.configure(meta, general=dict(DEMO_GENERAL), credentials=demo_credentials(container),
                      webhook_secret=secrets.token_urlsafe(32))
