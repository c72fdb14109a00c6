"""What the three HTTP clients share: timeouts, retries with backoff on transient faults only,
and turning 429 / Retry-After into `RateLimited`."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from retaguarda.cnpj.providers import (
    LookupResult,
    MalformedAnswer,
    ProviderError,
    RateLimited,
    TransientProviderError,
    Unsupported,
)

CONNECT_TIMEOUT = 2.0
TOTAL_TIMEOUT = 5.0
USER_AGENT = "retaguarda-cnpj/1.0 (+https://github.com/retaguarda)"


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); `default` when absent."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    from datetime import datetime, timezone

    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class HttpProvider:
    """Subclasses set `name`, `path(cnpj)`, `default_retry_after` and `interpret(response)`."""

    name = "http"
    supports_alphanumeric = False
    default_retry_after = 20.0
    retries = 2
    backoff = 0.2

    def __init__(self, base_url: str, *, client: httpx.Client | None = None,
                 retries: int | None = None, backoff: float | None = None,
                 total_timeout: float = TOTAL_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.total_timeout = total_timeout
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(total_timeout, connect=connect_timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )
        if retries is not None:
            self.retries = retries
        if backoff is not None:
            self.backoff = backoff
        self.last_tries = 0

    def path(self, cnpj: str) -> str:
        raise NotImplementedError

    def interpret(self, cnpj: str, response: httpx.Response) -> LookupResult:
        raise NotImplementedError

    def close(self) -> None:
        self.client.close()

    def lookup(self, cnpj: str) -> LookupResult:
        if not cnpj.isdigit() and not self.supports_alphanumeric:
            raise Unsupported(f"{self.name} cannot look up alphanumeric CNPJs (it accepts 14 digits only)")
        started = time.monotonic()
        tries = 0
        while True:
            tries += 1
            self.last_tries = tries
            try:
                return self._once(cnpj, started)
            except TransientProviderError:
                elapsed = time.monotonic() - started
                delay = self.backoff * (2 ** (tries - 1))
                # The whole lookup, retries included, stays within the total budget.
                if tries > self.retries or elapsed + delay >= self.total_timeout:
                    raise
                time.sleep(delay)

    def _once(self, cnpj: str, started: float) -> LookupResult:
        remaining = max(0.1, self.total_timeout - (time.monotonic() - started))
        timeout = httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT, remaining))
        url = f"{self.base_url}{self.path(cnpj)}"
        try:
            response = self.client.get(url, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise TransientProviderError(f"{self.name} timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise TransientProviderError(f"{self.name} unreachable ({type(exc).__name__})") from None
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("retry-after"), self.default_retry_after)
            raise RateLimited(f"{self.name} rate limit (429); retry after {wait:.0f}s", wait)
        if response.status_code >= 500 or response.status_code in (403, 408):
            raise TransientProviderError(f"{self.name} answered HTTP {response.status_code}",
                                         status=response.status_code)
        return self.interpret(cnpj, response)

    @staticmethod
    def json_of(response: httpx.Response, name: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise MalformedAnswer(f"{name} answered HTTP {response.status_code} with a body that is not JSON",
                                  status=response.status_code) from None

    def unexpected(self, response: httpx.Response) -> ProviderError:
        return ProviderError(f"{self.name} answered HTTP {response.status_code}", status=response.status_code)
