"""Uniqueness in an event store: a Claim aggregate whose id is derived from the unique key.

Saving two aggregates that claim the same key conflicts on the claim's version, so a duplicate
document or e-mail is refused atomically with the write that wanted it.

Aggregate ids are stored in clear (only event bodies are encrypted), so an id computed from the
key alone lets anyone with a copy of the log test every CPF or e-mail (#20 defect 6). Claims on
personal or user-chosen keys (`KEYED_SCOPE_PREFIXES`, taken through `Service.claim`) therefore get
ids from a keyed HMAC (`keyed_claim_id`, secret `RETAGUARDA_CLAIM_KEY`); the bare `claim_id`
remains for internal keys (references, ids, hashes). `rekey_claims` moves claims taken before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import uuid
import weakref
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from uuid import UUID

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.meta import Meta

_NAMESPACE = uuid.UUID("6d1c8e6a-2f4b-4f4e-9a59-2c0f9b7a1e11")


# Scopes whose keys are personal data or chosen by users: their claim ids are keyed.
KEYED_SCOPE_PREFIXES = ("global:", "customer-document:", "cnpj-target:", "campaign-external:")
REKEY_ACTOR = "system:claims-rekey"


def claim_id(scope: str, key: str) -> UUID:
    """Unkeyed id: for internal keys only (anyone can compute it from the key)."""
    return uuid.uuid5(_NAMESPACE, f"{scope}\x1f{key}")


def is_keyed_scope(scope: str) -> bool:
    return scope.startswith(KEYED_SCOPE_PREFIXES)


def claim_key_bytes(encoded: str) -> bytes:
    """The raw claim key from its base64 setting (at least 16 bytes)."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise ValueError("the claim key must be base64") from None
    if len(raw) < 16:
        raise ValueError("the claim key must have at least 16 bytes")
    return raw


def keyed_claim_id(secret: bytes, scope: str, key: str) -> UUID:
    """HMAC-SHA256(secret, scope ␟ key) as a UUID: without the secret the id says nothing about
    the key, and testing candidate keys against the stored ids is impossible."""
    digest = hmac.new(secret, f"claim\x1f{scope}\x1f{key}".encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


class Claim(Aggregate):
    """Holds a unique key for one owner (`owner_id`, None once released)."""

    if TYPE_CHECKING:  # state set by the events' apply(), declared for the type checker
        scope: str
        key: str
        owner_id: str | None

    class Taken(Aggregate.Created):
        scope: str
        key: str
        owner_id: str

    class Retaken(Aggregate.Event):
        owner_id: str

        def apply(self, claim: "Claim") -> None:
            claim.owner_id = self.owner_id

    class Released(Aggregate.Event):
        def apply(self, claim: "Claim") -> None:
            claim.owner_id = None

    @classmethod
    def take(cls, scope: str, key: str, owner_id: str, meta: Meta, *, id: UUID | None = None) -> "Claim":
        return cls._open(cls.Taken, meta, id=id or claim_id(scope, key), scope=scope, key=key,
                         owner_id=owner_id)

    def retake(self, owner_id: str, meta: Meta) -> None:
        self._record(self.Retaken, meta, owner_id=owner_id)

    def release(self, meta: Meta) -> None:
        self._record(self.Released, meta)


def _legacy_taken(store: Any, batch: int = 1000) -> Iterator[Any]:
    """Claim.Taken events of keyed scopes whose id is still the unkeyed one, in log order."""
    from eventsourcing.utils import get_topic

    topic = get_topic(Claim.Taken)
    start = 1
    while True:
        page = list(store.recorder.select_notifications(start, batch, topics=[topic]))
        for notification in page:
            event = store.decode(notification)
            if is_keyed_scope(event.scope) and event.originator_id == claim_id(event.scope, event.key):
                yield event
        if len(page) < batch:
            return
        start = page[-1].id + 1


# Per event store, found once per process: it only goes from True to False (`rekey_claims`).
_LEGACY_HELD: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_LEGACY_LOCK = threading.Lock()


def legacy_claims_held(store: Any) -> bool:
    """Whether some claim of a keyed scope is still held under its unkeyed id (before the
    re-claim): then new claims must read first, since an unkeyed holder would not conflict."""
    with _LEGACY_LOCK:
        held = _LEGACY_HELD.get(store)
        if held is None:
            held = _LEGACY_HELD[store] = any(
                isinstance(old := store.get(e.originator_id), Claim) and old.owner_id is not None
                for e in _legacy_taken(store))
        return held


def rekey_claims(store: Any, secret: bytes, now: datetime | None = None) -> int:
    """One-off re-claim (idempotent; `retaguarda migrate` runs it): every held claim of a keyed
    scope taken under its unkeyed id is taken again under the keyed id, for the same owner, and the
    old claim is released in the same atomic save. Returns how many claims moved.

    Replay is unaffected: no projection reads claims, and the old events stay in the log as they
    were (the audit seal only grows). Lookups fall back to the unkeyed id until this has run.
    """
    from eventsourcing.application import AggregateNotFoundError

    at = now or datetime.now(timezone.utc)
    moved = 0
    for event in _legacy_taken(store):
        old = store.get(event.originator_id)
        if not isinstance(old, Claim) or old.owner_id is None:
            continue
        meta = Meta(tenant_id=old.tenant_id, actor=REKEY_ACTOR, correlation_id=uuid.uuid4().hex, at=at)
        new_id = keyed_claim_id(secret, old.scope, old.key)
        try:
            current = store.get(new_id)
        except AggregateNotFoundError:
            current = None
        owner = old.owner_id
        old.release(meta)
        if current is None:
            store.save(Claim.take(old.scope, old.key, owner, meta, id=new_id), old)
        else:
            store.save(old)  # already re-claimed (a later claim holds the keyed id)
        moved += 1
    with _LEGACY_LOCK:
        _LEGACY_HELD[store] = False
    return moved
