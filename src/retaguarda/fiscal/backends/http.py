"""HTTP plumbing shared by the NFS-e adapters: one exchange = one redacted CallRecord; transport
faults, 5xx, 429 and unreadable bodies become TransientBackendError (Retry-After honoured).

Redaction, Retry-After and the call record come from the integration kit
(`retaguarda.integrations.http`); this module only adds the per-operation bookkeeping."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from retaguarda.fiscal.backends.base import CallRecord, TransientBackendError
from retaguarda.integrations.http import redact_url, render_body, render_content, retry_after_from


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def response_text(resp: Response) -> str:
    return render_content(resp.content, resp.headers.get("content-type", ""))


class Exchanger:
    """Sends requests through `client` and records each one in `self.calls`."""

    def __init__(self, client_factory: Any, clock: Any) -> None:
        self._client_factory = client_factory
        self._client: httpx.Client | None = None
        self.clock = clock
        self._local = threading.local()
        self._client_lock = threading.Lock()

    @property
    def calls(self) -> list[CallRecord]:
        """Calls of the current operation, per thread (one backend may serve several workers)."""
        calls = getattr(self._local, "calls", None)
        if calls is None:
            calls = self._local.calls = []
        return calls

    @calls.setter
    def calls(self, value: list[CallRecord]) -> None:
        self._local.calls = value

    @property
    def client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def take_calls(self) -> list[CallRecord]:
        calls, self.calls = self.calls, []
        return calls

    def send(self, operation: str, method: str, url: str, *, json_body: Any = None,
             headers: dict[str, str] | None = None, logged_request: Any = None,
             ok_statuses: tuple[int, ...] = ()) -> Response:
        """Returns the response for 2xx/4xx (except 429); raises TransientBackendError for
        transport faults, 429 and 5xx (with all calls so far)."""
        started = self.clock.now()
        t0 = time.perf_counter()
        record = CallRecord(operation=operation, method=method, url=redact_url(url),
                            request=render_body(logged_request if logged_request is not None else json_body),
                            status=None, response=None, duration_ms=0, started_at=started)
        self.calls.append(record)
        try:
            resp = self._do(method, url, json_body, headers or {})
        except httpx.TimeoutException as exc:
            record.duration_ms = int((time.perf_counter() - t0) * 1000)
            record.error = f"timeout: {type(exc).__name__}"
            raise TransientBackendError(f"{operation}: timeout talking to the provider",
                                        calls=self.take_calls()) from None
        except (httpx.TransportError, OSError) as exc:
            record.duration_ms = int((time.perf_counter() - t0) * 1000)
            record.error = f"connection error: {type(exc).__name__}: {str(exc)[:200]}"
            raise TransientBackendError(f"{operation}: connection error ({type(exc).__name__})",
                                        calls=self.take_calls()) from None
        record.duration_ms = int((time.perf_counter() - t0) * 1000)
        record.status = resp.status
        record.response = response_text(resp)
        if resp.status == 429 or resp.status >= 500:
            record.error = f"HTTP {resp.status}"
            raise TransientBackendError(f"{operation}: provider answered HTTP {resp.status}",
                                        retry_after=retry_after_from(resp.headers, now=self.clock.now()),
                                        calls=self.take_calls())
        return resp

    def _do(self, method: str, url: str, json_body: Any, headers: dict[str, str]) -> Response:
        r = self.client.request(method, url, json=json_body, headers=headers)
        return Response(r.status_code, r.headers, r.content)

    def malformed(self, operation: str, detail: str) -> TransientBackendError:
        if self.calls:
            self.calls[-1].error = f"malformed answer: {detail}"
        return TransientBackendError(f"{operation}: unreadable answer from the provider ({detail})",
                                     calls=self.take_calls())


def json_of(ex: Exchanger, resp: Response, operation: str) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise ex.malformed(operation, f"HTTP {resp.status} body is not JSON") from None
