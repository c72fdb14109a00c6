"""Installs the campaigns context: service, actors on the broker, triggers and the demo settings."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any

from retaguarda.campaigns.domain import Campaign
from retaguarda.integrations import Trigger
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

STATUS_EVENTS = ("Received", "DispatchStarted", "Scheduled", "Started", "Finished", "Cancelled", "Failed")


def _status_trigger(name: str) -> Trigger:
    return Trigger(getattr(Campaign, name), "campaigns.notify_wordpress",
                   lambda e: (str(e.originator_id), e.originator_version, name))


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(Campaign.Received, "campaigns.dispatch", lambda e: (str(e.originator_id), 0)),
    Trigger(Campaign.Cancelled, "campaigns.sweep_cancelled", lambda e: (str(e.originator_id),)),
    *(_status_trigger(name) for name in STATUS_EVENTS),
)


def install(container: Container) -> None:
    from retaguarda.campaigns.application import Campaigns
    from retaguarda.campaigns.pipeline import Tuning, close_providers, new_state

    container.campaigns = Campaigns(container.store, container.after_write, container.clock)
    container.campaigns_tuning = Tuning()
    container.campaigns_state = new_state()
    container.on_close.append(lambda: close_providers(container))


def demo_credentials(container: Container) -> dict[str, dict[str, Any]]:
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


def seed_demo(container: Container, tenant_id: str, actor: str) -> None:
    """Campaign settings for the demo tenant (idempotent): demo credentials, a webhook secret."""
    service = container.campaigns
    if service.get_settings(tenant_id) is not None:
        return
    meta = Meta(tenant_id=tenant_id, actor=actor, correlation_id=uuid.uuid4().hex, at=container.clock.now())
    service.configure(meta, general=dict(DEMO_GENERAL), credentials=demo_credentials(container),
                      webhook_secret=secrets.token_urlsafe(32))
