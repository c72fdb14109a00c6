"""Base of every context's application service: load → call the aggregate → save."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from retaguarda.eventstore import EventStore
from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.claims import (
    Claim,
    claim_id,
    claim_key_bytes,
    is_keyed_scope,
    keyed_claim_id,
    legacy_claims_held,
)
from retaguarda.shared.errors import ConflictError, NotFoundError
from retaguarda.shared.meta import Meta

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

MAX_CONFLICT_RETRIES = 5


class _Attempt:
    """One run of a `retrying` command: may claims be taken optimistically, and were they?"""

    __slots__ = ("optimistic", "took")

    def __init__(self, optimistic: bool) -> None:
        self.optimistic = optimistic
        self.took = False


# The attempt of the innermost `retrying` on this thread/task (None outside `retrying`).
_ATTEMPT: ContextVar[_Attempt | None] = ContextVar("retaguarda_service_attempt", default=None)


class Saved:
    """What a command returns: the aggregate and the log position its events reached."""

    __slots__ = ("aggregate", "position")

    def __init__(self, aggregate: Any, position: int) -> None:
        self.aggregate = aggregate
        self.position = position


class Service:
    """Shared plumbing; subclasses add imperative command methods and `get_*` queries."""

    def __init__(self, store: EventStore, on_saved: Callable[[int], None] | None = None) -> None:
        self.store = store
        self._on_saved = on_saved
        # Saves made by this service object; caches of its read models compare it to drop entries.
        self.writes = 0

    def load(self, cls: type[A], aggregate_id: UUID | str, tenant_id: str | None,
             version: int | None = None) -> A:
        """The aggregate, or NotFoundError when missing, of another type, or of another tenant."""
        try:
            uid = aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id))
        except ValueError:
            raise NotFoundError(cls.__name__, aggregate_id) from None
        try:
            agg = self.store.get(uid, version=version)
        except AggregateNotFoundError:
            raise NotFoundError(cls.__name__, aggregate_id) from None
        if not isinstance(agg, cls) or (tenant_id is not None and agg.tenant_id != tenant_id):
            raise NotFoundError(cls.__name__, aggregate_id)
        return agg

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            agg = self.store.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return agg if isinstance(agg, cls) else None

    def save(self, *aggregates: Aggregate | None) -> int:
        """Saves atomically; returns the highest log position written (0 when nothing was)."""
        recordings = self.store.save(*[a for a in aggregates if a is not None])
        position = max((r.notification.id for r in recordings), default=0)
        if position:
            self.writes += 1
            if self._on_saved:
                self._on_saved(position)
        return position

    def retrying(self, command: Callable[[], T], attempts: int = MAX_CONFLICT_RETRIES) -> T:
        """Runs load→change→save again when another writer won the optimistic race.

        Inside a command, `claim` takes new keys optimistically (no read before the save). When
        such a save fails with IntegrityError, the command runs once more at once, reading the
        claims first (`claim` then reports a conflict or retakes a released key); that re-check
        does not count as one of the `attempts` (default MAX_CONFLICT_RETRIES). Hot aggregates
        such as a tenant's number sequence pass a larger `attempts`; back-off has jitter.
        """
        optimistic = True
        attempt = 0
        while True:
            state = _Attempt(optimistic)
            token = _ATTEMPT.set(state)
            try:
                return command()
            except IntegrityError:
                if state.took:
                    optimistic = False  # a key may exist: re-check the claims, no back-off
                    continue
                if attempt >= attempts - 1:
                    raise ConflictError(
                        "the record was changed by someone else at the same time; try again"
                    ) from None
                time.sleep(random.uniform(0.002, 0.005 * (2 ** min(attempt, 6))))
                attempt += 1
            finally:
                _ATTEMPT.reset(token)

    # Unique keys (documents, e-mails) -------------------------------------------------
    @property
    def claim_secret(self) -> bytes | None:
        """The deployment's claim key (`RETAGUARDA_CLAIM_KEY`, passed to the store's env)."""
        secret = getattr(self, "_claim_secret", False)
        if secret is False:
            encoded = (getattr(self.store, "env", None) or {}).get("CLAIM_KEY", "")
            secret = claim_key_bytes(encoded) if encoded else None
            self._claim_secret = secret
        return secret

    def claim_id_of(self, scope: str, key: str) -> UUID:
        """The id of the claim on `key`: keyed HMAC for personal/user-chosen scopes (#20 defect 6)."""
        secret = self.claim_secret
        if secret is not None and is_keyed_scope(scope):
            return keyed_claim_id(secret, scope, key)
        return claim_id(scope, key)

    def _legacy_possible(self, scope: str) -> bool:
        """Claims under unkeyed ids may still be held (before the re-claim): then read first."""
        return self.claim_secret is not None and is_keyed_scope(scope) and legacy_claims_held(self.store)

    def _find_claim(self, scope: str, key: str) -> Claim | None:
        """The claim on `key`, falling back to its unkeyed id while `rekey_claims` has not run."""
        found = self.find(Claim, self.claim_id_of(scope, key))
        if found is None and self.claim_secret is not None and is_keyed_scope(scope):
            legacy = self.find(Claim, claim_id(scope, key))
            if legacy is not None and legacy.owner_id is not None:
                return legacy
        return found

    def _take(self, scope: str, key: str, owner_id: str, meta: Meta) -> Claim:
        return Claim.take(scope, key, owner_id, meta.with_tenant(_claim_tenant(scope, meta)),
                          id=self.claim_id_of(scope, key))

    def claim(self, scope: str, key: str, owner_id: str, meta: Meta) -> Claim | None:
        """A Claim to save together with the owner, or None when `owner_id` already holds it.

        Raises ConflictError when another owner holds the key. A concurrent claimer loses at
        save time with IntegrityError (then `retrying` re-checks and reports the conflict).
        Inside `retrying` the first attempt does not read the claim: it takes the key as new
        (the common case) and the atomic save refuses it when the key already exists, after
        which `retrying` runs the command again with this read-first path.
        """
        attempt = _ATTEMPT.get()
        if attempt is not None and attempt.optimistic and not self._legacy_possible(scope):
            attempt.took = True
            return self._take(scope, key, owner_id, meta)
        existing = self._find_claim(scope, key)
        if existing is None:
            return self._take(scope, key, owner_id, meta)
        if existing.owner_id == owner_id:
            return None
        if existing.owner_id is not None:
            raise ConflictError(f"{key} is already in use", field=scope)
        existing.retake(owner_id, meta.with_tenant(existing.tenant_id))
        return existing

    def release(self, scope: str, key: str, owner_id: str, meta: Meta) -> Claim | None:
        existing = self._find_claim(scope, key)
        if existing is None or existing.owner_id != owner_id:
            return None
        existing.release(meta.with_tenant(existing.tenant_id))
        return existing

    def owner_of(self, scope: str, key: str) -> str | None:
        existing = self._find_claim(scope, key)
        return existing.owner_id if existing else None


def _claim_tenant(scope: str, meta: Meta) -> str:
    # Global scopes (e.g. login e-mails) belong to no tenant.
    return "*" if scope.startswith("global:") else meta.tenant_id
