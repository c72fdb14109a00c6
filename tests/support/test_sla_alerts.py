"""The periodic SLA job records warnings and breaches once, and the alert e-mails reach a real
SMTP server (tests/fakes/smtp.py) for the assignee and the managers — once per event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from retaguarda.integrations.jobs import tune_actors
from retaguarda.shared.clock import SAO_PAULO, FixedClock
from retaguarda.support.actors import CHECK_SLA, SLA_ALERT_ACTOR
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


def _events(container: Any, ticket_id: str) -> list[str]:
    return [type(e).__qualname__ for e in container.store.events.get(__import__("uuid").UUID(ticket_id))]


def _run_job(container: Any) -> None:
    container.runner.catch_up()
    container.broker.get_actor(CHECK_SLA).send()
    deliver(container, queues=("support", "notifications"))


def test_breach_is_recorded_once_and_mailed_to_assignee_and_managers(container, smtp):
    # Given a critical ticket (first response in 1 business hour) assigned to a technician
    ws = make_workspace(container)
    container.clock.at = MONDAY_9
    ticket = container.support.open_ticket(ws.meta("admin", MONDAY_9), ws.staff(), customer_id=ws.customers[0],
                                           title="Backbone down", description="", priority="critical",
                                           channel="phone").aggregate
    container.support.assign(ws.meta("admin", MONDAY_9), str(ticket.id), ws.users["tech"])
    # When the job runs before 80 % nothing happens
    container.clock.at = MONDAY_9 + timedelta(minutes=30)
    _run_job(container)
    assert "Ticket.SlaWarning" not in _events(container, str(ticket.id))
    # At 50 minutes (over 80 % of the first response target) a warning is recorded and mailed
    container.clock.at = MONDAY_9 + timedelta(minutes=50)
    _run_job(container)
    assert _events(container, str(ticket.id)).count("Ticket.SlaWarning") == 1
    # (the ticket's opening and assignment were announced by e-mail too: 2 more messages)
    warned = [m for m in smtp.wait_for_messages(4) if "SLA" in m.message["Subject"]]
    assert sorted(m.rcpt_tos[0] for m in warned) == sorted([ws.emails["tech"], ws.emails["manager"]])
    assert all("Alerta de SLA: primeira resposta" in m.message["Subject"] for m in warned)
    # At 70 minutes it is breached; running the job twice records and mails it once
    container.clock.at = MONDAY_9 + timedelta(minutes=70)
    _run_job(container)
    _run_job(container)
    events = _events(container, str(ticket.id))
    assert events.count("Ticket.SlaBreached") == 1 and events.count("Ticket.SlaWarning") == 1
    mails = smtp.wait_for_messages(6)
    breach = [m for m in mails if "SLA estourado" in m.message["Subject"]]
    assert len(breach) == 2 and ticket.number in breach[0].message["Subject"]
    assert f"/support/tickets/{ticket.id}" in breach[0].body
    # And a redelivered alert message (at-least-once) sends nothing more
    version = len(events)
    container.broker.get_actor(SLA_ALERT_ACTOR).send(str(ticket.id), version, "first_response", "breached")
    deliver(container, queues=("support", "notifications"))
    assert len([m for m in smtp.messages if "SLA" in m.message["Subject"]]) == 4
    # The queue shows it as breached now
    from projections.support.ticket_queue import list_tickets

    with container.engine.connect() as conn:
        breached = list_tickets(conn, ws.tenant_id, container.clock.now(), sla="breached")
    assert [i["id"] for i in breached["items"]] == [str(ticket.id)]


def test_paused_tickets_are_not_alerted_and_night_hours_do_not_count(container, smtp):
    ws = make_workspace(container)
    friday_17 = datetime(2026, 11, 27, 17, 10, tzinfo=SAO_PAULO)
    container.clock.at = friday_17
    t1 = container.support.open_ticket(ws.meta("admin", friday_17), ws.staff(), customer_id=ws.customers[0],
                                       title="Night", description="", priority="critical", channel="phone").aggregate
    t2 = container.support.open_ticket(ws.meta("admin", friday_17), ws.staff(), customer_id=ws.customers[0],
                                       title="Waiting", description="", priority="critical", channel="phone").aggregate
    container.support.change_status(ws.meta("admin", friday_17 + timedelta(minutes=5)), ws.staff(), str(t2.id),
                                    "waiting_customer", "asked for the modem serial")
    # Sunday night: 53 wall hours later, but only 50 business minutes for t1 (80 % of 60) and 5 for t2
    container.clock.at = datetime(2026, 11, 29, 22, 0, tzinfo=SAO_PAULO)
    _run_job(container)
    assert _events(container, str(t1.id)).count("Ticket.SlaWarning") == 1
    assert "Ticket.SlaBreached" not in _events(container, str(t1.id))
    assert "Ticket.SlaWarning" not in _events(container, str(t2.id))
