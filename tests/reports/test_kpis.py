"""KPI definitions on hand-built histories (customers who leave and return, partial payments,
months without data), replay equality, and a scheduled report sent once per period."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.reports.kpi import KpiMonthly, kpi_monthly
from projections.reports.queries import churn, growth, month_kpis
from projections.runner import rebuild
from retaguarda.shared.meta import Meta
from tests.reports.conftest import DOCS, TENANT, customer, invoice, meta_at

UTC = timezone.utc


def at(month: int, day: int = 10) -> datetime:
    return datetime(2026, month, day, 15, 0, tzinfo=UTC)


def kpis(container: Any, month: str) -> dict[str, Any]:
    container.runner.catch_up()
    with container.engine.connect() as conn:
        return month_kpis(conn, TENANT, month)


def test_churn_counts_customers_who_leave_and_return(container: Any) -> None:
    ids = [customer(container, i, at=at(5)) for i in range(4)]  # May: 4 new
    container.customers.deactivate_customer(meta_at(at(6)), ids[0], "mudou de cidade")  # June: 1 leaves
    container.customers.reactivate_customer(meta_at(at(8)), ids[0], "voltou")  # August: returns
    container.customers.deactivate_customer(meta_at(at(8, 20)), ids[1], "preço")  # August: 1 leaves
    june = kpis(container, "2026-06")["current"]
    assert (june["active_customers"], june["churned_customers"], june["churn_rate"]) == (3, 1, "0.2500")
    july = kpis(container, "2026-07")  # a month without data keeps the stocks
    assert july["current"]["active_customers"] == 3 and july["current"]["new_customers"] == 0
    assert july["current"]["churn_rate"] == "0.0000"
    august = kpis(container, "2026-08")
    assert august["current"]["new_customers"] == 1 and august["current"]["churned_customers"] == 1
    assert august["current"]["active_customers"] == 3 and august["current"]["inactive_customers"] == 1
    assert august["current"]["churn_rate"] == "0.3333"  # 1 of the 3 active at its start
    assert august["change"]["churned_customers"] is None  # none in July
    with container.engine.connect() as conn:
        rows = churn(conn, TENANT, "2026-08", 4)
    assert [r["churned_customers"] for r in rows["items"]] == [0, 1, 0, 1]
    assert {r["reason"] for r in rows["reasons"]} == {"mudou de cidade", "preço"}


def test_partial_payments_revenue_and_default_rate(container: Any) -> None:
    c = customer(container, 0, at=at(3))
    inv = invoice(container, c, "200.00", date(2026, 3, 20), at=at(3))
    container.billing.register_payment(meta_at(at(3, 12)), inv, amount="50.00", method="pix",
                                       paid_at=at(3, 12))
    container.billing.mark_overdue(meta_at(at(3, 25)), inv, date(2026, 3, 25))
    march = kpis(container, "2026-03")["current"]
    assert march["revenue"] == "50.00"
    assert march["default_rate"] == "1.0000"  # the whole open balance (150.00) is overdue
    # Paid late: the payment covers fine and interest first, so pay more than the balance
    container.billing.register_payment(meta_at(at(4, 2)), inv, amount="170.00", method="pix",
                                       paid_at=at(4, 2))
    april = kpis(container, "2026-04")
    assert april["current"]["revenue"] == "170.00"
    assert april["current"]["default_rate"] == "0.0000"
    assert april["previous"]["revenue"] == "50.00"


def test_mrr_and_arpu_follow_subscriptions(container: Any) -> None:
    c1, c2 = customer(container, 0, at=at(2)), customer(container, 1, at=at(2))
    monthly = container.billing.create_plan(meta_at(at(2)), name="100 Mega", price="99.90").aggregate
    annual = container.billing.create_plan(meta_at(at(2)), name="Anual", price="1200.00",
                                           cycle="annual").aggregate
    container.billing.subscribe(meta_at(at(2)), customer_id=c1, plan_id=str(monthly.id), due_day=10,
                                start_date=date(2026, 2, 10))
    container.billing.subscribe(meta_at(at(2)), customer_id=c2, plan_id=str(annual.id), due_day=10,
                                start_date=date(2026, 2, 10))
    feb = kpis(container, "2026-02")["current"]
    assert feb["mrr"] == "199.90" and feb["arpu"] == "99.95"


def _snapshot(container: Any) -> list[tuple[Any, ...]]:
    with container.engine.connect() as conn:
        rows = conn.execute(sa.select(kpi_monthly).order_by(kpi_monthly.c.tenant_id, kpi_monthly.c.month)).all()
        series = growth(conn, TENANT, "2026-12", 12)
    return [tuple(str(v) for v in r) for r in rows] + [tuple(sorted((k, str(v)) for k, v in s.items()))
                                                       for s in series]


actions = st.lists(st.tuples(st.sampled_from(["register", "block", "unblock", "deactivate", "reactivate",
                                               "invoice", "pay"]),
                             st.integers(0, 5), st.integers(1, 12)), min_size=1, max_size=25)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions)
def test_replay_gives_the_same_numbers_as_live(container: Any, steps: list[tuple[str, int, int]]) -> None:
    tenant = f"t-{abs(hash(tuple(steps))) % 10**8}"
    customers: list[str] = []
    invoices: list[str] = []
    for action, i, month in sorted(steps, key=lambda s: s[2]):
        m = Meta(tenant_id=tenant, actor="u", correlation_id="c", at=at(month))
        try:
            if action == "register" or not customers:
                if len(customers) < len(DOCS):
                    customers.append(str(container.customers.register_customer(
                        m, name=f"C{len(customers)}", kind="person", document=DOCS[len(customers)],
                        email=f"c{len(customers)}@x.com").aggregate.id))
            elif action == "invoice":
                inv = container.billing.create_invoice(m, customer_id=customers[i % len(customers)],
                                                       due_date=at(month).date() + timedelta(days=5),
                                                       items=[{"description": "x", "unit_price": "30.00"}])
                container.billing.issue_invoice(m, str(inv.aggregate.id))
                invoices.append(str(inv.aggregate.id))
            elif action == "pay":
                if not invoices:
                    continue
                container.billing.register_payment(m, invoices[i % len(invoices)], amount="10.00", method="pix",
                                                   paid_at=at(month))
            else:
                cid = customers[i % len(customers)]
                getattr(container.customers, f"{action}_customer")(m, cid, "motivo")
        except Exception as exc:  # a refused command (e.g. blocking an inactive customer) records nothing
            assert type(exc).__name__ in ("ConflictError", "ValidationError"), exc
    container.runner.catch_up()
    live = _snapshot(container)
    rebuild(container.store, container.engine, KpiMonthly())
    assert _snapshot(container) == live
