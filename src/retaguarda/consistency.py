"""Read-your-writes for HTTP requests, applied once for every handler.

A request that writes must see its own writes in the read models, and so must the next request
of the same client (a redirect after a form post). Handlers used to call
`settle(request, saved.position)` after each command; now the container records every position
its services save (`Container.after_write`) in the running request's `Writes`, and the wait
happens by itself:

- before the request next reads a read model (the read engine's `engine_connect` hook), so a
  handler that writes and then reads back a row sees it;
- before the response starts (the ASGI middleware in `main`), so the next request sees it.

Outside a request (actors, the CLI, the seed) nothing is recorded and nothing waits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio.to_thread

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container


class Writes:
    """The highest log position written during one request, and the one already waited for."""

    __slots__ = ("position", "settled")

    def __init__(self) -> None:
        self.position = 0
        self.settled = 0

    @property
    def pending(self) -> int:
        """The position still to wait for (0 when the read models already include every write)."""
        return self.position if self.position > self.settled else 0


_WRITES: ContextVar[Writes | None] = ContextVar("retaguarda_request_writes", default=None)


@contextmanager
def tracking_writes() -> Iterator[Writes]:
    """Records the writes made while inside (sync handlers in worker threads share the object)."""
    writes = Writes()
    token = _WRITES.set(writes)
    try:
        yield writes
    finally:
        _WRITES.reset(token)


def record_write(position: int) -> None:
    writes = _WRITES.get()
    if writes is not None and position > writes.position:
        writes.position = position


def settle_pending(container: Container) -> None:
    """Waits (bounded) until the read models include the running request's writes, once."""
    writes = _WRITES.get()
    if writes is None or not writes.pending:
        return
    position = writes.settled = writes.position  # first: wait_for itself connects to the engine
    container.wait_for(position)


def read_your_writes_middleware(app: Any) -> Any:
    """ASGI: tracks the request's writes; before the response starts, waits for the pending ones."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        container = scope["app"].state.container

        with tracking_writes() as writes:

            async def send_settled(message: Any) -> None:
                if message["type"] == "http.response.start" and writes.pending:
                    position = writes.settled = writes.position
                    await anyio.to_thread.run_sync(container.wait_for, position)
                await send(message)

            await app(scope, receive, send_settled)

    return middleware
