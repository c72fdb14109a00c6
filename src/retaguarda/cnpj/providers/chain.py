"""The fallback chain: per-tenant order, circuit breaker and rate-limit memory per provider.

A found or "not found" answer ends the chain. A 429 moves on and the provider is not called again
before its Retry-After is up. Repeated failures open the provider's breaker (skipped), which
half-opens after a cool-down (one trial call: success closes it, failure opens it again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from retaguarda.cnpj.providers import (
    Attempt,
    ChainResult,
    CnpjProvider,
    ProviderError,
    RateLimited,
    TransientProviderError,
    Unsupported,
)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


@dataclass
class Breaker:
    threshold: int = 3
    cooldown: float = 30.0
    state: str = CLOSED
    failures: int = 0
    opened_at: float = 0.0
    trial_running: bool = False
    last_error: str = ""
    opened_count: int = 0

    def allow(self, now: float) -> bool:
        if self.state == CLOSED:
            return True
        if self.state == OPEN and now - self.opened_at >= self.cooldown:
            self.state = HALF_OPEN
            self.trial_running = False
        if self.state == HALF_OPEN and not self.trial_running:
            self.trial_running = True
            return True
        return False

    def success(self) -> None:
        self.state, self.failures, self.trial_running = CLOSED, 0, False

    def failure(self, now: float, error: str) -> None:
        self.last_error = error
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.threshold:
            if self.state != OPEN:
                self.opened_count += 1
            self.state, self.opened_at, self.trial_running = OPEN, now, False

    def retry_in(self, now: float) -> float:
        return max(0.0, self.cooldown - (now - self.opened_at)) if self.state == OPEN else 0.0


class ProviderChain:
    def __init__(self, providers: dict[str, CnpjProvider], *, threshold: int = 3, cooldown: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 observe: Callable[[str, str, float], None] | None = None) -> None:
        self.providers = providers
        self.clock = clock
        self.breakers = {name: Breaker(threshold, cooldown) for name in providers}
        self.blocked_until: dict[str, float] = {}
        self.observe = observe or (lambda provider, outcome, seconds: None)
        self._lock = threading.Lock()

    def lookup(self, cnpj: str, order: list[str], span: Callable[..., Any] | None = None) -> ChainResult:
        attempts: list[Attempt] = []
        for name in order:
            provider = self.providers.get(name)
            if provider is None:
                attempts.append(Attempt(name, "skipped", "provider not configured"))
                continue
            if not cnpj.isdigit() and not provider.supports_alphanumeric:
                attempts.append(Attempt(name, "unsupported",
                                        f"{name} cannot look up alphanumeric CNPJs"))
                continue
            now = self.clock()
            with self._lock:
                until = self.blocked_until.get(name, 0.0)
                if until > now:
                    attempts.append(Attempt(name, "skipped",
                                            f"rate limited: not called again for {until - now:.0f}s"))
                    continue
                breaker = self.breakers[name]
                if not breaker.allow(now):
                    attempts.append(Attempt(name, "skipped",
                                            f"circuit open (retry in {breaker.retry_in(now):.0f}s)"))
                    continue
            started = time.perf_counter()
            tries = 0
            try:
                if span is not None:
                    with span(f"cnpj.provider.{name}", provider=name):
                        result = provider.lookup(cnpj)
                else:
                    result = provider.lookup(cnpj)
                tries = getattr(provider, "last_tries", 1)
            except RateLimited as exc:
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.blocked_until[name] = self.clock() + exc.retry_after
                    self.breakers[name].trial_running = False
                self.observe(name, exc.kind, elapsed)
                attempts.append(Attempt(name, exc.kind, exc.message, exc.status, int(elapsed * 1000),
                                        getattr(provider, "last_tries", 1)))
                continue
            except Unsupported as exc:
                attempts.append(Attempt(name, exc.kind, exc.message))
                continue
            except ProviderError as exc:
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.breakers[name].failure(self.clock(), exc.message)
                self.observe(name, exc.kind, elapsed)
                attempts.append(Attempt(name, exc.kind, exc.message, exc.status, int(elapsed * 1000),
                                        getattr(provider, "last_tries", 1)))
                continue
            except Exception as exc:  # a bug in a parser must not hide the other providers
                elapsed = time.perf_counter() - started
                with self._lock:
                    self.breakers[name].failure(self.clock(), repr(exc))
                self.observe(name, "error", elapsed)
                attempts.append(Attempt(name, "error", f"{type(exc).__name__}: {exc}", None,
                                        int(elapsed * 1000)))
                continue
            elapsed = time.perf_counter() - started
            with self._lock:
                self.breakers[name].success()
            outcome = "ok" if result.found else "not_found"
            self.observe(name, outcome, elapsed)
            attempts.append(Attempt(name, outcome, result.message, 200, int(elapsed * 1000), tries))
            return ChainResult(result, attempts)
        return ChainResult(None, attempts)

    def health(self) -> list[dict[str, Any]]:
        now = self.clock()
        out = []
        with self._lock:
            for name, breaker in self.breakers.items():
                if breaker.state == OPEN and now - breaker.opened_at >= breaker.cooldown:
                    state = HALF_OPEN  # would let the next call through
                else:
                    state = breaker.state
                until = self.blocked_until.get(name, 0.0)
                out.append({"provider": name, "state": state, "failures": breaker.failures,
                            "opened_count": breaker.opened_count, "last_error": breaker.last_error,
                            "retry_in": round(breaker.retry_in(now), 1),
                            "rate_limited_for": round(max(0.0, until - now), 1),
                            "base_url": getattr(self.providers[name], "base_url", "in-process")})
        return out


__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "STATE_VALUE",
    "Breaker",
    "ProviderChain",
    "TransientProviderError",
]
