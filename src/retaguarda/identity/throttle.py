"""Failed-login throttling: failures counted per key (an account, an IP address) in fixed windows.

Progressive delays, not a hard lock: below the limit nothing waits; from the limit on, the next
attempt must wait DELAY_BASE·2^(failures − limit) seconds after the last failure, at most
DELAY_CAP (#20: five failures used to lock the account for 15 minutes even for the right
password). A success clears the account's count.

Two implementations of one small port: `MemoryLimiter` (one process, the embedded default)
and `RedisLimiter` (INCR + EXPIRE, shared by every web process when Redis is configured).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from redis.exceptions import RedisError

from retaguarda.shared.errors import TooManyRequestsError

log = structlog.get_logger("retaguarda.identity.throttle")

ACCOUNT_LIMIT = 5
IP_LIMIT = 20
WINDOW_SECONDS = 15 * 60
DELAY_BASE = 1.0
DELAY_CAP = 60.0


def progressive_delay(failures: int, limit: int, base: float = DELAY_BASE, cap: float = DELAY_CAP) -> float:
    """Seconds to wait after the last failure, given the failures counted in the window."""
    if failures < limit:
        return 0.0
    return min(cap, base * 2 ** min(failures - limit, 30))


class Limiter(Protocol):
    def retry_after(self, key: str, limit: int) -> int:
        """Seconds until `key` may try again (0 when it has fewer than `limit` failures)."""

    def hit(self, key: str) -> int:
        """Counts one failure; returns the count in the current window."""

    def wait(self, key: str, limit: int) -> int:
        """Seconds until `key` may try again under progressive delays (0: now)."""

    def reset(self, key: str) -> None:
        """Forgets the failures of `key` (after a successful login)."""


class MemoryLimiter:
    """In-process fixed windows; `now` is injectable so tests can move time."""

    def __init__(self, window: int = WINDOW_SECONDS, now: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, float]] = {}
        self._last: dict[str, float] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._windows.get(key)
        if entry and self._now() >= entry[1]:
            del self._windows[key]
            return None
        return entry

    def retry_after(self, key: str, limit: int) -> int:
        with self._lock:
            entry = self._live(key)
            if entry is None or entry[0] < limit:
                return 0
            return max(1, math.ceil(entry[1] - self._now()))

    def hit(self, key: str) -> int:
        with self._lock:
            entry = self._live(key)
            count, ends = entry if entry else (0, self._now() + self.window)
            self._windows[key] = (count + 1, ends)
            self._last[key] = self._now()
            return count + 1

    def wait(self, key: str, limit: int) -> int:
        with self._lock:
            entry = self._live(key)
            if entry is None:
                return 0
            left = progressive_delay(entry[0], limit) - (self._now() - self._last.get(key, 0.0))
            return max(0, math.ceil(left))

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
            self._last.pop(key, None)


class RedisLimiter:
    """Shared windows in Redis: the first failure sets the key's TTL to the window."""

    def __init__(self, client: Any, window: int = WINDOW_SECONDS, namespace: str = "rg:throttle:") -> None:
        self.client = client
        self.window = window
        self.namespace = namespace

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "RedisLimiter":
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2), **kwargs)

    def retry_after(self, key: str, limit: int) -> int:
        name = self.namespace + key
        pipe = self.client.pipeline()
        pipe.get(name)
        pipe.ttl(name)
        count, ttl = pipe.execute()
        if count is None or int(count) < limit:
            return 0
        return max(1, int(ttl) if ttl and int(ttl) > 0 else self.window)

    def hit(self, key: str) -> int:
        name = self.namespace + key
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, self.window, nx=True)
        pipe.set(name + ":last", repr(time.time()), ex=self.window)
        count, _, _ = pipe.execute()
        return int(count)

    def wait(self, key: str, limit: int) -> int:
        name = self.namespace + key
        count, last = self.client.mget(name, name + ":last")
        if count is None:
            return 0
        left = progressive_delay(int(count), limit) - (time.time() - float(last or 0.0))
        return max(0, math.ceil(left))

    def reset(self, key: str) -> None:
        self.client.delete(self.namespace + key, self.namespace + key + ":last")


class LoginThrottle:
    """Makes a login attempt wait (progressive delays) once an account or an IP has many recent
    failures; the wait is short and grows with each further failure (never a hard lock).

    If the limiter's backend is unreachable (Redis down) logins are not blocked: the failure
    is logged and the check passes, so an outage of the cache is not an outage of logins.
    """

    def __init__(self, limiter: Limiter, account_limit: int = ACCOUNT_LIMIT,
                 ip_limit: int = IP_LIMIT) -> None:
        self.limiter = limiter
        self.account_limit = account_limit
        self.ip_limit = ip_limit

    def check(self, email: str, ip: str) -> None:
        """Raises TooManyRequestsError (with Retry-After seconds) when throttled."""
        wait = self._safely(lambda: max(
            self.limiter.wait(f"acct:{email}", self.account_limit),
            self.limiter.wait(f"ip:{ip}", self.ip_limit) if ip else 0), 0)
        if wait:
            raise TooManyRequestsError("too many failed logins; try again later", retry_after=wait)

    def failed(self, email: str, ip: str) -> int:
        """Counts a failure; returns the account's failures in the window (0 if unknown)."""
        count = int(self._safely(lambda: self.limiter.hit(f"acct:{email}"), 0))
        if ip:
            self._safely(lambda: self.limiter.hit(f"ip:{ip}"), 0)
        return count

    def succeeded(self, email: str) -> None:
        self._safely(lambda: self.limiter.reset(f"acct:{email}"), None)

    def _safely(self, call: Callable[[], Any], default: Any) -> Any:
        try:
            return call()
        except (OSError, RedisError) as exc:
            log.warning("login_throttle_unavailable", error=repr(exc))
            return default


def limiter_for(settings: Any, now: Callable[[], float] | None = None) -> Limiter:
    if settings.redis_url:
        return RedisLimiter.from_url(settings.redis_url)
    return MemoryLimiter(now=now or time.monotonic)
