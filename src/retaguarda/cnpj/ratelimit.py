"""Fixed-window request limits per key (tenant, client IP): Redis when configured, else in-process."""

from __future__ import annotations

import threading
import time
from typing import Any


class RateLimiter:
    def __init__(self, redis_url: str | None = None, window: int = 60) -> None:
        self.window = window
        self.redis: Any = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url)
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, now: float | None = None) -> int:
        """0 when allowed, else the seconds until the window resets (the Retry-After)."""
        now = time.time() if now is None else now
        bucket = int(now // self.window)
        retry_after = max(1, int((bucket + 1) * self.window - now + 0.999))
        if self.redis is not None:
            name = f"retaguarda:cnpj:rate:{key}:{bucket}"
            pipe = self.redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, self.window + 5)
            count = int(pipe.execute()[0])
        else:
            with self._lock:
                seen_bucket, count = self._counts.get(key, (bucket, 0))
                count = count + 1 if seen_bucket == bucket else 1
                self._counts[key] = (bucket, count)
                if len(self._counts) > 50_000:
                    self._counts = {k: v for k, v in self._counts.items() if v[0] == bucket}
        return 0 if count <= limit else retry_after
