"""A combined billing invoice (internet plan = SCM, support = SVA) yields one NFCom and one NFS-e,
exactly once across redelivered messages and retries, linked to the invoice both ways."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from retaguarda.fiscal.nfcom.install import DEMO_NFCOM_SETTINGS
from retaguarda.fiscal.nfcom.invoicing import (
    INVOICE_DOCUMENTS,
    documents_for_invoice,
    documents_of_invoice,
    nfcom_id_for,
    nfse_id_for,
    split_items,
)
from tests.fiscal.conftest import TENANT, add_customer, demo_settings, now_meta, run_backbone

ITEMS = [
    {"description": "Plano fibra 500 Mega", "quantity": "1", "unit_price": "119.90", "kind": "plan"},
    {
        "description": "Suporte técnico premium (SVA)",
        "quantity": "1",
        "unit_price": "30.00",
        "kind": "service",
    },
]


def test_items_split_by_fiscal_class_or_kind():
    scm, sva = split_items([*ITEMS, {"description": "x", "kind": "service", "fiscal_class": "SCM"}], ["plan"])
    assert [i["description"] for i in scm] == ["Plano fibra 500 Mega", "x"]
    assert [i["description"] for i in sva] == ["Suporte técnico premium (SVA)"]


def _combined_invoice(c: Any, issue_on: str = "invoice_issued") -> str:
    c.fiscal.save_settings(now_meta(), demo_settings())
    c.nfcom.save_settings(now_meta(), {**DEMO_NFCOM_SETTINGS, "issue_on": issue_on})
    customer = add_customer(c)
    due = date.today() + timedelta(days=10)
    inv = c.billing.create_invoice(now_meta(), customer_id=customer, due_date=due, items=ITEMS)
    invoice_id = str(inv.aggregate.id)
    c.billing.issue_invoice(now_meta(), invoice_id)
    return invoice_id


def _check_once(c: Any, invoice_id: str) -> None:
    run_backbone(c)
    # a redelivered message and a direct retry change nothing
    c.broker.get_actor(INVOICE_DOCUMENTS).send(invoice_id, TENANT, "invoice_issued")
    documents_for_invoice(c, TENANT, invoice_id, "invoice_issued")
    run_backbone(c)
    docs = documents_of_invoice(c, TENANT, invoice_id)
    assert docs["nfcom"]["id"] == str(nfcom_id_for(TENANT, invoice_id))
    assert docs["nfse"]["id"] == str(nfse_id_for(TENANT, invoice_id))
    assert docs["nfcom"]["status"] == "authorized" and docs["nfse"]["status"] == "authorized", docs
    nfcom = c.nfcom.get(TENANT, docs["nfcom"]["id"])
    assert nfcom.invoice_id == invoice_id and str(nfcom.totals["total"]) == "119.90"
    assert [i["description"] for i in nfcom.items] == ["Plano fibra 500 Mega"]
    nfse = c.fiscal.get_note(TENANT, docs["nfse"]["id"])
    assert str(nfse.amount) == "30.00"
    from projections.fiscal.nfcom_list import list_nfcom
    from projections.fiscal.nfse_list import list_notes

    with c.engine.connect() as conn:
        assert list_nfcom(conn, TENANT, invoice_id=invoice_id)["total"] == 1
        assert list_nfcom(conn, TENANT)["total"] == 1
        assert list_notes(conn, TENANT)["total"] == 1
    assert nfcom.number == 1


def test_a_combined_invoice_yields_one_nfcom_and_one_nfse_once(fiscal_container):
    c = fiscal_container
    invoice_id = _combined_invoice(c)
    _check_once(c, invoice_id)


@pytest.mark.integration
def test_a_combined_invoice_yields_one_nfcom_and_one_nfse_once_on_postgres(pg_container):
    c = pg_container
    from retaguarda.integrations.jobs import tune_actors

    tune_actors(c.broker, min_backoff=5, max_backoff=20)
    invoice_id = _combined_invoice(c)
    _check_once(c, invoice_id)


def test_on_payment_waits_for_the_payment(fiscal_container):
    c = fiscal_container
    invoice_id = _combined_invoice(c, issue_on="paid")
    run_backbone(c)
    assert documents_of_invoice(c, TENANT, invoice_id) == {
        "invoice_id": invoice_id,
        "nfcom": None,
        "nfse": None,
    }


def test_manual_issues_nothing(fiscal_container):
    c = fiscal_container
    invoice_id = _combined_invoice(c, issue_on="manual")
    run_backbone(c)
    assert documents_of_invoice(c, TENANT, invoice_id)["nfcom"] is None
