"""Tamper evidence: the seal chain, its verification, and its exact reproduction by replay."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from projections.audit.seal import GENESIS, AuditSeal, SealKeys, audit_seal, hash_of_notification
from projections.runner import rebuild
from retaguarda.audit.application import seal_key_of
from retaguarda.audit.application import verify as verify_with_key
from retaguarda.audit.cli import history_command, state_command, verify_command
from tests.audit.conftest import T0, meta_at


def _verify(container: Any) -> Any:
    return verify_with_key(container.store, container.engine, seal_key_of(container.settings))


def _seal_rows(container: Any) -> list[tuple[int, str, int]]:
    with container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(audit_seal.c.position, audit_seal.c.hash, audit_seal.c.prev_position)
            .order_by(audit_seal.c.position))]


def _events_db(container: Any) -> sqlite3.Connection:
    return sqlite3.connect(container.settings.var_dir / "events.sqlite")


def _flip_one_byte(container: Any, position: int) -> None:
    """Tampers with the stored (encrypted) state of the event at `position`, on disk."""
    db = _events_db(container)
    (state,) = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()
    altered = bytes([state[0] ^ 0x01]) + state[1:]
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (altered, position))
    db.commit()
    db.close()


def _some_history(container: Any, register: Any, n: int = 4) -> list[str]:
    documents = ["529.982.247-25", "111.444.777-35", "390.533.447-05", "123.456.789-09"]
    ids = []
    for i in range(n):
        saved = register(f"Cliente {i}", at=T0 + timedelta(minutes=i), document=documents[i])
        cid = str(saved.aggregate.id)
        container.customers.update_customer(meta_at(T0 + timedelta(hours=1, minutes=i)), cid,
                                            name=f"Cliente {i} Ltda")
        ids.append(cid)
    return ids


def test_the_seal_chains_every_stored_event_from_the_genesis(container, register):
    # Given some events, sealed in batches of 3
    _some_history(container, register)
    container.runner.batch_size = 3
    container.runner.catch_up()
    # Then there is one link per stored event, each pointing at the previous one
    rows = _seal_rows(container)
    notifications = container.store.read(1, 1000)
    assert [r[0] for r in rows] == [n.id for n in notifications]
    prev_hash, prev_pos = GENESIS, 0
    for (position, digest, prev_position), n in zip(rows, notifications):
        assert prev_position == prev_pos
        assert digest == hash_of_notification(seal_key_of(container.settings), prev_hash, n)
        prev_hash, prev_pos = digest, position


def test_verify_passes_on_an_untouched_log_and_ignores_events_not_yet_sealed(container, register):
    # Given a sealed log
    _some_history(container, register, 2)
    container.runner.catch_up()
    head = container.store.head()
    # When verifying
    result = _verify(container)
    # Then it is intact and every event was checked
    assert result.ok and result.checked == head and result.first_bad_position is None
    # And events appended after sealing are simply not sealed yet
    register("Depois", document="390.533.447-05")
    later = _verify(container)
    assert later.ok and later.checked == head and later.store_head > head


def test_altering_one_byte_of_a_stored_event_is_detected_at_its_position(container, register):
    # Given a sealed log
    _some_history(container, register)
    container.runner.catch_up()
    target = 5
    # When one byte of the encrypted state of the event at position 5 is changed on disk
    _flip_one_byte(container, target)
    # Then verification fails naming that position
    result = _verify(container)
    assert not result.ok
    assert result.first_bad_position == target
    assert "altered" in result.reason
    assert result.checked == target - 1


def test_removing_a_stored_event_is_detected_at_its_position(container, register):
    # Given a sealed log
    _some_history(container, register)
    container.runner.catch_up()
    # When the event at position 3 is deleted from the store
    db = _events_db(container)
    db.execute("DELETE FROM stored_events WHERE rowid = 3")
    db.commit()
    db.close()
    # Then verification fails naming position 3
    result = _verify(container)
    assert not result.ok and result.first_bad_position == 3
    assert "removed" in result.reason


def test_removing_the_last_sealed_event_is_detected(container, register):
    _some_history(container, register, 2)
    container.runner.catch_up()
    head = container.store.head()
    db = _events_db(container)
    db.execute("DELETE FROM stored_events WHERE rowid = ?", (head,))
    db.commit()
    db.close()
    result = _verify(container)
    assert not result.ok and result.first_bad_position == head


def test_removing_a_link_of_the_seal_itself_is_detected(container, register):
    _some_history(container, register, 2)
    container.runner.catch_up()
    with container.engine.begin() as conn:
        conn.execute(sa.delete(audit_seal).where(audit_seal.c.position == 2))
    result = _verify(container)
    assert not result.ok and result.first_bad_position in (2, 3)


def test_replaying_the_seal_checks_it_and_leaves_it_unchanged(container, register):
    # Given a log sealed live in small batches
    _some_history(container, register)
    container.runner.batch_size = 2
    container.runner.catch_up()
    live = _seal_rows(container)
    # When the seal is replayed (it is append-only: replay checks it and rewrites nothing)
    report = rebuild(container.store, container.engine, AuditSeal(SealKeys.from_settings(container.settings)),
                     batch_size=5)
    # Then the chain is unchanged, and still verifies
    assert report.rows["audit_seal"] == len(live) and report.events == len(live)
    assert _seal_rows(container) == live
    assert _verify(container).ok
    # And live sealing continues the replayed chain
    register("Novo", document="987.654.321-00", at=T0 + timedelta(days=9))
    container.runner.catch_up()
    assert _verify(container).checked == container.store.head()


# CLI ------------------------------------------------------------------------------------

def test_cli_verify_exits_zero_when_intact_and_one_naming_the_position_when_tampered(container, register):
    _some_history(container, register, 2)
    container.runner.catch_up()
    out, err = io.StringIO(), io.StringIO()
    assert verify_command(container, out=out, err=err) == 0
    assert json.loads(out.getvalue())["ok"] is True
    _flip_one_byte(container, 2)
    out, err = io.StringIO(), io.StringIO()
    assert verify_command(container, out=out, err=err) == 1
    assert json.loads(out.getvalue())["first_bad_position"] == 2
    assert "position 2" in err.getvalue()


def test_cli_history_and_state_print_json_and_reject_bad_input(container, customer_with_rename):
    cid = customer_with_rename["id"]
    out = io.StringIO()
    assert history_command(container, cid, out=out) == 0
    assert [e["version"] for e in json.loads(out.getvalue())["events"]] == [1, 2]
    out = io.StringIO()
    assert state_command(container, cid, version="1", out=out) == 0
    assert json.loads(out.getvalue())["state"]["name"] == "Ana"
    out = io.StringIO()
    at = (customer_with_rename["renamed"] + timedelta(minutes=1)).isoformat()
    assert state_command(container, cid, at=at, out=out) == 0
    assert json.loads(out.getvalue())["state"]["name"] == "Ana B"
    err = io.StringIO()
    assert state_command(container, cid, version="zero", err=err) == 2
    assert "--version" in err.getvalue()
    assert state_command(container, cid, version="9", err=io.StringIO()) == 2
    assert history_command(container, "00000000-0000-0000-0000-000000000000", err=io.StringIO()) == 2
