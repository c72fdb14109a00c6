"""Defect 2 (#20): the seal cannot be rebuilt over edited events.

The chain is keyed (HMAC, seal key apart from the event key), replay only checks it, and signed
checkpoints exported to auditors catch a rewrite even by someone holding every server secret.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from projections.audit.seal import (
    GENESIS,
    AuditSeal,
    SealError,
    SealKeys,
    audit_checkpoints,
    audit_seal,
    hash_of_notification,
    signature_is_valid,
)
from projections.runner import rebuild
from retaguarda.audit.application import seal_key_of, verify
from retaguarda.audit.cli import checkpoint_export_command, verify_command
from retaguarda.shared.documents import make_cpf
from tests.audit.conftest import T0


def _history(container: Any, register: Any, n: int = 4) -> None:
    documents = ["529.982.247-25", "111.444.777-35", "390.533.447-05", "123.456.789-09"]
    for i in range(n):
        register(f"Cliente {i}", at=T0 + timedelta(minutes=i), document=documents[i])
    container.runner.catch_up()


def _reencrypt_with_event_key(container: Any, position: int, old: bytes, new: bytes) -> None:
    """The attack of the issue: decrypt with the event key, edit, encrypt again, write back."""
    mapper = container.store.mapper
    db = sqlite3.connect(container.settings.var_dir / "events.sqlite")
    (state,) = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
    plain = mapper.cipher.decrypt(state)
    if mapper.compressor:
        plain = mapper.compressor.decompress(plain)
    assert old in plain
    edited = plain.replace(old, new)
    if mapper.compressor:
        edited = mapper.compressor.compress(edited)
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (mapper.cipher.encrypt(edited), position))
    db.commit()
    db.close()
    assert new.decode() in json.dumps(container.store.decode(container.store.read(position, 1)[0]).__dict__,
                                      default=str)


def _export(container: Any) -> dict[str, Any]:
    out = io.StringIO()
    assert checkpoint_export_command(container, out=out) == 0
    return json.loads(out.getvalue())


def test_the_seal_is_keyed_and_not_derivable_from_the_log(container: Any, register: Any) -> None:
    _history(container, register, 2)
    with container.engine.connect() as conn:
        first = conn.execute(sa.select(audit_seal).order_by(audit_seal.c.position)).first()
    notification = container.store.read(1, 1)[0]
    assert first.alg == "hmac-sha256"
    assert first.hash == hash_of_notification(seal_key_of(container.settings), GENESIS, notification)
    assert first.hash != hash_of_notification(None, GENESIS, notification)  # the old, unkeyed chain
    assert first.hash != hash_of_notification(b"another key", GENESIS, notification)


def test_an_edited_event_is_caught_and_replay_refuses_to_reseal_it(container: Any, register: Any) -> None:
    _history(container, register)
    with container.engine.connect() as conn:
        before = conn.execute(sa.select(audit_seal).order_by(audit_seal.c.position)).all()
    _reencrypt_with_event_key(container, 3, b"Cliente 1", b"Cliente X")
    key = seal_key_of(container.settings)
    assert verify(container.store, container.engine, key).first_bad_position == 3
    # Replay does not rebuild the seal over the edit: it checks, fails, and changes nothing
    with pytest.raises(SealError, match="position 3"):
        rebuild(container.store, container.engine, AuditSeal(SealKeys.from_settings(container.settings)))
    with container.engine.connect() as conn:
        assert conn.execute(sa.select(audit_seal).order_by(audit_seal.c.position)).all() == before
    assert not verify(container.store, container.engine, key).ok


def test_checkpoints_are_signed_every_n_events_and_at_least_hourly(tmp_path: Path) -> None:
    from tests.conftest import build_container

    container = build_container(tmp_path / "var", checkpoint_every=4)
    try:
        from tests.audit.conftest import meta_at

        for i in range(7):
            container.customers.register_customer(meta_at(T0 + timedelta(minutes=i)), name=f"C{i}",
                                                  kind="person", document=make_cpf(f"{i + 1:09d}"),
                                                  email=f"c{i}@example.test")
        container.customers.register_customer(meta_at(T0 + timedelta(hours=2)), name="Later", kind="person",
                                              email="later@example.test", document=make_cpf("123123123"))
        container.runner.catch_up()
        with container.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_checkpoints).order_by(audit_checkpoints.c.position)).all()
        head = container.store.head()
        positions = [r.position for r in rows]
        # every 4 events (each registration is 2: customer and claim), and at 15 because 2 h passed
        assert head == 16 and positions == [4, 8, 12, 15]
        public = SealKeys.from_settings(container.settings).public_key
        for r in rows:
            assert signature_is_valid(public, {"position": r.position, "hash": r.hash, "at": r.at,
                                               "signature": r.signature})
        forged = {"position": rows[0].position, "hash": "0" * 64, "at": rows[0].at, "signature": rows[0].signature}
        assert not signature_is_valid(public, forged)
    finally:
        container.close()


def test_kept_checkpoints_catch_a_rewrite_by_someone_holding_every_secret(container: Any, register: Any,
                                                                         tmp_path: Path) -> None:
    _history(container, register)
    cp = tmp_path / "cp.json"
    cp.write_text(json.dumps(_export(container)))
    assert verify_command(container, str(cp), out=io.StringIO(), err=io.StringIO()) == 0
    # The attacker holds the event key AND the seal key: edits an event and recomputes the chain
    _reencrypt_with_event_key(container, 1, b"Cliente 0", b"Cliente Z")
    key = seal_key_of(container.settings)
    prev = GENESIS
    with container.engine.begin() as conn:
        for n in container.store.read(1, 1000):
            digest = hash_of_notification(key, prev, n)
            conn.execute(sa.update(audit_seal).where(audit_seal.c.position == n.id).values(hash=digest))
            prev = digest
    assert verify(container.store, container.engine, key).ok  # the server's own view is fooled…
    err = io.StringIO()
    assert verify_command(container, str(cp), out=io.StringIO(), err=err) == 1  # …the auditor's is not
    assert "checkpoint" in err.getvalue()
    # And an export edited to match is refused by its signatures
    data = json.loads(cp.read_text())
    data["checkpoints"][-1]["hash"] = prev
    cp.write_text(json.dumps(data))
    assert verify_command(container, str(cp), out=io.StringIO(), err=io.StringIO()) == 1


def test_the_acceptance_commands_from_a_shell(tmp_path: Path) -> None:
    """`retaguarda audit checkpoint export > cp.json`; alter an event; `retaguarda replay audit_seal`;
    `retaguarda audit verify --checkpoints cp.json` exits non-zero."""
    var = tmp_path / "var"
    env = {**os.environ, "RETAGUARDA_VAR_DIR": str(var), "RETAGUARDA_ENV": "development"}
    env.pop("RETAGUARDA_DATABASE_URL", None)
    env.pop("RETAGUARDA_REDIS_URL", None)
    exe = [sys.executable, "-m", "retaguarda.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*exe, *args], env=env, capture_output=True, text=True, timeout=300)

    assert run("migrate").returncode == 0
    from retaguarda.bootstrap import bootstrap
    from retaguarda.settings import load_settings
    from tests.audit.conftest import meta_at

    container = bootstrap(load_settings({}, var_dir=var, env="development"))
    try:
        for i in range(3):
            container.customers.register_customer(meta_at(T0 + timedelta(minutes=i)), name=f"Cliente {i}",
                                                  kind="person", document=make_cpf(f"{i + 1:09d}"),
                                                  email=f"c{i}@example.test")
        container.runner.catch_up()
    finally:
        container.close()
    exported = run("audit", "checkpoint", "export")
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "cp.json").write_text(exported.stdout)
    assert json.loads(exported.stdout)["checkpoints"]
    assert run("audit", "verify", "--checkpoints", str(tmp_path / "cp.json")).returncode == 0
    container = bootstrap(load_settings({}, var_dir=var, env="development"))
    try:
        _reencrypt_with_event_key(container, 3, b"Cliente 1", b"Cliente 9")
    finally:
        container.close()
    replayed = run("replay", "audit_seal")
    assert replayed.returncode != 0 and "append-only" in replayed.stderr
    verified = run("audit", "verify", "--checkpoints", str(tmp_path / "cp.json"))
    assert verified.returncode == 1 and "TAMPERED at position 3" in verified.stderr
