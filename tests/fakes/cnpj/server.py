"""Fake CNPJ provider servers on 127.0.0.1 (real sockets, one thread each).

    with fake_providers() as fakes:                 # {"cnpjws": FakeProvider, ...}
        fakes["cnpjws"].add(sample_company())
        fakes["cnpjws"].fail_next(2, status=503)    # transient faults, then normal answers
        fakes["cnpjws"].rate_limit(3, window=60, retry_after="20")   # 3 requests per window, then 429
        fakes["brasilapi"].delay = 6.0              # slower than the client's 5 s budget
        fakes["receitaws"].malformed_next(1)        # a body that is not JSON
        fakes["cnpjws"].requests                    # paths asked, in order
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.cnpj.companies import RENDER, Company

PATHS = {"cnpjws": "/cnpj/", "brasilapi": "/api/cnpj/v1/", "receitaws": "/v1/cnpj/"}


class FakeProvider:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.companies: dict[str, Company] = {}
        self.requests: list[str] = []
        self.faults: list[tuple[int, str]] = []
        self.malformed = 0
        self.delay = 0.0
        self.limit: tuple[int, float, str | None] | None = None
        self._window: list[float] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # Configuration --------------------------------------------------------------------
    def add(self, company: Company) -> None:
        self.companies[company.cnpj] = company

    def fail_next(self, n: int = 1, status: int = 503, body: str = "upstream error") -> None:
        self.faults.extend([(status, body)] * n)

    def malformed_next(self, n: int = 1) -> None:
        self.malformed += n

    def rate_limit(self, limit: int, window: float = 60.0, retry_after: str | None = None) -> None:
        self.limit = (limit, window, retry_after)
        self._window = []

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def calls(self) -> int:
        return len(self.requests)

    # Server ---------------------------------------------------------------------------
    def start(self) -> "FakeProvider":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                status, headers, body = fake.answer(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.requests.append(path)
            delay = self.delay
        if delay:
            time.sleep(delay)
        prefix = PATHS[self.kind]
        if not path.startswith(prefix):
            return _json(404, {"message": "Page not found.", "type": "not_found", "name": "NotFoundError"})
        cnpj = path[len(prefix):].split("?")[0]
        with self.lock:
            if self.limit is not None:
                limit, window, retry_after = self.limit
                now = time.monotonic()
                self._window = [t for t in self._window if now - t < window]
                if len(self._window) >= limit:
                    return self._too_many(retry_after)
                self._window.append(now)
            if self.faults:
                status, body = self.faults.pop(0)
                return status, {"Content-Type": "text/plain"}, body.encode()
            if self.malformed:
                self.malformed -= 1
                return 200, {"Content-Type": "application/json"}, b"<html>Bad gateway</html>"
        return self._lookup(cnpj)

    def _too_many(self, retry_after: str | None) -> tuple[int, dict[str, str], bytes]:
        headers = {"Retry-After": retry_after} if retry_after else {}
        if self.kind == "brasilapi":  # plain text, as reported in BrasilAPI#835
            return 429, {"Content-Type": "text/plain", "x-vercel-mitigated": "deny", **headers}, b"Too Many Requests"
        status, h, body = _json(429, {"status": 429, "titulo": "Muitas requisições",
                                      "detalhes": "Excedido o limite máximo de 3 consultas por minuto"})
        return status, {**h, **headers}, body

    def _lookup(self, cnpj: str) -> tuple[int, dict[str, str], bytes]:
        valid = len(cnpj) == 14 and (cnpj.isdigit() or self.kind == "brasilapi")
        if self.kind == "receitaws":
            if not valid:
                return _json(200, {"status": "ERROR", "message": "CNPJ inválido"})
            company = self.companies.get(cnpj)
            if company is None:
                return _json(200, {"status": "ERROR", "message": "CNPJ rejeitado pela Receita Federal"})
            return _json(200, RENDER["receitaws"](company))
        if not valid:
            if self.kind == "cnpjws":
                return _json(400, {"status": 400, "titulo": "Requisição inválida", "detalhes": "CNPJ inválido"})
            return _json(400, {"message": f"CNPJ {cnpj} inválido.", "name": "BadRequestError", "type": "bad_request"})
        company = self.companies.get(cnpj)
        if company is None:
            if self.kind == "cnpjws":
                return _json(404, {"status": 404, "titulo": "Não encontrado", "detalhes": "CNPJ não encontrado"})
            return _json(404, {"message": f"CNPJ {cnpj} não encontrado.", "name": "NotFoundError",
                               "type": "not_found"})
        return _json(200, RENDER[self.kind](company))


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()


@contextmanager
def fake_providers() -> Iterator[dict[str, FakeProvider]]:
    with ExitStack() as stack:
        fakes = {}
        for kind in ("cnpjws", "brasilapi", "receitaws"):
            fake = FakeProvider(kind).start()
            stack.callback(fake.stop)
            fakes[kind] = fake
        yield fakes
