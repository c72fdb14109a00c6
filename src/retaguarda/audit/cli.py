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


def verify_command(container: Container, checkpoints: str | None = None, *, out: TextIO | None = None,
                   err: TextIO | None = None) -> int:
    """Recomputes the keyed seal; with `--checkpoints FILE` (an export kept by the auditor) also
    checks each signed checkpoint (signature under the file's public key, and the chain head at its
    position). Exit 1 naming the first bad position when anything was tampered with."""
    kept: dict[int, str] = {}
    if checkpoints is not None:
        try:
            kept = _load_checkpoints(checkpoints)
        except ValueError as exc:
            print(f"TAMPERED or unusable checkpoints: {exc}", file=err or sys.stderr)
            return TAMPERED
        except OSError as exc:
            return _error(f"--checkpoints: {exc}", err)
    result = audit.verify(container.store, container.engine, audit.seal_key_of(container.settings), kept)
    _print({**result.as_dict(), "checkpoints_checked": len(kept)}, out)
    if not result.ok:
        print(f"TAMPERED at position {result.first_bad_position}: {result.reason}",
              file=err or sys.stderr)
        return TAMPERED
    return OK


def _load_checkpoints(path: str) -> dict[int, str]:
    """position → hash of every checkpoint in an export whose signature verifies; ValueError when
    the file is malformed or any signature is wrong (a forged or edited export)."""
    from projections.audit.seal import signature_is_valid

    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("checkpoints"), list):
        raise ValueError(f"{path} is not a checkpoint export (no checkpoints list)")
    public_key = str(data.get("public_key") or "")
    kept: dict[int, str] = {}
    for cp in data["checkpoints"]:
        if not isinstance(cp, dict) or not signature_is_valid(public_key, cp):
            raise ValueError(f"checkpoint {cp.get('position') if isinstance(cp, dict) else cp!r} "
                             "has no valid signature")
        kept[int(cp["position"])] = str(cp["hash"])
    return kept


def checkpoint_export_command(container: Container, *, out: TextIO | None = None,
                              err: TextIO | None = None) -> int:
    """Signs the current sealed head (when not signed yet) and prints every signed checkpoint with
    the public key, for auditors to keep outside the system."""
    from projections.audit.seal import SealKeys, list_checkpoints, make_checkpoint

    container.runner.catch_up()
    keys = SealKeys.from_settings(container.settings)
    make_checkpoint(container.engine, keys, container.clock.now())
    _print({"algorithm": "Ed25519", "chain": "hmac-sha256", "public_key": keys.public_key,
            "exported_at": container.clock.now().isoformat(),
            "checkpoints": list_checkpoints(container.engine)}, out)
    return OK


__all__ = ["checkpoint_export_command", "history_command", "state_command", "verify_command"]
