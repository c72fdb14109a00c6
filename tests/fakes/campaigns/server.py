"""The plumbing every fake campaign provider shares: a real HTTP server on 127.0.0.1.

A `FakeProvider` is an asyncio HTTP/1.1 server (keep-alive) running its own event loop in a
daemon thread — no thread per connection, so it keeps up with many worker processes in the
100k-message bench — with:

- routes: `(method, regex) -> handler(request) -> Reply`;
- a ledger of what was delivered, keyed by the idempotency key the client sent: `received`
  (first payload per key, in arrival order), `attempts` (every request per key, replays
  included), `by_recipient` (deliveries per phone/e-mail) — so a test asserts exactly-once;
- fault injection, consumed in order by the next requests whose path matches `path` (a regex,
  searched; None matches all): `fail_next(n, status)`,
  `throttle_next(n, retry_after)`, `timeout_next(n, delay)` (answers only after `delay`),
  `timeout_after_accept_next(n, delay)` (records the message, then stalls: the client times out
  and must retry with the same key), `drop_next(n)` (closes the socket), `malformed_next(n)`;
- admin endpoints for fakes running as another process (`python -m tests.fakes.campaigns.<name>
  --port N`): `GET /_fake/state`, `GET /_fake/received`, `POST /_fake/faults`, `POST /_fake/reset`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class Fault:
    kind: str  # status | timeout | timeout_after_accept | drop | malformed
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    path: str | None = None
    body: Any = None


Handler = Callable[[Request], Reply]


class FakeProvider:
    """Base of every fake; subclasses register routes in `setup_routes`."""

    name = "fake"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.lock = threading.RLock()
        self.latency = latency
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []
        self.received: dict[str, Any] = {}
        self.attempts: Counter[str] = Counter()
        self.by_recipient: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self.setup_routes()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(1024)
        self._sock.setblocking(False)
        self.host, self.port = self._sock.getsockname()[:2]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FakeProvider":
        self._thread = threading.Thread(target=self._run, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        self._started.wait(10)
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._connection, sock=self._sock,
                                                              limit=MAX_HEADER_BYTES))
        self._started.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> "FakeProvider":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- routes and ledger -----------------------------------------------------------------

    def setup_routes(self) -> None:
        """Subclasses call `self.route(method, pattern, handler)`."""

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def deliver(self, key: str, payload: Any, recipient: str | None) -> bool:
        """Records a delivery under `key`; False if the key was already delivered (a replay)."""
        with self.lock:
            self.attempts[key] += 1
            if key in self.received:
                return False
            self.received[key] = payload
            if recipient:
                self.by_recipient[recipient] += 1
            return True

    def duplicates(self) -> dict[str, int]:
        """Recipients that got more than one message (should always be empty)."""
        with self.lock:
            return {r: n for r, n in self.by_recipient.items() if n > 1}

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.received.clear()
            self.attempts.clear()
            self.by_recipient.clear()
            self.requests.clear()
            self.faults_served.clear()
            self.reset_state()

    def reset_state(self) -> None:
        """Subclasses clear their own state."""

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"name": self.name, "received": len(self.received),
                    "attempts": sum(self.attempts.values()),
                    "replays": sum(self.attempts.values()) - len(self.received),
                    "recipients": len(self.by_recipient), "duplicates": len(self.duplicates()),
                    "requests": dict(self.requests), "faults_pending": len(self.faults),
                    "faults_served": dict(self.faults_served)}

    # --- faults ----------------------------------------------------------------------------

    def inject(self, kind: str, count: int = 1, *, status: int = 500, retry_after: float | None = None,
               delay: float = 0.0, path: str | None = None, body: Any = None) -> None:
        with self.lock:
            self.faults.extend(Fault(kind, status, retry_after, delay, path, body) for _ in range(count))

    def fail_next(self, count: int = 1, status: int = 500, *, path: str | None = None, body: Any = None) -> None:
        self.inject("status", count, status=status, path=path, body=body)

    def throttle_next(self, count: int = 1, retry_after: float = 1, *, path: str | None = None) -> None:
        self.inject("status", count, status=429, retry_after=retry_after, path=path)

    def timeout_next(self, count: int = 1, delay: float = 2.0, *, path: str | None = None) -> None:
        self.inject("timeout", count, delay=delay, path=path)

    def timeout_after_accept_next(self, count: int = 1, delay: float = 2.0, *, path: str | None = None) -> None:
        self.inject("timeout_after_accept", count, delay=delay, path=path)

    def drop_next(self, count: int = 1, *, path: str | None = None) -> None:
        self.inject("drop", count, path=path)

    def malformed_next(self, count: int = 1, *, path: str | None = None) -> None:
        self.inject("malformed", count, path=path)

    def _take_fault(self, path: str) -> Fault | None:
        if path.startswith("/_fake/"):
            return None
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.path is None or re.search(fault.path, path):
                    self.faults_served[fault.kind] += 1
                    return self.faults.pop(i)
        return None

    def error_body(self, status: int, retry_after: float | None) -> Any:
        """Vendor-shaped error body for injected status faults (overridden per vendor)."""
        return {"error": {"code": "injected", "message": f"injected HTTP {status}"}}

    # --- serving ---------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                split = urlsplit(target)
                request = Request(method=method, path=split.path,
                                  query={k: v[-1] for k, v in parse_qs(split.query).items()},
                                  headers=headers, body=body)
                keep_alive = headers.get("connection", "").lower() != "close"
                if not await self._serve(request, writer):
                    return
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:  # the fake is stopping
            return
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the peer may be gone already
                pass

    async def _serve(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        """Answers one request; False when the connection must be dropped."""
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take_fault(request.path)
        with self.lock:
            self.requests[f"{request.method} {_route_name(request.path)}"] += 1
        if fault is not None and fault.kind == "drop":
            writer.transport.abort()
            return False
        if fault is not None and fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            reply = Reply(504, {"error": {"code": "timeout", "message": "gateway timeout"}})
        elif fault is not None and fault.kind == "malformed":
            reply = Reply(200, raw=b"<html><body>502 Bad Gateway</body></html", headers={"Content-Type": "text/html"})
        elif fault is not None and fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            body = fault.body if fault.body is not None else self.error_body(fault.status, fault.retry_after)
            reply = Reply(fault.status, body, headers)
        else:
            reply = self._dispatch(request)
            if fault is not None:  # timeout_after_accept: the work is done; the answer arrives too late
                await asyncio.sleep(fault.delay)
        writer.write(self._encode(reply))
        await writer.drain()
        return True

    def _dispatch(self, request: Request) -> Reply:
        if request.path.startswith("/_fake/"):
            return self._admin(request)
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match:
                allowed = True
                if method == request.method:
                    request.match = match
                    try:
                        return handler(request)
                    except (ValueError, KeyError, TypeError) as exc:
                        return Reply(400, {"error": {"code": "bad_request", "message": str(exc)[:200]}})
        return Reply(405 if allowed else 404, {"error": {"code": "not_found", "message": request.path}})

    def _admin(self, request: Request) -> Reply:
        if request.path == "/_fake/state":
            return Reply(200, self.state())
        if request.path == "/_fake/received":
            with self.lock:
                return Reply(200, {"attempts": dict(self.attempts), "by_recipient": dict(self.by_recipient),
                                   "keys": list(self.received)})
        if request.path == "/_fake/reset" and request.method == "POST":
            self.reset()
            return Reply(200, {"ok": True})
        if request.path == "/_fake/faults" and request.method == "POST":
            spec = request.json() or {}
            self.inject(spec.pop("kind", "status"), int(spec.pop("count", 1)), **spec)
            return Reply(200, {"pending": len(self.faults)})
        return self.admin_extra(request) or Reply(404, {"error": "unknown admin endpoint"})

    def admin_extra(self, request: Request) -> Reply | None:
        return None

    @staticmethod
    def _encode(reply: Reply) -> bytes:
        if reply.raw is not None:
            data = reply.raw
            content_type = reply.headers.get("Content-Type", "application/octet-stream")
        elif reply.body is None:
            data, content_type = b"", "application/json"
        else:
            data, content_type = json.dumps(reply.body).encode(), "application/json"
        lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}",
                 f"Content-Type: {content_type}", f"Content-Length: {len(data)}"]
        lines += [f"{k}: {v}" for k, v in reply.headers.items() if k != "Content-Type"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


_REASONS = {s.value: s.phrase for s in HTTPStatus}
MAX_HEADER_BYTES = 64 * 1024


def _route_name(path: str) -> str:
    # collapse ids so request counters stay small: /v1/phones/+55.../agentMessages -> /v1/phones/*/agentMessages
    return re.sub(r"/(\+?\d[\w.-]*|[0-9a-f-]{16,}|[a-z]+_[\w-]{6,})(?=/|$)", "/*", path)


def bearer(request: Request) -> str | None:
    value = request.header("Authorization") or ""
    return value[7:] if value.startswith("Bearer ") else None


def run_cli(factory: Callable[..., FakeProvider], argv: list[str] | None = None,
            extra: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """`python -m tests.fakes.campaigns.<name> --port N`: serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=f"fake {factory.__name__}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    if extra:
        extra(parser)
    args = vars(parser.parse_args(argv))
    fake = factory(**args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    print(json.dumps({"name": fake.name, "base_url": fake.base_url}), flush=True)
    sys.stdout.flush()
    stop.wait()
    fake.stop()
