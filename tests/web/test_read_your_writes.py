"""Read-your-writes without calls in handlers (`retaguarda.consistency`): a request's writes are in
the read models before it reads them back and before its response starts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from retaguarda.consistency import read_your_writes_middleware, record_write, settle_pending, tracking_writes


class FakeContainer:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def wait_for(self, position: int, timeout: float | None = None) -> bool:
        self.log.append(("wait_for", position))
        return True


def test_a_request_waits_once_for_its_highest_write_and_nothing_outside_a_request() -> None:
    log: list[Any] = []
    container: Any = FakeContainer(log)
    record_write(9)  # not in a request: nothing recorded
    settle_pending(container)
    assert log == []
    with tracking_writes() as writes:
        record_write(3)
        record_write(7)
        record_write(5)
        assert writes.pending == 7
        settle_pending(container)
        settle_pending(container)  # already settled: no second wait
        record_write(8)
        settle_pending(container)
    assert log == [("wait_for", 7), ("wait_for", 8)]


def test_the_middleware_waits_before_the_response_starts() -> None:
    log: list[Any] = []
    container = FakeContainer(log)

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        record_write(42)  # what a service save does through Container.after_write
        await send({"type": "http.response.start", "status": 303, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        log.append(message["type"])

    app = read_your_writes_middleware(handler)
    scope = {"type": "http", "app": SimpleNamespace(state=SimpleNamespace(container=container))}
    # In a thread of its own: a session-wide browser fixture may hold this thread's event loop.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, None, send)).result()
    assert log == [("wait_for", 42), "http.response.start", "http.response.body"]


@pytest.mark.e2e
def test_a_created_customer_is_read_back_and_listed_although_the_projector_lags(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from retaguarda.main import create_app
    from tests.conftest import build_container
    from tests.integrations.helpers import install_test_authenticator

    container = build_container(tmp_path / "var")
    runner = container.runner
    original = runner.run_once

    def slow_run_once(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.2)  # the projector thread is always a little behind
        return original(*args, **kwargs)

    runner.run_once = slow_run_once  # type: ignore[method-assign]
    runner.start_thread()
    install_test_authenticator(container)
    admin = {"x-test-role": "admin"}
    try:
        with TestClient(create_app(container), base_url="http://127.0.0.1:8000") as client:
            for i in range(3):
                document = ["11222333000181", "19131243000197", "11444777000161"][i]
                r = client.post("/api/v1/customers", headers=admin, json={
                    "name": f"Lagging {i}", "kind": "company", "document": document,
                    "email": f"c{i}@lag.test", "phones": ["(11) 98765-4321"], "plan": "Empresarial 1G",
                    "address": {"uf": "SP", "ibge_code": "3550308", "cep": "01001-000"}})
                # the handler read its row back from the read model: it waited for its write
                assert r.status_code == 201, r.text
                # and the next request sees it too
                listed = client.get("/api/v1/customers?search=lagging", headers=admin).json()
                assert listed["total"] == i + 1
    finally:
        container.close()
