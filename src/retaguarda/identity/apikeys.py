"""API-key commands (mixed into the Identity service): issue, revoke, look up, record use.

The full key `rg_<prefix>_<secret>` is returned once; only sha256(secret) is stored, and the
prefix is held unique by the `global:apikey-prefix` claim so a key is found by its prefix.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.identity import tokens
from retaguarda.identity.domain import ApiKey
from retaguarda.services import Saved
from retaguarda.shared.meta import Meta

if TYPE_CHECKING:  # the mixin's host: the Identity service (a Service)
    from retaguarda.services import Service as _Host
else:
    _Host = object

APIKEY_SCOPE = "global:apikey-prefix"


class ApiKeyCommands(_Host):
    """Needs the Identity service's store helpers (load, find, claim, owner_of, save)."""

    def create_api_key(self, meta: Meta, *, name: Any, scopes: Any) -> tuple[Saved, str]:
        """Returns the saved key and its full secret value, which is never shown again."""
        def command() -> tuple[Saved, str]:
            key, prefix, secret_hash = tokens.new_api_key()
            api_key = ApiKey.issue(uuid.uuid4(), meta, name=name, scopes=scopes, prefix=prefix,
                                   secret_hash=secret_hash)
            claim = self.claim(APIKEY_SCOPE, prefix, str(api_key.id), meta)
            return Saved(api_key, self.save(api_key, claim)), key

        return self.retrying(command)

    def revoke_api_key(self, meta: Meta, key_id: str) -> Saved:
        def command() -> Saved:
            api_key = self.load(ApiKey, key_id, meta.tenant_id)
            api_key.revoke(meta, f"revoked by {meta.actor}")
            return Saved(api_key, self.save(api_key))

        return self.retrying(command)

    def find_api_key(self, raw_key: str) -> ApiKey | None:
        """The live key matching `rg_<prefix>_<secret>`, or None (authoritative lookup)."""
        parts = tokens.split_api_key(raw_key)
        if parts is None:
            return None
        owner = self.owner_of(APIKEY_SCOPE, parts[0])
        api_key = self.find(ApiKey, UUID(owner)) if owner else None
        return api_key if api_key is not None and api_key.matches(parts[1]) else None

    def record_api_key_use(self, key_id: str, at: datetime, correlation_id: str = "",
                           ip: str = "") -> int:
        """Stores the last-used time (at most once a minute); a lost race is ignored."""
        from eventsourcing.persistence import IntegrityError

        api_key = self.find(ApiKey, UUID(str(key_id)))
        if api_key is None:
            return 0
        m = Meta(api_key.tenant_id, f"apikey:{key_id}", correlation_id or uuid.uuid4().hex, at)
        if not api_key.record_use(m, ip):
            return 0
        try:
            return self.save(api_key)
        except IntegrityError:
            return 0

