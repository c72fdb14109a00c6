"""Failed-login limiter: in-memory windows, and the Redis implementation on a real server."""

from __future__ import annotations

import uuid

import pytest

from retaguarda.identity.throttle import LoginThrottle, MemoryLimiter, RedisLimiter
from retaguarda.shared.errors import TooManyRequestsError
from tests.conftest import REDIS_URL, require_service


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _exercise(limiter) -> None:
    throttle = LoginThrottle(limiter, account_limit=3, ip_limit=5)
    # Given three failures for one account
    for _ in range(3):
        throttle.check("ana@x.test", "10.0.0.1")
        throttle.failed("ana@x.test", "10.0.0.1")
    # Then that account is throttled, another account from another IP is not
    with pytest.raises(TooManyRequestsError) as err:
        throttle.check("ana@x.test", "10.0.0.2")
    assert err.value.retry_after > 0
    throttle.check("bob@x.test", "10.0.0.2")
    # And two more failures from the first IP throttle the IP for everyone
    throttle.failed("bob@x.test", "10.0.0.1")
    throttle.failed("carol@x.test", "10.0.0.1")
    with pytest.raises(TooManyRequestsError):
        throttle.check("dave@x.test", "10.0.0.1")
    # And a success clears the account's count
    throttle.succeeded("bob@x.test")
    throttle.check("bob@x.test", "10.0.0.3")


def test_the_memory_limiter_counts_per_key_and_forgets_after_the_window():
    clock = Clock()
    limiter = MemoryLimiter(window=60, now=clock)
    _exercise(limiter)
    assert limiter.retry_after("acct:ana@x.test", 3) == 60
    clock.t += 60
    assert limiter.retry_after("acct:ana@x.test", 3) == 0
    assert limiter.hit("acct:ana@x.test") == 1  # a fresh window


@pytest.mark.integration
def test_the_redis_limiter_shares_counts_with_incr_and_expire():
    require_service("redis")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    namespace = f"rg:test:{uuid.uuid4().hex}:"
    limiter = RedisLimiter(client, window=60, namespace=namespace)
    try:
        _exercise(limiter)
        # A second process (another limiter on the same Redis) sees the same counts
        other = RedisLimiter(redis.Redis.from_url(REDIS_URL), window=60, namespace=namespace)
        assert 0 < other.retry_after("acct:ana@x.test", 3) <= 60
        assert 0 < client.ttl(namespace + "acct:ana@x.test") <= 60
    finally:
        for key in client.scan_iter(namespace + "*"):
            client.delete(key)


def test_an_unreachable_redis_does_not_block_logins():
    # Given a limiter pointing at a port where nothing listens
    limiter = RedisLimiter.from_url("redis://127.0.0.1:1/0")
    throttle = LoginThrottle(limiter)
    # Then checks pass and failures are only logged
    throttle.failed("ana@x.test", "10.0.0.1")
    throttle.check("ana@x.test", "10.0.0.1")
    throttle.succeeded("ana@x.test")


def test_failures_bring_progressive_delays_not_a_lock():
    """#20 defect 7: from the limit on, each failure doubles a short wait; once it has passed the
    right password works again (no 15-minute lock for the real user)."""
    from retaguarda.identity.throttle import DELAY_CAP, progressive_delay

    assert [progressive_delay(n, 5) for n in (0, 4, 5, 6, 7)] == [0, 0, 1, 2, 4]
    assert progressive_delay(60, 5) == DELAY_CAP
    clock = Clock()
    throttle = LoginThrottle(MemoryLimiter(window=900, now=clock), account_limit=5, ip_limit=100)
    for _ in range(6):
        throttle.failed("ana@x.test", "10.0.0.1")
    with pytest.raises(TooManyRequestsError) as err:
        throttle.check("ana@x.test", "10.0.0.9")
    assert err.value.retry_after == 2  # six failures: 2 s after the last one
    clock.t += 2
    throttle.check("ana@x.test", "10.0.0.9")  # the wait is over: the attempt may go ahead
    throttle.failed("ana@x.test", "10.0.0.9")
    with pytest.raises(TooManyRequestsError) as err:
        throttle.check("ana@x.test", "10.0.0.9")
    assert err.value.retry_after == 4


def test_the_redis_limiter_delays_progressively_too():
    require_service("redis")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    namespace = f"rg:test:{uuid.uuid4().hex}:"
    limiter = RedisLimiter(client, window=60, namespace=namespace)
    try:
        for _ in range(3):
            limiter.hit("acct:x")
        assert limiter.wait("acct:x", 3) == 1 and limiter.wait("acct:x", 4) == 0
        limiter.reset("acct:x")
        assert limiter.wait("acct:x", 3) == 0
    finally:
        client.delete(namespace + "acct:x", namespace + "acct:x:last")
