"""The dispatcher: follows the log with its own tracking and sends one message per trigger."""

from __future__ import annotations

from typing import Any

import pytest

from projections.runner import positions
from retaguarda.integrations.dispatcher import NAME, DispatcherStoppedError
from tests.integrations.helpers import now_meta, wait_until


def _queue_email(container: Any) -> str:
    saved = container.notifications.send_email(now_meta(), "ana@example.com", "plain",
                                               {"subject": "s", "text": "t"})
    return str(saved.aggregate.id)


def _queued(container: Any) -> list[Any]:
    import dramatiq

    queue = container.broker.queues["notifications"]
    return [dramatiq.Message.decode(m) for m in list(queue.queue)]


def test_each_trigger_event_becomes_one_message_and_the_position_advances(container: Any) -> None:
    # Given two e-mails and an event that is no trigger
    first, second = _queue_email(container), _queue_email(container)
    container.customers.register_customer(now_meta(), name="Ana", kind="person",
                                          document="52998224725", email="ana@example.com")
    dispatcher = container.dispatcher
    # When the dispatcher catches up
    dispatcher.catch_up()
    # Then one message per e-mail, with the e-mail id and the event version as arguments
    assert [(m.actor_name, tuple(m.args)) for m in _queued(container)] == [
        ("notifications.send_email", (first, 1)), ("notifications.send_email", (second, 1))]
    # And its tracking row reached the head, so nothing is sent twice
    assert positions(container.engine, [NAME])[NAME] == container.store.head()
    dispatcher.catch_up()
    assert len(_queued(container)) == 2
    assert dispatcher.status()["lag"] == 0


def test_a_failing_send_stops_the_dispatcher_without_skipping_the_event(container: Any,
                                                                        monkeypatch: Any) -> None:
    # Given the broker refuses messages
    _queue_email(container)
    dispatcher = container.dispatcher
    actor = container.broker.get_actor("notifications.send_email")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(actor, "send_with_options", refuse)
    # When the dispatcher runs
    with pytest.raises(DispatcherStoppedError):
        dispatcher.run_forever()
    # Then it stopped where it was, reporting the error and its lag
    status = dispatcher.status()
    assert status["position"] == 0 and status["lag"] == container.store.head()
    assert "broker down" in status["error"]
    # And once the broker is back the same event is sent
    monkeypatch.undo()
    dispatcher.catch_up()
    assert len(_queued(container)) == 1


def test_the_embedded_dispatcher_thread_sends_new_events(container: Any) -> None:
    dispatcher = container.dispatcher
    dispatcher.start_thread()
    _queue_email(container)
    wait_until(lambda: len(_queued(container)) == 1)
    assert dispatcher.status()["running"]
    dispatcher.stop()
