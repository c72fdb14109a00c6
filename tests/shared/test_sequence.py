"""Gap-free numbering: a stale writer loses the race and retries with the next number."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.persistence import IntegrityError

from retaguarda.services import Service
from retaguarda.shared.sequence import Sequence, next_number, sequence_id


def test_numbers_follow_each_other_and_a_stale_copy_cannot_reuse_one(container, meta):
    service = Service(container.store)
    first, seq = next_number(service, "test:seq", meta)
    service.save(seq)
    second, seq = next_number(service, "test:seq", meta)
    service.save(seq)
    assert (first, second) == (1, 2)

    stale = service.load(Sequence, sequence_id(meta.tenant_id, "test:seq"), meta.tenant_id)
    fresh = service.load(Sequence, sequence_id(meta.tenant_id, "test:seq"), meta.tenant_id)
    assert fresh.next(meta) == 3
    service.save(fresh)
    assert stale.next(meta) == 3
    with pytest.raises(IntegrityError):
        service.save(stale)


def test_parallel_takers_get_distinct_consecutive_numbers(container, meta):
    service = Service(container.store)

    def take() -> int:
        def command() -> int:
            number, seq = next_number(service, "test:parallel", meta, start_at=100)
            service.save(seq)
            return number
        return service.retrying(command, attempts=50)

    with ThreadPoolExecutor(8) as pool:
        numbers = sorted(pool.map(lambda _: take(), range(40)))
    assert numbers == list(range(100, 140))
