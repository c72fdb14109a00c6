"""Tamper evidence: a keyed chain over every stored event, in log order, with signed checkpoints.

link_n = HMAC-SHA256(seal_key, prev_link ‖ position ‖ originator_id ‖ originator_version ‖ topic ‖
state), every part length-prefixed, where `state` is the stored (encrypted) bytes. The seal key is
a deployment secret kept apart from the event key (`RETAGUARDA_SEAL_KEY`), so whoever holds the
database and the event key can edit an event but cannot recompute the chain over it.

Every `checkpoint_every` sealed events, and at least hourly (event time), the head of the chain is
signed with an Ed25519 key (`RETAGUARDA_CHECKPOINT_KEY`) into `audit_checkpoints`;
`retaguarda audit checkpoint export` hands them (with the public key) to auditors, who keep them
outside the system, and `retaguarda audit verify --checkpoints FILE` fails on any edit before a
kept checkpoint even if every secret of the server leaked later.

The seal is append-only: `retaguarda replay audit_seal` never rewrites an existing link, it checks
the whole chain against the log (failing on any difference) and then seals what is not sealed yet.
Rows written before the chain was keyed (`alg = sha256`) are checked with the old unkeyed hash,
only as a prefix of the chain: an unkeyed link after a keyed one is tampering.
The tables are global (not tenant scoped): they seal the whole log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from projections.base import Envelope, Projection, Writer, metadata

GENESIS = "0" * 64
KEYED, LEGACY = "hmac-sha256", "sha256"
CHECKPOINT_AT_LEAST_EVERY = timedelta(hours=1)

audit_seal = sa.Table(
    "audit_seal",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("prev_position", sa.BigInteger, nullable=False),
    sa.Column("alg", sa.String(16), nullable=False, server_default=LEGACY),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("signature", sa.String(120), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
)


class SealError(Exception):
    """The stored log and the seal disagree (or the seal cannot be written safely)."""


def _part(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def _parts(prev_hash: str, position: int, originator_id: Any, originator_version: int, topic: str,
           state: bytes) -> Iterable[bytes]:
    return (prev_hash.encode("ascii"), str(int(position)).encode("ascii"),
            str(originator_id).encode("utf-8"), str(int(originator_version)).encode("ascii"),
            str(topic).encode("utf-8"), bytes(state))


def seal_hash(key: bytes | None, prev_hash: str, position: int, originator_id: Any,
              originator_version: int, topic: str, state: bytes) -> str:
    """The chain link of one stored event (hex): HMAC-SHA256 under `key`; `key=None` is the legacy
    unkeyed SHA-256 of links sealed before the chain was keyed."""
    h = hmac.new(key, digestmod=hashlib.sha256) if key is not None else hashlib.sha256()
    for part in _parts(prev_hash, position, originator_id, originator_version, topic, state):
        h.update(_part(part))
    return h.hexdigest()


def hash_of_notification(key: bytes | None, prev_hash: str, notification: Any) -> str:
    return seal_hash(key, prev_hash, notification.id, notification.originator_id,
                     notification.originator_version, notification.topic, notification.state)


# Keys and checkpoints --------------------------------------------------------------------

@dataclass(frozen=True)
class SealKeys:
    seal_key: bytes
    signing_key: Any  # cryptography Ed25519PrivateKey
    every: int = 1000

    @classmethod
    def from_settings(cls, settings: Any) -> SealKeys:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if not settings.seal_key or not settings.checkpoint_key:
            raise SealError("RETAGUARDA_SEAL_KEY and RETAGUARDA_CHECKPOINT_KEY are required")
        seal_key = base64.b64decode(settings.seal_key)
        raw = base64.b64decode(settings.checkpoint_key)
        if len(raw) != 32 or len(seal_key) < 16:
            raise SealError("the seal key must be >= 16 bytes and the checkpoint key 32 bytes (base64)")
        return cls(seal_key, Ed25519PrivateKey.from_private_bytes(raw),
                   max(1, int(getattr(settings, "checkpoint_every", 1000))))

    @property
    def public_key(self) -> str:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return base64.b64encode(self.signing_key.public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)).decode("ascii")

    def sign(self, position: int, digest: str, at: datetime) -> dict[str, Any]:
        signature = self.signing_key.sign(checkpoint_message(position, digest, at))
        return {"position": int(position), "hash": digest, "at": at,
                "signature": base64.b64encode(signature).decode("ascii"), "public_key": self.public_key}


def checkpoint_message(position: int, digest: str, at: datetime) -> bytes:
    """What a checkpoint signs: the chain head at `position` as of `at` (UTC, ISO 8601)."""
    stamp = at.astimezone(timezone.utc).isoformat()
    return f"retaguarda-audit-checkpoint:v1:{int(position)}:{digest}:{stamp}".encode("ascii")


def signature_is_valid(public_key_b64: str, checkpoint: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        at = checkpoint["at"]
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        key.verify(base64.b64decode(checkpoint["signature"]),
                   checkpoint_message(int(checkpoint["position"]), str(checkpoint["hash"]), at))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


def _as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# The projection ---------------------------------------------------------------------------

class AuditSeal(Projection):
    name = "audit_seal"
    tables = (audit_seal, audit_checkpoints)

    def __init__(self, keys: SealKeys | None = None) -> None:
        self.keys = keys

    def configure(self, settings: Any) -> None:
        """Called by the composition root (and the replay command) with the deployment's settings."""
        self.keys = SealKeys.from_settings(settings)

    def _keys(self) -> SealKeys:
        if self.keys is None:
            raise SealError("the audit seal has no keys: call configure(settings) first")
        return self.keys

    def wants(self, event: Any) -> bool:
        return True

    def handler_for(self, event: Any) -> Callable[[Envelope, Writer], None] | None:
        return None  # sealing needs the running hash of the batch: see `process`

    def process(self, envelopes: Iterable[Envelope], writer: Writer) -> int:
        """Reads the chain head and last checkpoint once per batch, then keeps both in memory."""
        keys = self._keys()
        head = writer.execute(
            lambda t: sa.select(t.c.position, t.c.hash).order_by(t.c.position.desc()).limit(1),
            audit_seal,
        ).first()
        last_cp = writer.execute(
            lambda t: sa.select(t.c.position, t.c.at).order_by(t.c.position.desc()).limit(1),
            audit_checkpoints,
        ).first()
        prev_position, prev_hash = (int(head[0]), head[1]) if head else (0, GENESIS)
        cp_position, cp_at = (int(last_cp[0]), _as_utc(last_cp[1])) if last_cp else (0, None)
        count = 0
        for env in envelopes:
            if env.stored is None:
                raise ValueError(f"event at position {env.position} has no stored notification")
            if env.position <= prev_position:
                continue  # already sealed (never expected: the runner hands each event once)
            digest = hash_of_notification(keys.seal_key, prev_hash, env.stored)
            writer.insert(audit_seal, {"position": env.position, "hash": digest,
                                       "prev_position": prev_position, "alg": KEYED})
            prev_position, prev_hash = env.position, digest
            count += 1
            at = _as_utc(getattr(env.event, "timestamp", None)) or datetime.now(timezone.utc)
            if cp_at is None:
                cp_at = at  # the hour is counted from the first event sealed with checkpoints
            if prev_position - cp_position >= keys.every or at - cp_at >= CHECKPOINT_AT_LEAST_EVERY:
                writer.insert(audit_checkpoints, keys.sign(prev_position, prev_hash, at))
                cp_position, cp_at = prev_position, at
        writer.flush()
        return count

    def replay(self, store: Any, engine: Any, progress: Any = None) -> Any:
        """`retaguarda replay audit_seal`: checks the existing chain against the log and never
        rewrites it (events not sealed yet are sealed by the running projector, as always).
        Raises SealError on any difference."""
        import time

        from projections.runner import ReplayReport

        started = time.monotonic()
        result = verify_chain(store, engine, self._keys().seal_key)
        if not result["ok"]:
            raise SealError(f"the seal does not match the log at position {result['first_bad_position']}: "
                            f"{result['reason']}; the seal is append-only and was left unchanged")
        rows: dict[str, int] = {}
        with engine.connect() as conn:
            for table in self.tables:
                rows[table.name] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0
        return ReplayReport(self.name, int(result["checked"]), 0, time.monotonic() - started, rows)


# Verification ------------------------------------------------------------------------------

def _seal_rows(engine: Any, batch: int = 5000) -> Any:
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_seal.c.position, audit_seal.c.hash, audit_seal.c.prev_position,
                          audit_seal.c.alg)
                .where(audit_seal.c.position > last).order_by(audit_seal.c.position).limit(batch)
            ).all()
        if not rows:
            return
        yield from rows
        last = int(rows[-1][0])


def _notifications(store: Any, batch: int = 2000) -> Any:
    start = 1
    while True:
        notes = store.read(start, batch)
        if not notes:
            return
        yield from notes
        start = notes[-1].id + 1


def verify_chain(store: Any, engine: Any, seal_key: bytes,
                 checkpoints: dict[int, str] | None = None) -> dict[str, Any]:
    """Recomputes the chain from every stored event and compares it with `audit_seal` and with the
    given checkpoints (position → head hash, already signature-checked by the caller).

    Fails at the first position where a stored event was altered, removed or slipped in, where the
    seal lost a link or fell back to the unkeyed hash, or where a kept checkpoint disagrees.
    """
    checkpoints = dict(checkpoints or {})
    notes = _notifications(store)
    pending: Any = next(notes, None)
    prev_hash, prev_position, checked, head = GENESIS, 0, 0, 0
    keyed_seen = False

    def bad(position: int, reason: str) -> dict[str, Any]:
        return {"ok": False, "checked": checked, "first_bad_position": position, "reason": reason,
                "sealed_head": head, "store_head": store.head()}

    for position, sealed_hash, sealed_prev, alg in _seal_rows(engine):
        position, sealed_prev = int(position), int(sealed_prev)
        head = position
        if sealed_prev != prev_position:
            return bad(position, f"seal chain broken: expected link to {prev_position}, found {sealed_prev}")
        if pending is not None and pending.id < position:
            return bad(pending.id, "stored event was never sealed (inserted after sealing)")
        if pending is None or pending.id != position:
            return bad(position, "sealed event is missing from the store (removed)")
        if alg == KEYED:
            keyed_seen = True
            digest = hash_of_notification(seal_key, prev_hash, pending)
        elif alg == LEGACY and not keyed_seen:
            digest = hash_of_notification(None, prev_hash, pending)
        else:
            return bad(position, f"seal link uses {alg!r} after keyed links (rewritten)")
        if not hmac.compare_digest(digest, str(sealed_hash)):
            return bad(position, "stored event differs from the sealed one (altered)")
        kept = checkpoints.pop(position, None)
        if kept is not None and not hmac.compare_digest(kept, digest):
            return bad(position, "the chain differs from a signed checkpoint (rewritten)")
        checked += 1
        prev_hash, prev_position = digest, position
        pending = next(notes, None)
    if checkpoints:
        first = min(checkpoints)
        return bad(first, "a signed checkpoint is beyond the sealed chain (seal truncated)")
    return {"ok": True, "checked": checked, "first_bad_position": None, "reason": "",
            "sealed_head": head, "store_head": store.head()}


def make_checkpoint(engine: Any, keys: SealKeys, at: datetime) -> dict[str, Any] | None:
    """Signs the current sealed head now (the export does this first), unless already signed."""
    with engine.begin() as conn:
        head = conn.execute(sa.select(audit_seal.c.position, audit_seal.c.hash)
                            .order_by(audit_seal.c.position.desc()).limit(1)).first()
        if head is None:
            return None
        exists = conn.execute(sa.select(audit_checkpoints.c.position)
                              .where(audit_checkpoints.c.position == int(head[0]))).first()
        if exists is None:
            row = keys.sign(int(head[0]), str(head[1]), at)
            conn.execute(sa.insert(audit_checkpoints).values(**row))
            return row
    return None


def list_checkpoints(engine: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_checkpoints).order_by(audit_checkpoints.c.position)).all()
    return [{"position": int(r.position), "hash": r.hash, "at": _as_utc(r.at).isoformat(),  # type: ignore[union-attr]
             "signature": r.signature, "public_key": r.public_key} for r in rows]


__all__ = [
    "GENESIS",
    "KEYED",
    "LEGACY",
    "AuditSeal",
    "SealError",
    "SealKeys",
    "audit_checkpoints",
    "audit_seal",
    "checkpoint_message",
    "hash_of_notification",
    "list_checkpoints",
    "make_checkpoint",
    "seal_hash",
    "signature_is_valid",
    "verify_chain",
]
