"""CEP lookups with a cache and a fallback chain.

Order: the cache (found answers kept `ttl` seconds, not-found ones `negative_ttl`), then each provider
in turn; a transient failure is retried once after a short backoff (longer when the provider sent
Retry-After, capped), then the next provider is asked. A provider that keeps failing is skipped
for `cooldown` seconds. When every provider failed the caller gets CepUnavailable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from retaguarda.customers.cep import (
    CepAddress,
    CepNotFound,
    CepProvider,
    CepUnavailable,
    ProviderTransient,
    normalize_cep,
)

_MISSING = object()


class CepService:
    def __init__(self, providers: Sequence[CepProvider], *, ttl: float = 30 * 86400,
                 negative_ttl: float = 3600,
                 cooldown: float = 60, backoff: float = 0.2, max_wait: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, max_entries: int = 20_000) -> None:
        self.providers = list(providers)
        self.ttl, self.negative_ttl, self.cooldown = ttl, negative_ttl, cooldown
        self.backoff, self.max_wait = backoff, max_wait
        self.monotonic, self.sleep, self.max_entries = monotonic, sleep, max_entries
        self._cache: dict[str, tuple[float, CepAddress | None]] = {}
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self.stats = {"hits": 0, "misses": 0, "fallbacks": 0}

    def _cached(self, cep: str) -> object:
        with self._lock:
            entry = self._cache.get(cep)
            if entry is None or entry[0] < self.monotonic():
                return _MISSING
            self.stats["hits"] += 1
            return entry[1]

    def _store(self, cep: str, value: CepAddress | None) -> None:
        with self._lock:
            if len(self._cache) >= self.max_entries:
                self._cache.pop(next(iter(self._cache)))
            self._cache[cep] = (self.monotonic() + (self.ttl if value else self.negative_ttl), value)

    def lookup(self, raw: str) -> CepAddress:
        """The address of a CEP; CepInvalid, CepNotFound or CepUnavailable otherwise."""
        cep = normalize_cep(raw)
        hit = self._cached(cep)
        if hit is not _MISSING:
            if hit is None:
                raise CepNotFound(cep)
            return hit  # type: ignore[return-value]
        self.stats["misses"] += 1
        failures: list[str] = []
        for index, provider in enumerate(self.providers):
            if self._down_until.get(provider.name, 0) > self.monotonic():
                failures.append(f"{provider.name}: cooling down")
                continue
            if index and failures:
                self.stats["fallbacks"] += 1
            for attempt in (1, 2):
                try:
                    found = provider.lookup(cep)
                except ProviderTransient as exc:
                    if attempt == 1:
                        self.sleep(min(self.max_wait, exc.retry_after if exc.retry_after is not None
                                       else self.backoff))
                        continue
                    failures.append(str(exc))
                    self._down_until[provider.name] = self.monotonic() + self.cooldown
                    break
                self._down_until.pop(provider.name, None)
                self._store(cep, found)
                if found is None:
                    raise CepNotFound(cep)
                return found
        raise CepUnavailable("; ".join(failures) or "no CEP provider configured")
