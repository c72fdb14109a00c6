"""A small threaded HTTP server base for the billing fakes: routing, call log, faults on demand.

Faults are queued with `fail_next(...)` and consumed by the next matching request *before* the
fake executes it (like a proxy or overloaded front end answering for the provider):

    fake.fail_next(status=503, retry_after=2)         # one 503 with Retry-After
    fake.fail_next(status=500, times=2)               # two 500s
    fake.fail_next(delay=1.5)                         # answer late (client timeouts)
    fake.fail_next(malformed=True)                    # 200 with a garbled body
    fake.fail_next(drop=True)                         # close the socket without answering
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    fault: bool = False

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Fault:
    status: int = 500
    retry_after: str | None = None
    body: bytes | None = None
    delay: float = 0.0
    malformed: bool = False
    drop: bool = False
    path: str | None = None  # regex on the path; None matches every request


@dataclass
class Response:
    status: int
    body: Any = None  # dict/list → JSON; bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


Route = tuple[str, "re.Pattern[str]", Callable[..., Response]]


class FakeHttpServer:
    """Subclasses register routes in `routes()`; handlers get (call, **path groups) → Response."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._faults: list[Fault] = []
        self.lock = threading.RLock()
        self._routes: list[Route] = [(m, re.compile(f"^{p}$"), h) for m, p, h in self.routes()]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return None

            def _handle(self) -> None:
                outer._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name=f"{self.name}-server", daemon=True)

    def routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        return []

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> "FakeHttpServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Idempotent; safe on a server that was never started."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> "FakeHttpServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # control ---------------------------------------------------------------------------------
    def fail_next(self, status: int = 500, *, times: int = 1, retry_after: int | str | None = None,
                  body: bytes | dict | None = None, delay: float = 0.0, malformed: bool = False,
                  drop: bool = False, path: str | None = None) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        with self.lock:
            for _ in range(times):
                after = None if retry_after is None else str(retry_after)
                self._faults.append(Fault(status=status, retry_after=after, body=raw, delay=delay,
                                          malformed=malformed, drop=drop, path=path))

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and re.fullmatch(path_regex, c.path)]

    # dispatch --------------------------------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for i, fault in enumerate(self._faults):
                if fault.path is None or re.fullmatch(fault.path, path):
                    return self._faults.pop(i)
        return None

    def _dispatch(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        call = Call(method=req.command, path=parts.path, query=query,
                    headers={k.lower(): v for k, v in req.headers.items()}, body=body)
        with self.lock:
            self.calls.append(call)
        fault = self._take_fault(parts.path)
        if fault is not None:
            call.fault = True
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                try:
                    req.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                req.close_connection = True
                return
            if fault.malformed:
                response = Response(200, b'{"id": "trunc', content_type="application/json")
            else:
                default = {"error": {"type": "api_error", "message": "injected fault"},
                           "message": "injected fault"}
                response = Response(fault.status, fault.body if fault.body is not None else default)
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = fault.retry_after
            self._send(req, call, response)
            return
        for method, pattern, handler in self._routes:
            match = pattern.match(parts.path)
            if match and method == req.command:
                try:
                    response = handler(call, **match.groupdict())
                except Exception as exc:  # a bug in the fake should be loud, not a hang
                    response = Response(500, {"error": {"type": "fake_bug", "message": repr(exc)}})
                break
        else:
            response = Response(404, {"error": {"type": "invalid_request_error", "message": "no such route"}})
        self._send(req, call, response)

    def _send(self, req: BaseHTTPRequestHandler, call: Call, response: Response) -> None:
        call.status = response.status
        if isinstance(response.body, (dict, list)):
            payload = json.dumps(response.body).encode()
        elif isinstance(response.body, str):
            payload = response.body.encode()
        else:
            payload = response.body or b""
        try:
            req.send_response(response.status)
            req.send_header("Content-Type", response.content_type)
            req.send_header("Content-Length", str(len(payload)))
            for key, value in response.headers.items():
                req.send_header(key, value)
            req.end_headers()
            req.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass
