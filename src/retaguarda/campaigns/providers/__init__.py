"""Campaign providers: the port (`base`) and one module per vendor holding its wire mapping.

    provider = make_provider("rcs", settings=container.settings, credentials=tenant_creds["rcs"],
                             clock=container.clock, sms_fallback=make_provider("sms", ...))
    result = provider.send(OutboundMessage(...))     # SendResult, or raises ProviderError

Contracts: docs/providers/{cda,gosac,noah,sms}.md and docs/providers/README.md (RCS, Salesforce).
"""

from __future__ import annotations

from typing import Any

import httpx

from retaguarda.campaigns.providers.base import (
    PROVIDER_NAMES,
    CampaignProvider,
    Channel,
    MemoryTokenCache,
    NotCapableError,
    OutboundMessage,
    PermanentProviderError,
    ProviderError,
    SendResult,
    TokenCache,
    TransientProviderError,
)

CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "cda": ("api_key", "sender"),
    "gosac": ("token", "account_id"),
    "noah": ("client_id", "client_secret", "channel"),
    "sms": ("api_key", "sender"),
    "rcs": ("agent_id", "service_account_json", "ttl_seconds"),
    "salesforce": ("subdomain", "client_id", "client_secret", "account_id", "data_extension_key",
                   "sms_definition_key", "email_definition_key", "event_definition_key", "send_mode"),
}
"""Per-provider credential/option keys a tenant can set (the UI form); secrets among them:"""

SECRET_FIELDS: frozenset[str] = frozenset(
    {"api_key", "token", "client_secret", "service_account_json"}
)


def make_provider(name: str, *, settings: Any, credentials: dict[str, Any], clock: Any,
                  sms_fallback: CampaignProvider | None = None, token_cache: TokenCache | None = None,
                  http: httpx.Client | None = None, timeout: float = 10.0) -> CampaignProvider:
    """Builds the real client for `name` ('cda', 'gosac', 'noah', 'rcs', 'salesforce' or 'sms').

    Base URLs come from `settings.<name>_url` (scheme + host; the client appends paths);
    credentials are the tenant's (decrypted) settings for that provider. `sms_fallback` is used
    by 'rcs' only; without it a non-RCS-capable phone raises `NotCapableError`.
    """
    common: dict[str, Any] = dict(credentials=credentials, clock=clock, http=http, timeout=timeout)
    if name == "cda":
        from retaguarda.campaigns.providers.cda import CdaProvider

        return CdaProvider(base_url=settings.cda_url, **common)
    if name == "gosac":
        from retaguarda.campaigns.providers.gosac import GosacProvider

        return GosacProvider(base_url=settings.gosac_url, **common)
    if name == "noah":
        from retaguarda.campaigns.providers.noah import NoahProvider

        return NoahProvider(base_url=settings.noah_url, **common)
    if name == "sms":
        from retaguarda.campaigns.providers.sms import SmsProvider

        return SmsProvider(base_url=settings.sms_url, **common)
    if name == "rcs":
        from retaguarda.campaigns.providers.rcs import RcsProvider

        return RcsProvider(base_url=settings.rcs_url, token_url=settings.rcs_token_url,
                           sms_fallback=sms_fallback, token_cache=token_cache, **common)
    if name == "salesforce":
        from retaguarda.campaigns.providers.salesforce import SalesforceProvider

        return SalesforceProvider(auth_url=settings.salesforce_url, token_cache=token_cache, **common)
    raise ValueError(f"unknown campaign provider {name!r}")


__all__ = [
    "CREDENTIAL_FIELDS",
    "PROVIDER_NAMES",
    "SECRET_FIELDS",
    "CampaignProvider",
    "Channel",
    "MemoryTokenCache",
    "NotCapableError",
    "OutboundMessage",
    "PermanentProviderError",
    "ProviderError",
    "SendResult",
    "TokenCache",
    "TransientProviderError",
    "make_provider",
]
