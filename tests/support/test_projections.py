"""Read models: technician performance figures per month, queue counters, dashboard cards, and
a replay that rebuilds the same rows from the log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from projections.runner import rebuild
from projections.support.technician_performance import performance, support_resolutions
from projections.support.ticket_queue import dashboard_counts, queue_counts, support_tickets
from retaguarda.shared.clock import SAO_PAULO
from retaguarda.shared.meta import Meta
from retaguarda.support import Actor
from retaguarda.web.principal import Principal

TENANT = "tenant-a"
MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=SAO_PAULO)


def m(at: datetime, actor: str = "admin-1") -> Meta:
    return Meta(tenant_id=TENANT, actor=actor, correlation_id="c", at=at)


class _Users:
    """Technicians as the identity context would report them (tenant, role, status)."""

    def __init__(self) -> None:
        self.by_id = {u: type("U", (), {"tenant_id": TENANT, "role": "technician", "status": "active"})()
                      for u in ("tech-a", "tech-b")}

    def __call__(self, user_id: str) -> object:
        return self.by_id.get(user_id)


def _scenario(container) -> dict[str, str]:
    container.support._users = _Users()
    customer = str(container.customers.register_customer(
        m(MONDAY_8), name="C", kind="person", document="52998224725", email="c@x.test").aggregate.id)
    support = container.support
    ids = {}
    # tech-a resolves three high tickets (8 h resolution target) in 1 h, 2 h and 10 h (late)
    for name, hours in (("a1", 1), ("a2", 2), ("a3", 10)):
        t = support.open_ticket(m(MONDAY_8), Actor("admin-1"), customer_id=customer, title=name, description="",
                                priority="high", channel="phone").aggregate
        support.assign(m(MONDAY_8), str(t.id), "tech-a")
        support.add_comment(m(MONDAY_8 + timedelta(minutes=30), "tech-a"), Actor("tech-a"), str(t.id),
                            body="on it", visibility="public")
        support.change_status(m(MONDAY_8 + timedelta(hours=hours), "tech-a"), Actor("tech-a"), str(t.id),
                              "resolved", "done")
        ids[name] = str(t.id)
    # tech-b resolves one, which is then reopened (leaves the figures); one stays open unassigned
    t = support.open_ticket(m(MONDAY_8), Actor("admin-1"), customer_id=customer, title="b1", description="",
                            priority="medium", channel="phone").aggregate
    support.assign(m(MONDAY_8), str(t.id), "tech-b")
    support.change_status(m(MONDAY_8 + timedelta(hours=3), "tech-b"), Actor("tech-b"), str(t.id), "resolved")
    support.change_status(m(MONDAY_8 + timedelta(hours=4), "tech-b"), Actor("tech-b"), str(t.id), "reopened",
                          "not fixed")
    ids["b1"] = str(t.id)
    ids["open"] = str(support.open_ticket(m(MONDAY_8), Actor("admin-1"), customer_id=customer, title="x",
                                          description="", priority="low", channel="api").aggregate.id)
    container.runner.catch_up()
    return ids


def test_technician_figures_per_month(container):
    _scenario(container)
    with container.engine.connect() as conn:
        rows = performance(conn, TENANT, month="2026-11")
    assert rows == [{
        "month": "2026-11", "technician_id": "tech-a", "resolved": 3,
        "median_business_minutes": 120.0, "p90_business_minutes": 600.0,
        # the 10 h one crossed its 8 h target: 2 of 3 kept the SLA
        "sla_compliance": 66.7,
    }]


def test_queue_counters_and_dashboard_cards(container):
    _scenario(container)
    now = MONDAY_8 + timedelta(hours=4, minutes=30)
    with container.engine.connect() as conn:
        counts = queue_counts(conn, TENANT, "tech-b", now)
        cards = dashboard_counts(conn, TENANT, now, datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc))
    assert counts == {"all": 2, "mine": 1, "unassigned": 1, "breached": 0}
    assert cards == {"open": 2, "breached": 0, "resolved_this_month": 3}
    from retaguarda.support.dashboard import cards as dashboard_cards

    staff = Principal(kind="user", id="tech-b", tenant_id=TENANT, role="technician",
                      permissions=frozenset({"support:read"}))
    with container.engine.connect() as conn:
        shown = {c["testid"]: c["value"] for c in dashboard_cards(conn, staff, now)}
        assert dashboard_cards(conn, Principal(kind="user", id="f", tenant_id=TENANT, role="finance",
                                               permissions=frozenset()), now) == []
    assert shown == {"card-open-tickets": 2, "card-breached-tickets": 0, "card-resolved-month": 3}
    # Late on Tuesday the low ticket (8 h first response) is breached without any job having run
    with container.engine.connect() as conn:
        later = queue_counts(conn, TENANT, "tech-b", MONDAY_8 + timedelta(days=1, hours=9))
    assert later["breached"] == 2


def test_replay_rebuilds_the_same_rows(container):
    _scenario(container)

    def snapshot() -> tuple[list, list]:
        with container.engine.connect() as conn:
            return (sorted(tuple(r) for r in conn.execute(sa.select(support_tickets))),
                    sorted(tuple(r) for r in conn.execute(sa.select(support_resolutions))))

    before = snapshot()
    for projection in container.runner.projections:
        if projection.name.startswith("support_"):
            rebuild(container.store, container.engine, projection, batch_size=5)
    assert snapshot() == before
