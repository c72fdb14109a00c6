"""Splitting the billing, fiscal and campaigns domain modules into packages kept every topic.

eventsourcing stores an event with its class's topic (`module:QualName`) and finds the class
again from it on replay; the dispatcher's triggers key on it too. The fixtures were recorded
before the split: `pre_split_topics.txt` lists every class of the three modules, and
`pre_split_events.json` holds events the demo seed stored (credentials redacted).
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from retaguarda.eventstore import EventStore

FIXTURES = Path(__file__).parent / "fixtures"
OLD_TOPICS = (FIXTURES / "pre_split_topics.txt").read_text().split()
EVENTS = json.loads((FIXTURES / "pre_split_events.json").read_text())


@pytest.mark.parametrize("topic", OLD_TOPICS)
def test_every_class_of_the_old_modules_resolves_and_still_records_its_old_topic(topic: str) -> None:
    cls = resolve_topic(topic)
    assert isinstance(cls, type)
    if not issubclass(cls, Exception):  # exceptions are not stored
        assert get_topic(cls) == topic


def test_the_classes_now_live_in_submodules() -> None:
    moved = {resolve_topic(t).__module__ for t in OLD_TOPICS}
    assert {"retaguarda.billing.domain.invoice", "retaguarda.fiscal.domain.nfse",
            "retaguarda.campaigns.domain.message"} <= moved


def test_a_log_written_before_the_split_replays_into_the_same_aggregates() -> None:
    # Given the events exactly as they were stored before the split
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = [StoredEvent(originator_id=UUID(e["originator_id"]), originator_version=e["originator_version"],
                          topic=e["topic"], state=e["state"].encode()) for e in EVENTS]
    assert len(stored) >= 20
    # When they are decoded and folded per aggregate
    aggregates: dict[UUID, object] = {}
    for s in stored:
        event = store.mapper.to_domain_event(s)
        assert type(event).__qualname__ == s.topic.split(":")[1]
        aggregates[s.originator_id] = event.mutate(aggregates.get(s.originator_id))
    # Then every aggregate is rebuilt with its state, and saving it again writes the old topics
    kinds = {type(a).__name__ for a in aggregates.values()}
    assert {"Invoice", "Plan", "Subscription", "FiscalSettings", "Nfse", "CampaignSettings"} <= kinds
    invoice = next(a for a in aggregates.values() if type(a).__name__ == "Invoice")
    assert invoice.status == "issued" and invoice.total > 0
    nfse = next(a for a in aggregates.values() if type(a).__name__ == "Nfse")
    assert nfse.status == "requested"
    for s in stored:
        event = store.mapper.to_domain_event(s)
        assert store.mapper.to_stored_event(event).topic == s.topic
