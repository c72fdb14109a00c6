"""The acceptance interfaces of issue #21: dashboard KPIs, growth, alerts, reports in every
format and scheduled reports sent as e-mail attachments."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from projections.reports.queries import KPI_KEYS, current_month, shift_month
from tests.integrations.helpers import wait_until
from tests.reports.conftest import ADMIN, customer, invoice, meta_at, settle


def test_kpis_have_every_key_for_the_month_before_and_the_change(client: Any, live_container: Any) -> None:
    month = current_month()
    r = client.get(f"/api/v1/dashboard/kpis?month={month}", headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["month"] == month
    for part in ("current", "previous", "change"):
        assert set(KPI_KEYS) <= set(body[part]), part
    for key in ("churn_rate", "mrr", "arpu", "revenue", "default_rate"):
        assert isinstance(body["current"][key], str)
        Decimal(body["current"][key])
    assert body["change"]["revenue"] is None  # nothing last month


def test_a_payment_of_100_registered_today_raises_this_months_revenue_by_exactly_100(
    client: Any, live_container: Any
) -> None:
    c = customer(live_container, 0)
    inv = invoice(live_container, c, "250.00", date.today() + timedelta(days=10))
    settle(live_container)
    before = Decimal(client.get("/api/v1/dashboard/kpis", headers=ADMIN).json()["current"]["revenue"])
    r = client.post(
        f"/api/v1/billing/invoices/{inv}/payments", headers=ADMIN, json={"amount": "100.00", "method": "pix"}
    )
    assert r.status_code == 201, r.text
    after = client.get(f"/api/v1/dashboard/kpis?month={current_month()}", headers=ADMIN).json()
    assert Decimal(after["current"]["revenue"]) - before == Decimal("100.00")
    assert after["current"]["revenue"] == "100.00"


def test_growth_has_twelve_months_oldest_first_ending_this_month(client: Any, live_container: Any) -> None:
    customer(live_container, 0)
    settle(live_container)
    body = client.get("/api/v1/dashboard/growth?months=12", headers=ADMIN).json()
    series = body["series"]
    assert len(series) == 12
    months = [s["month"] for s in series]
    assert months == sorted(months) and months[-1] == current_month()
    assert months[0] == shift_month(current_month(), -11)
    assert series[-1]["active_customers"] == 1 and series[-1]["new_customers"] == 1
    for s in series:
        assert {"active_customers", "revenue", "new_customers", "churned_customers"} <= set(s)


def test_alerts_count_overdue_invoices_with_a_link(client: Any, live_container: Any) -> None:
    c = customer(live_container, 0)
    inv = invoice(live_container, c, "80.00", date.today() - timedelta(days=5), at=datetime.now(timezone.utc))
    live_container.billing.mark_overdue(meta_at(), inv, date.today())
    settle(live_container)
    items = client.get("/api/v1/dashboard/alerts", headers=ADMIN).json()["items"]
    by_kind = {i["kind"]: i for i in items}
    assert by_kind["invoices_overdue"]["count"] == 1
    assert by_kind["invoices_overdue"]["link"].startswith("/billing/invoices")
    assert all({"kind", "count", "link"} <= set(i) for i in items)


def test_customers_report_in_json_xlsx_and_pdf(client: Any, live_container: Any) -> None:
    for i in range(3):
        customer(live_container, i, city="Recife" if i else '=HYPERLINK("x")')
    settle(live_container)
    js = client.get("/api/v1/reports/customers?format=json", headers=ADMIN).json()
    assert js["total"] == 3 and len(js["items"]) == 3
    x = client.get("/api/v1/reports/customers?format=xlsx", headers=ADMIN)
    assert x.status_code == 200
    assert x.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(x.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Nome" or rows[0][0] == "Name"
    data = [r for r in rows[1:] if r[1]]  # the totals row has no document
    assert sorted(r[0] for r in data) == sorted(i["name"] for i in js["items"])
    assert ws.freeze_panes == "A2"
    assert isinstance(data[0][8], datetime)  # dates are dates
    assert all(not str(v).startswith("=") for r in rows for v in r if v is not None)  # formula neutralised
    p = client.get("/api/v1/reports/customers?format=pdf", headers=ADMIN)
    assert p.headers["content-type"] == "application/pdf" and p.content.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(p.content)).pages[0].extract_text()
    assert "Cliente 1" in text and "1" in text
    csv = client.get("/api/v1/reports/customers?format=csv", headers=ADMIN)
    assert csv.status_code == 200 and "Cliente 2" in csv.text


def test_churn_report_has_twelve_rows(client: Any, live_container: Any) -> None:
    body = client.get("/api/v1/reports/churn?months=12&format=json", headers=ADMIN).json()
    assert len(body["items"]) == 12
    assert body["items"][-1]["month"] == current_month()


def test_bad_filters_are_problems_naming_the_field(client: Any) -> None:
    r = client.get("/api/v1/reports/customers?created_from=ontem", headers=ADMIN)
    assert r.status_code in (400, 422) and "created_from" in r.text
    r = client.get("/api/v1/dashboard/kpis?month=2026-13", headers=ADMIN)
    assert r.status_code in (400, 422) and "month" in r.text
    assert client.get("/api/v1/reports/nothing", headers=ADMIN).status_code == 404
    assert client.get("/api/v1/dashboard/kpis").status_code == 401


def test_billing_report_xlsx_totals_equal_the_json(client: Any, live_container: Any) -> None:
    c = customer(live_container, 0)
    invoice(live_container, c, "99.90", date.today() + timedelta(days=5))
    invoice(live_container, c, "0.10", date.today() + timedelta(days=5))
    settle(live_container)
    js = client.get("/api/v1/reports/billing?format=json", headers=ADMIN).json()
    assert js["summary"]["issued"] == "100.00"
    ws = load_workbook(
        io.BytesIO(client.get("/api/v1/reports/billing?format=xlsx", headers=ADMIN).content)
    ).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 1 + 2 + 1  # header, invoices, totals
    total_col = rows[0].index("Total")
    assert isinstance(rows[1][total_col], (int, float))
    assert Decimal(str(rows[-1][total_col])) == Decimal("100.00")
    cell = next(iter(ws.iter_rows(min_row=2, max_row=2)))[total_col]
    assert "R$" in cell.number_format


def test_schedules_crud_and_send_now_puts_an_xlsx_attachment_in_the_outbox(
    client: Any, live_container: Any
) -> None:
    body = {
        "kind": "billing",
        "format": "xlsx",
        "frequency": "weekly",
        "weekday": 1,
        "time": "08:00",
        "recipients": ["x@example.com"],
    }
    r = client.post("/api/v1/reports/schedules", headers=ADMIN, json=body)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert client.get(f"/api/v1/reports/schedules/{sid}", headers=ADMIN).json()["weekday"] == 1
    assert [s["id"] for s in client.get("/api/v1/reports/schedules", headers=ADMIN).json()["items"]] == [sid]
    r = client.patch(
        f"/api/v1/reports/schedules/{sid}", headers=ADMIN, json={"time": "09:30", "paused": True}
    )
    assert r.status_code == 200 and r.json()["time"] == "09:30" and r.json()["paused"] is True
    r = client.post(f"/api/v1/reports/schedules/{sid}/send-now", headers=ADMIN)
    assert r.status_code == 202

    def outbox_entry() -> Any:
        items = client.get("/api/v1/ops/outbox", headers=ADMIN).json()["items"]
        return next((i for i in items if i["to"] == "x@example.com"), None)

    entry = wait_until(outbox_entry, timeout=30)
    detail = client.get(f"/api/v1/ops/outbox/{entry['id']}", headers=ADMIN).json()
    assert next(a["filename"] for a in detail["attachments"]).endswith(".xlsx")
    assert len(detail["attachments"][0]["sha256"]) == 64
    history = wait_until(
        lambda: [
            h
            for h in client.get(f"/api/v1/reports/schedules/{sid}/history", headers=ADMIN).json()["items"]
            if h["status"] == "sent"
        ]
    )
    assert history[0]["emails"] == 1
    assert client.delete(f"/api/v1/reports/schedules/{sid}", headers=ADMIN).status_code == 204
    assert client.get(f"/api/v1/reports/schedules/{sid}", headers=ADMIN).status_code == 404


def test_a_bad_schedule_is_refused_naming_the_field(client: Any) -> None:
    r = client.post(
        "/api/v1/reports/schedules",
        headers=ADMIN,
        json={"kind": "billing", "frequency": "weekly", "recipients": ["nope"]},
    )
    assert r.status_code in (400, 422)
    assert "recipients[0]" in r.text
    r = client.post(
        "/api/v1/reports/schedules",
        headers=ADMIN,
        json={"kind": "billing", "frequency": "weekly", "recipients": ["a@b.co"]},
    )
    assert r.status_code in (400, 422) and "weekday" in r.text
    assert client.get("/api/v1/reports/schedules", headers=ADMIN).json()["total"] == 0


def test_technicians_do_not_see_money_reports(client: Any) -> None:
    tech = {"x-test-role": "technician@tenant-a"}
    assert client.get("/api/v1/reports/billing", headers=tech).status_code == 403
    assert client.get("/api/v1/reports/technicians", headers=tech).status_code == 200
