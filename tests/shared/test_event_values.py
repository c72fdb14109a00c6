"""Every value type an event may carry round-trips exactly through the encrypted store."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.shared.aggregate import Aggregate
from retaguarda.shared.meta import Meta
from retaguarda.shared.values import transcoded_enum
from tests.conftest import build_container


@transcoded_enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Sample(Aggregate):
    """A test aggregate carrying one of each value type."""

    class Recorded(Aggregate.Created):
        amount: Decimal
        due: date
        at: datetime
        colour: Colour
        ref: uuid.UUID
        nested: dict
        items: list


def test_values_round_trip_exactly(tmp_path: Path):
    container = build_container(tmp_path / "var")
    try:
        meta = Meta("t", "u", "c", datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
        agg = Sample._open(Sample.Recorded, meta, id=uuid.uuid4(), amount=Decimal("1234.50"),
                           due=date(2026, 2, 28), at=datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=-3))),
                           colour=Colour.BLUE, ref=uuid.uuid4(),
                           nested={"rate": Decimal("0.0090"), "when": date(2026, 1, 1)}, items=[Decimal("0.1"), "x"])
        container.store.save(agg)
        loaded = container.store.get(agg.id)
        assert loaded.as_state() == agg.as_state()
        assert isinstance(loaded.colour, Colour) and loaded.amount == Decimal("1234.50")
        assert str(loaded.amount) == "1234.50"  # the exponent is kept, not just the value
        # Stored instants are UTC: the same instant as the São Paulo 09:00 given, with offset zero.
        assert loaded.at == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
        assert loaded.at.utcoffset() == timedelta(0)
        event = container.store.history(agg.id)[0]
        assert (event.tenant_id, event.actor, event.correlation_id) == ("t", "u", "c")
        assert event.timestamp == meta.at and event.timestamp.tzinfo is not None
    finally:
        container.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9))
def test_any_money_amount_round_trips(tmp_path: Path, amount: Decimal):
    container = build_container(tmp_path / f"v{uuid.uuid4().hex}")
    try:
        meta = Meta("t", "u", "c", datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
        agg = Sample._open(Sample.Recorded, meta, id=uuid.uuid4(), amount=amount, due=date(2026, 1, 1),
                           at=meta.at, colour=Colour.RED, ref=uuid.uuid4(), nested={}, items=[])
        container.store.save(agg)
        assert container.store.get(agg.id).amount == amount
    finally:
        container.close()


def test_a_naive_instant_never_enters_an_event():
    import pytest

    meta = Meta("t", "u", "c", datetime(2026, 3, 1, 12, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="naive"):
        Sample._open(Sample.Recorded, meta, id=uuid.uuid4(), amount=Decimal("1"), due=date(2026, 1, 1),
                     at=datetime(2026, 3, 1, 9), colour=Colour.RED, ref=uuid.uuid4(), nested={}, items=[])
