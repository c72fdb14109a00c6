"""Notifications reach a real SMTP server (tests/fakes/smtp.py) once per event and recipient,
whatever the retries: assignment → the technician, order scheduled → technician and customer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retaguarda.integrations.jobs import tune_actors
from retaguarda.notifications.announce import ANNOUNCE
from retaguarda.shared.clock import SAO_PAULO, FixedClock
from tests.conftest import build_container
from tests.fakes.smtp import FakeSmtpServer
from tests.integrations.helpers import deliver
from tests.support.conftest import make_workspace

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SAO_PAULO)


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
def container(tmp_path: Path, smtp: FakeSmtpServer) -> Iterator[Any]:
    c = build_container(tmp_path / "var", smtp_url=smtp.url)
    c.clock = FixedClock(MONDAY_9)
    tune_actors(c.broker, min_backoff=10, max_backoff=40)
    yield c
    c.close()


def _pump(container: Any) -> None:
    container.runner.catch_up()
    deliver(container, queues=("notifications", "field", "support"))


def test_each_person_is_mailed_once_per_event_even_when_the_job_runs_again(container: Any, smtp: FakeSmtpServer):
    ws = make_workspace(container)
    meta = ws.meta("manager", MONDAY_9)
    ticket = container.support.open_ticket(meta, ws.staff("manager"), customer_id=ws.customers[0], title="Sem sinal",
                                           description="", priority="high", channel="phone").aggregate
    saved = container.support.assign(meta, str(ticket.id), ws.users["tech"])
    order = container.service_orders.open_order(meta, customer_id=ws.customers[0], kind="repair").aggregate
    scheduled = container.service_orders.schedule(meta, str(order.id), technician_id=ws.users["tech"],
                                                  start=MONDAY_9 + timedelta(hours=1),
                                                  end=MONDAY_9 + timedelta(hours=2))
    _pump(container)
    # opened → manager; assigned → tech; scheduled → tech and the customer's portal user
    mails = smtp.wait_for_messages(4)
    to = sorted(m.rcpt_tos[0] for m in mails)
    assert to == sorted([ws.emails["manager"], ws.emails["tech"], ws.emails["tech"], ws.emails["customer"]])
    assert any(ticket.number in m.message["Subject"] for m in mails)
    assert any(order.number in m.message["Subject"] for m in mails)
    # The same announcements delivered again (at-least-once) send nothing more
    actor = container.broker.get_actor(ANNOUNCE)
    actor.send(str(ticket.id), saved.aggregate.version)
    actor.send(str(order.id), scheduled.aggregate.version)
    deliver(container, queues=("notifications",))
    container.runner.catch_up()
    deliver(container, queues=("notifications",))
    assert len(smtp.messages) == 4
