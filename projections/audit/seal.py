"""Tamper evidence: a SHA-256 chain over every stored event, in log order.

hash_n = sha256(prev_hash ‖ position ‖ originator_id ‖ originator_version ‖ topic ‖ state), with
every part length-prefixed, where `state` is the stored (encrypted) bytes. The chain is a pure
function of the stored log, so a replay reproduces it exactly, and `retaguarda audit verify`
can recompute it to find an event altered, removed or slipped in after sealing.
The table is global (not tenant scoped): it seals the whole log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from projections.base import Envelope, Projection, Writer, metadata

GENESIS = "0" * 64

audit_seal = sa.Table(
    "audit_seal",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("prev_position", sa.BigInteger, nullable=False),
)


def _part(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def seal_hash(prev_hash: str, position: int, originator_id: Any, originator_version: int,
              topic: str, state: bytes) -> str:
    """The chain link of one stored event (hex)."""
    h = hashlib.sha256()
    for part in (prev_hash.encode("ascii"), str(int(position)).encode("ascii"),
                 str(originator_id).encode("utf-8"), str(int(originator_version)).encode("ascii"),
                 str(topic).encode("utf-8"), bytes(state)):
        h.update(_part(part))
    return h.hexdigest()


def hash_of_notification(prev_hash: str, notification: Any) -> str:
    return seal_hash(prev_hash, notification.id, notification.originator_id,
                     notification.originator_version, notification.topic, notification.state)


class AuditSeal(Projection):
    name = "audit_seal"
    tables = (audit_seal,)

    def wants(self, event: Any) -> bool:
        return True

    def handler_for(self, event: Any) -> Callable[[Envelope, Writer], None] | None:
        return None  # sealing needs the running hash of the batch: see `process`

    def process(self, envelopes: Iterable[Envelope], writer: Writer) -> int:
        """Reads the chain head once per batch, then keeps the running hash in memory."""
        head = writer.execute(
            lambda t: sa.select(t.c.position, t.c.hash).order_by(t.c.position.desc()).limit(1),
            audit_seal,
        ).first()
        prev_position, prev_hash = (int(head[0]), head[1]) if head else (0, GENESIS)
        count = 0
        for env in envelopes:
            if env.stored is None:
                raise ValueError(f"event at position {env.position} has no stored notification")
            if env.position <= prev_position:
                continue  # already sealed (never expected: the runner hands each event once)
            digest = hash_of_notification(prev_hash, env.stored)
            writer.insert(audit_seal, {"position": env.position, "hash": digest,
                                       "prev_position": prev_position})
            prev_position, prev_hash = env.position, digest
            count += 1
        writer.flush()
        return count


__all__ = ["GENESIS", "AuditSeal", "audit_seal", "hash_of_notification", "seal_hash"]
