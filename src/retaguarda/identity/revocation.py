"""Is the refresh family behind an access token still live? Asked on every bearer request.

An access token is a signed JWT valid for `access_token_minutes`; on its own it outlived a logout
or a refresh-token reuse (which revoke its family) by up to 15 minutes. The authenticator now asks
`FamilyRevocations.is_live(family)` per request; verdicts are cached briefly so the event store
is not read per request:

- in process: LOCAL_TTL (1 s); a revocation made by this process applies at once;
- with Redis (`RETAGUARDA_REDIS_URL`): verdicts are shared under `rg:family:<id>`; a revocation
  writes `revoked` there (kept for the token lifetime), a `live` verdict lives SHARED_TTL (3 s);
- otherwise the family is loaded from the event store.

So a revocation made in any process is seen by every process within LOCAL_TTL + SHARED_TTL
(4 s), or at once where Redis carried it; the contract is "401 within 5 s".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

log = structlog.get_logger("retaguarda.identity")

LOCAL_TTL = 1.0
SHARED_TTL = 3
KEY = "rg:family:{}"
LOCAL_SIZE = 8192


class FamilyRevocations:
    def __init__(self, redis: Any = None, *, token_lifetime: int = 900, local_ttl: float = LOCAL_TTL,
                 shared_ttl: int = SHARED_TTL) -> None:
        self.redis = redis
        self.token_lifetime = max(int(token_lifetime), 1)
        self.local_ttl = local_ttl
        self.shared_ttl = shared_ttl
        self._lock = threading.Lock()
        self._local: dict[str, tuple[bool, float]] = {}

    @classmethod
    def for_settings(cls, settings: Any) -> FamilyRevocations:
        redis = None
        if getattr(settings, "redis_url", None):
            import redis as redis_lib

            redis = redis_lib.Redis.from_url(settings.redis_url, socket_timeout=0.5,
                                             socket_connect_timeout=0.5)
        return cls(redis, token_lifetime=int(settings.access_token_minutes) * 60)

    def is_live(self, family_id: str, lookup: Callable[[], bool]) -> bool:
        """`lookup()` reads the family from the event store when no fresh verdict is known."""
        now = time.monotonic()
        entry = self._local.get(family_id)
        if entry is not None and now < entry[1]:
            return entry[0]
        shared = self._shared_get(family_id)
        if shared is not None:
            live = shared
        else:
            live = bool(lookup())
            self._shared_set(family_id, live)
        self._remember(family_id, live, now)
        return live

    def known(self, family_id: str) -> bool | None:
        """The fresh in-process verdict, or None (no I/O: for the authenticator's fast path)."""
        entry = self._local.get(family_id)
        if entry is not None and time.monotonic() < entry[1]:
            return entry[0]
        return None

    def revoked(self, family_id: str) -> None:
        """Called after a family's revocation is saved."""
        self._remember(family_id, False, time.monotonic(), ttl=float(self.token_lifetime))
        self._shared_set(family_id, False)

    def _remember(self, family_id: str, live: bool, now: float, ttl: float | None = None) -> None:
        with self._lock:
            self._local.pop(family_id, None)
            while len(self._local) >= LOCAL_SIZE:
                self._local.pop(next(iter(self._local)))
            self._local[family_id] = (live, now + (self.local_ttl if ttl is None else ttl))

    def _shared_get(self, family_id: str) -> bool | None:
        if self.redis is None:
            return None
        try:
            value = self.redis.get(KEY.format(family_id))
        except Exception as exc:  # Redis down: the event store answers
            log.warning("revocation_cache_unavailable", error=type(exc).__name__)
            return None
        if value is None:
            return None
        return value in (b"live", "live")

    def _shared_set(self, family_id: str, live: bool) -> None:
        if self.redis is None:
            return
        try:
            if live:
                # nx: never overwrite a `revoked` verdict written meanwhile by another process
                self.redis.set(KEY.format(family_id), "live", ex=self.shared_ttl, nx=True)
            else:
                self.redis.set(KEY.format(family_id), "revoked", ex=self.token_lifetime)
        except Exception as exc:
            log.warning("revocation_cache_unavailable", error=type(exc).__name__)


__all__ = ["LOCAL_TTL", "SHARED_TTL", "FamilyRevocations"]
