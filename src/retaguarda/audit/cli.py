"""Audit commands for the `retaguarda audit ...` CLI: history, state (time travel) and verify.

Auditors run these on the server, so there is no tenant restriction. Each returns an exit code:
0 success, 1 tampering found (verify), 2 bad input or unknown record. Results go to stdout as
JSON; errors go to stderr as one line.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from retaguarda.audit import application as audit
from retaguarda.shared.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

OK, TAMPERED, USAGE = 0, 1, 2


def _print(data: Any, out: TextIO | None) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False), file=out or sys.stdout)


def _error(message: str, err: TextIO | None) -> int:
    print(f"error: {message}", file=err or sys.stderr)
    return USAGE


def history_command(container: Container, aggregate_id: str, *, out: TextIO | None = None,
                    err: TextIO | None = None) -> int:
    """Prints every event of the aggregate (oldest first) with its data and changes."""
    try:
        _print(audit.history(container.store, aggregate_id, None), out)
    except NotFoundError:
        return _error(f"no record with id {aggregate_id}", err)
    return OK


def state_command(container: Container, aggregate_id: str, version: Any = None, at: Any = None, *,
                  out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Prints the aggregate's state as of `--version N` or `--at TIME` (latest when neither)."""
    try:
        number = audit.parse_version(version, "version")
        instant = audit.parse_instant(at, "at")
        _print(audit.state(container.store, aggregate_id, None, version=number, at=instant), out)
    except NotFoundError:
        return _error(f"no record with id {aggregate_id}", err)
    except ValidationError as exc:
        return _error(f"--{exc.field}: {exc.message}", err)
    return OK


def verify_command(container: Container, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Recomputes the seal; exit 1 naming the first bad position when anything was tampered with."""
    result = audit.verify(container.store, container.engine)
    _print(result.as_dict(), out)
    if not result.ok:
        print(f"TAMPERED at position {result.first_bad_position}: {result.reason}",
              file=err or sys.stderr)
        return TAMPERED
    return OK


__all__ = ["history_command", "state_command", "verify_command"]
