"""A combined plan (internet = SCM with its cClass, antivirus = SVA with its NFS-e service code):
the monthly billing run's invoice carries both lines with their fiscal class, and yields one NFCom
(the telecom part) and one NFS-e (the value-added part), shown in the invoice's `documents`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from retaguarda.billing import Plan
from retaguarda.billing.domain import plan_items
from retaguarda.billing.runs import generate
from retaguarda.fiscal.nfcom.install import DEMO_NFCOM_SETTINGS
from retaguarda.fiscal.nfcom.invoicing import nfcom_id_for, nfse_id_for
from retaguarda.shared.errors import ValidationError
from tests.fiscal.conftest import ADMIN, TENANT, add_customer, now_meta, run_backbone

COMBINED = {"class": "combined", "cclass": "0100401", "service_code": "010701", "sva_amount": "19.90"}


def test_a_combined_plan_splits_its_price_into_scm_and_sva_lines():
    items = plan_items("Fibra 500", Decimal("119.90"), COMBINED)
    assert [(i["fiscal_class"], i["amount"]) for i in items] == [("scm", "100.00"), ("sva", "19.90")]
    assert items[0]["cclass"] == "0100401" and items[1]["service_code"] == "010701"
    # pro rata: the SVA part is prorated like the price; the lines still add up to the amount
    half = plan_items("Fibra 500", Decimal("59.95"), COMBINED, Decimal("0.5"))
    assert sum(Decimal(i["amount"]) for i in half) == Decimal("59.95")
    assert [i["amount"] for i in half] == ["49.99", "9.96"] or [i["amount"] for i in half] == ["50.00", "9.95"]
    assert plan_items("Fibra", Decimal("99.90"), None)[0].get("fiscal_class") is None


@pytest.mark.parametrize(
    ("fiscal", "field"),
    [
        ({"class": "telecom"}, "fiscal.class"),
        ({"class": "scm", "cclass": "12"}, "fiscal.cclass"),
        ({"class": "combined", "cclass": "0100401", "sva_amount": "200.00"}, "fiscal.sva_amount"),
        ({"class": "combined", "cclass": "0100401", "sva_amount": "-1"}, "fiscal.sva_amount"),
    ],
)
def test_a_bad_fiscal_class_names_its_field(fiscal, field):
    with pytest.raises(ValidationError) as exc:
        Plan.create(now_meta(), name="Fibra", price="119.90", fiscal=fiscal)
    assert field in exc.value.errors


def test_the_fiscal_class_can_be_changed_and_cleared():
    plan = Plan.create(now_meta(), name="Fibra", price="119.90")
    assert plan.fiscal is None
    assert plan.change(now_meta(), fiscal=COMBINED) == {"fiscal": {**COMBINED}}
    assert plan.fiscal["sva_amount"] == "19.90"
    plan.change(now_meta(), fiscal=None)
    assert plan.fiscal is None


def test_monthly_run_of_a_combined_plan_yields_nfcom_and_nfse(fiscal_container, api):
    c = fiscal_container
    c.nfcom.save_settings(now_meta(), {**DEMO_NFCOM_SETTINGS, "issue_on": "invoice_issued"})
    from retaguarda.fiscal.nfcom.backends.authority import SimulatedSvrs

    c.nfcom_backend_options = {"authority": SimulatedSvrs(environment="homologacao", clock=c.clock)}
    customer = add_customer(c)
    r = api.post("/api/v1/billing/plans", headers=ADMIN,
                 json={"name": "Fibra 500 + antivírus", "price": "119.90", "fiscal": COMBINED})
    assert r.status_code == 201, r.text
    assert r.json()["fiscal"]["class"] == "combined"
    bad = api.post("/api/v1/billing/plans", headers=ADMIN,
                   json={"name": "X", "price": "10.00", "fiscal": {"class": "scm", "cclass": "abc"}})
    assert bad.status_code == 422 and "fiscal.cclass" in bad.text
    plan_id = r.json()["id"]
    today = date.today()
    c.billing.subscribe(now_meta(), customer_id=customer, plan_id=plan_id, due_day=10,
                        start_date=today.replace(day=1))
    c.runner.catch_up()
    assert generate(c, TENANT, today) >= 1
    c.runner.catch_up()
    invoices = api.get("/api/v1/billing/invoices", headers=ADMIN, params={"customer": customer}).json()["items"]
    invoice_id = invoices[0]["id"]
    inv = c.billing.get_invoice(TENANT, invoice_id)
    assert [i.get("fiscal_class") for i in inv.items] == ["scm", "sva"]
    run_backbone(c, rounds=8)
    body = api.get(f"/api/v1/billing/invoices/{invoice_id}", headers=ADMIN).json()
    docs = {d["kind"]: d for d in body["documents"]}
    assert set(docs) == {"nfcom", "nfse"}, body["documents"]
    assert docs["nfcom"]["id"] == str(nfcom_id_for(TENANT, invoice_id))
    assert docs["nfse"]["id"] == str(nfse_id_for(TENANT, invoice_id))
    nf = c.nfcom.get(TENANT, docs["nfcom"]["id"])
    assert docs["nfcom"]["status"] == "authorized", (nf.cstat, nf.reason)
    assert len(docs["nfcom"]["access_key"]) == 44
    assert docs["nfcom"]["pdf_url"].endswith("/danfecom")
    nfcom = c.nfcom.get(TENANT, docs["nfcom"]["id"])
    assert [i["cclass"] for i in nfcom.items] == ["0100401"]
    assert str(nfcom.totals["total"]) == str(inv.items[0]["amount"])
    note = c.fiscal.get_note(TENANT, docs["nfse"]["id"])
    assert str(note.amount) == inv.items[1]["amount"] and note.service["code"] == "010701"
    page = api.get(f"/billing/invoices/{invoice_id}", headers=ADMIN)
    assert page.status_code == 200 and 'data-testid="invoice-document"' in page.text


def test_a_bulk_run_documents_every_invoice_of_the_competence_once(fiscal_container, api):
    from tests.integrations.helpers import wait_until

    c = fiscal_container
    c.nfcom.save_settings(now_meta(), {**DEMO_NFCOM_SETTINGS, "issue_on": "manual"})
    from retaguarda.fiscal.nfcom.backends.authority import SimulatedSvrs

    c.nfcom_backend_options = {"authority": SimulatedSvrs(environment="homologacao", clock=c.clock)}
    due = date.today().replace(day=20)
    invoice_ids = []
    for n in range(3):
        customer = add_customer(c, base=f"28374651000{n}", name=f"Cliente {n} Ltda")
        items = [{"description": "Fibra 300", "quantity": "1", "unit_price": "89.90", "kind": "plan",
                  "fiscal_class": "scm", "cclass": "0100401"},
                 {"description": "Antivírus", "quantity": "1", "unit_price": "10.00", "kind": "service",
                  "fiscal_class": "sva", "service_code": "010701"}]
        inv = c.billing.create_invoice(now_meta(), customer_id=customer, due_date=due, items=items)
        c.billing.issue_invoice(now_meta(), str(inv.aggregate.id))
        invoice_ids.append(str(inv.aggregate.id))
    competence = f"{due:%Y-%m}"
    assert api.post("/api/v1/fiscal/nfcom/bulk", headers=ADMIN, json={"competence": "2026-13"}).status_code == 422
    r = api.post("/api/v1/fiscal/nfcom/bulk", headers=ADMIN, json={"competence": competence})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    assert r.json()["total"] == 3

    def finished() -> dict | None:
        body = api.get(f"/api/v1/fiscal/nfcom/bulk/{run_id}", headers=ADMIN).json()
        done = body["status"] == "finished" and body["nfcom_by_status"].get("authorized") == 3
        return body if done else None

    body = wait_until(finished, timeout=60, interval=0.2)
    assert (body["processed"], body["nfcom"], body["nfse"], body["failed"]) == (3, 3, 3, 0)
    assert body["percent"] == 100
    for invoice_id in invoice_ids:
        docs = api.get(f"/api/v1/billing/invoices/{invoice_id}", headers=ADMIN).json()["documents"]
        assert sorted(d["kind"] for d in docs) == ["nfcom", "nfse"]
    page = api.get(f"/fiscal/nfcom/bulk/{run_id}", headers=ADMIN)
    assert page.status_code == 200 and 'data-status="finished"' in page.text
    # a second run finds the documents instead of creating them again
    again = api.post("/api/v1/fiscal/nfcom/bulk", headers=ADMIN, json={"competence": competence}).json()
    wait_until(lambda: api.get(f"/api/v1/fiscal/nfcom/bulk/{again['id']}", headers=ADMIN).json()["status"]
               == "finished" or None, timeout=60, interval=0.2)
    listed = api.get("/api/v1/fiscal/nfcom", headers=ADMIN, params={"competence": competence}).json()
    assert listed["total"] == 3


def test_invoice_items_take_their_fiscal_class_through_the_api(fiscal_container, api):
    customer = add_customer(fiscal_container)
    due = date.today().isoformat()
    item = {"description": "Fibra", "quantity": "1", "unit_price": "99.90", "kind": "plan",
            "fiscal_class": "scm", "cclass": "0100401"}
    bad = api.post("/api/v1/billing/invoices", headers=ADMIN,
                   json={"customer_id": customer, "due_date": due, "items": [{**item, "fiscal_class": "icms"}]})
    assert bad.status_code == 422 and "items[0].fiscal_class" in bad.text
    bad = api.post("/api/v1/billing/invoices", headers=ADMIN,
                   json={"customer_id": customer, "due_date": due, "items": [{**item, "cclass": "01004"}]})
    assert bad.status_code == 422 and "items[0].cclass" in bad.text
    r = api.post("/api/v1/billing/invoices", headers=ADMIN,
                 json={"customer_id": customer, "due_date": due, "items": [item]})
    assert r.status_code == 201, r.text
    body = api.get(f"/api/v1/billing/invoices/{r.json()['id']}", headers=ADMIN).json()
    assert body["items"][0]["fiscal_class"] == "scm" and body["items"][0]["cclass"] == "0100401"
    assert body["documents"] == []  # a draft has none
