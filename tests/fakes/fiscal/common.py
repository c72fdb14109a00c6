"""Shared pieces of the fiscal fakes: a threaded HTTP(S) server on 127.0.0.1 and fault injection."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    kind: str  # "timeout" | "timeout_after" | "500" | "503" | "429" | "malformed" | "e999" | "reset"
    path: str | None = None
    retry_after: float | None = None
    delay: float = 3.0


@dataclass
class Control:
    """Fault injection and request log. `fail_next("429", retry_after=2)`, `fail_next("timeout",
    path="/nfse")`; each fault is used once, by the next request whose path contains `path`."""

    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, kind: str, *, times: int = 1, path: str | None = None,
                  retry_after: float | None = None, delay: float = 3.0) -> None:
        with self.lock:
            self.faults.extend(Fault(kind, path, retry_after, delay) for _ in range(times))

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for i, f in enumerate(self.faults):
                if f.path is None or f.path in path:
                    return self.faults.pop(i)
        return None

    def log(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": headers, "body": body,
                                  "at": time.monotonic()})

    def count(self, method: str, path_part: str) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r["method"] == method and path_part in r["path"])


class Handler(BaseHTTPRequestHandler):
    """Dispatches to `server.app(handler, method, path, body) -> (status, headers, bytes)`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        server: FakeHttpServer = self.server.owner  # type: ignore[attr-defined]
        path = self.path
        server.control.log(self.command, path, dict(self.headers), body)
        fault = server.control.take_fault(path)
        if fault is not None and fault.kind in ("timeout", "reset"):
            if fault.kind == "reset":
                self.close_connection = True
                self.connection.close()
                return
            time.sleep(fault.delay)
            return self._reply(504, {}, b"")
        if fault is not None and fault.kind in ("500", "503"):
            return self._reply(int(fault.kind), {"Content-Type": "text/html"},
                               b"<html><body>Internal Server Error</body></html>")
        if fault is not None and fault.kind == "429":
            headers = {"Content-Type": "application/json"}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(int(fault.retry_after))
            return self._reply(429, headers, b'{"codigo":"limite_excedido","mensagem":"Too many requests"}')
        if fault is not None and fault.kind == "malformed":
            return self._reply(200 if self.command == "GET" else 201,
                               {"Content-Type": "application/json"}, b'{"chaveAcesso": "123", ')
        if fault is not None and fault.kind == "e999":
            return self._reply(400, {"Content-Type": "application/json"},
                               b'{"erros":[{"Codigo":"E999","Descricao":"Erro n\\u00e3o catalogado"}]}')
        status, headers, content = server.app(self, self.command, path, body)
        if fault is not None and fault.kind == "timeout_after":
            time.sleep(fault.delay)  # processed, but the client gives up before the answer
        self._reply(status, headers, content)

    def _reply(self, status: int, headers: dict[str, str], content: bytes) -> None:
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # TLS refusals are expected
        pass


class FakeHttpServer:
    """HTTP (or HTTPS with `ssl_context`) on 127.0.0.1:<ephemeral>, served from a thread."""

    def __init__(self, app: Callable[..., tuple[int, dict[str, str], bytes]], *,
                 ssl_context: ssl.SSLContext | None = None, control: Control | None = None) -> None:
        self.app = app
        self.control = control or Control()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.owner = self  # type: ignore[attr-defined]
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True,
                                                          do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self.scheme = "https" if ssl_context else "http"
        self.base_url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> FakeHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()
