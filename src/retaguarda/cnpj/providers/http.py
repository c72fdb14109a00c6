"""What the three HTTP clients share: timeouts, retries with backoff on transient faults only,
and turning 429 / Retry-After into `RateLimited`."""

from __future__ import annotations

import time
from typing import Any

import httpx

from retaguarda.cnpj.providers import (
    LookupResult,
    MalformedAnswer,
    ProviderAuthError,
    ProviderError,
    RateLimited,
    RejectedByProvider,
    TransientProviderError,
    Unsupported,
)
from retaguarda.integrations.errors import classify_status
from retaguarda.integrations.http import make_client, parse_retry_after

CONNECT_TIMEOUT = 2.0
TOTAL_TIMEOUT = 5.0
USER_AGENT = "retaguarda-cnpj/1.0 (+https://github.com/retaguarda)"


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
        self.client = client or make_client(
            timeout=total_timeout, connect_timeout=connect_timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
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
            wait = parse_retry_after(response.headers.get("retry-after"), default=self.default_retry_after)
            assert wait is not None  # a default is given
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
        """A status the vendor parser has no meaning for, classified by the kit's one rule
        (`integrations.errors.classify_status`); 403 and 408 were made transient above."""
        status = response.status_code
        message = f"{self.name} answered HTTP {status}"
        kind = classify_status(status)
        if kind == "transient":
            return TransientProviderError(message, status=status)
        if kind == "auth":
            return ProviderAuthError(message, status=status)
        return RejectedByProvider(message, status=status)
