"""Stable event topics for aggregates that moved to another module.

eventsourcing stores each event with the topic `module:QualName` of its class and finds the
class again from that string on replay; triggers and projections also key on it. When a god
module becomes a package, its classes move to submodules, which would change every topic they
write. `keep_topics(old_module, *aggregates)` pins the old topics: each aggregate class and every
class nested in it (its events) gets `TOPIC = "old_module:QualName"`, which
`eventsourcing.utils.get_topic` honours when recording, and the old topic is registered with
`register_topic`, so `resolve_topic` maps stored events back to the moved class.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic


def keep_topics(old_module: str, *classes: type) -> None:
    for cls in classes:
        _keep(old_module, cls)


def _keep(old_module: str, cls: type) -> None:
    topic = f"{old_module}:{cls.__qualname__}"
    current = vars(cls).get("TOPIC")
    if current is not None and current != topic:
        raise ValueError(f"{cls.__qualname__} already has topic {current!r}, not {topic!r}")
    cls.TOPIC = topic  # type: ignore[attr-defined]
    register_topic(topic, cls)
    for value in list(vars(cls).values()):
        if isinstance(value, type) and value.__qualname__.startswith(f"{cls.__qualname__}."):
            _keep(old_module, value)
