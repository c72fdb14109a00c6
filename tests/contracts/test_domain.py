"""Contract aggregate: numbers, versions (old ones untouched, signed text frozen), the status machine
with reasons, single-use signing, renewal/expiry, and the expiry notice once per end date."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from retaguarda.contracts.domain import Contract, Terms, sha256_text
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def meta(at: datetime = AT, actor: str = "u1") -> Meta:
    return Meta("t1", actor, "corr", at)


def terms(**over) -> Terms:
    values = dict(plan_id="p1", plan_name="Fibra", price="99.90", start_date=date(2026, 3, 1),
                  end_date=date(2027, 3, 1), loyalty_months=12, auto_renew=True)
    values.update(over)
    return Terms.clean(**values)


def contract(**over) -> Contract:
    return Contract.create(uuid.uuid4(), meta(), number=123, customer_id="c1", template_id="t", terms=terms(**over),
                           text="Texto v1")


def send(c: Contract, token: str = "tok", at: datetime = AT) -> None:
    c.request_signature(meta(at), provider="builtin", token_sha256=token, expires_at=at + timedelta(hours=1),
                        signer_email="a@b.c", pdf_sha256="pdfhash")


def test_number_terms_and_first_version():
    c = contract()
    assert c.number == "CT-000123" and c.status == "draft" and c.version_number == 1
    assert c.current["sha256"] == sha256_text("Texto v1") and c.terms["price"] == "99.90"
    assert c.terms["loyalty_fee"] == "99.90"  # default full fee: one monthly price


def test_terms_validation_names_every_field():
    with pytest.raises(ValidationError) as exc:
        Terms.clean(plan_id="", plan_name="", price="abc", start_date="2026-01-01", end_date=date(2020, 1, 1),
                    loyalty_months=40, auto_renew="yes", due_day=31)
    assert {"plan_id", "price", "start_date", "loyalty_months", "auto_renew", "due_day"} <= set(exc.value.errors)
    with pytest.raises(ValidationError) as exc:
        terms(price="10.001")
    assert exc.value.field == "price"
    with pytest.raises(ValidationError):
        terms(end_date=date(2026, 3, 1))  # not after the start


def test_amend_appends_versions_and_keeps_old_ones():
    c = contract()
    assert c.amend(meta(), terms=terms(price="109.90"), text="Texto v2", note="reajuste")
    assert c.version_number == 2 and c.version_at(1)["text"] == "Texto v1" and c.version_at(1)["terms"]["price"] == "99.90"
    assert c.version_at(2)["changes"]["price"] == ["99.90", "109.90"] and c.version_at(2)["by"] == "u1"
    assert not c.amend(meta(), terms=terms(price="109.90"), text="Texto v2", note="")  # nothing changed
    assert c.version_at(3) is None


def test_sign_once_freezes_the_signed_version():
    c = contract()
    send(c)
    with pytest.raises(ConflictError):
        c.sign(meta(), provider="builtin", name="Ana", document="1", ip="1.1.1.1", user_agent="ua",
               pdf_sha256="other", token_sha256="tok")  # not the PDF that was sent
    c.sign(meta(), provider="builtin", name="Ana", document="123", ip="1.1.1.1", user_agent="ua",
           pdf_sha256="pdfhash", token_sha256="tok")
    assert c.status == "active" and c.signature["sha256"] == sha256_text("Texto v1")
    assert c.signature["pdf_sha256"] == "pdfhash" and c.signing is None
    with pytest.raises(ConflictError):  # the same link again
        c.sign(meta(), provider="builtin", name="Ana", document="123", ip="", user_agent="", pdf_sha256="pdfhash",
               token_sha256="tok")
    c.amend(meta(), terms=terms(price="120.00"), text="Texto v2", note="")
    assert c.version_at(1)["text"] == "Texto v1" and c.signature["version"] == 1 and c.status == "active"


def test_expired_or_replaced_link_is_refused_and_amending_voids_the_request():
    c = contract()
    send(c, "old")
    send(c, "new")
    assert c.signing_state("old", AT) == "used" and c.signing_state("new", AT) == "ok"
    assert c.signing_state("new", AT + timedelta(hours=2)) == "expired"
    with pytest.raises(ConflictError):
        c.sign(meta(AT + timedelta(hours=2)), provider="builtin", name="A", document="1", ip="", user_agent="",
               pdf_sha256="pdfhash", token_sha256="new")
    c.amend(meta(), terms=terms(price="1.00"), text="x", note="")
    assert c.status == "draft" and c.signing is None


def test_status_machine_reasons_and_fee():
    c = contract()
    with pytest.raises(ConflictError):
        c.suspend(meta(), "x")
    with pytest.raises(ValidationError):
        c.activate_on_paper(meta(), "")
    c.activate_on_paper(meta(), "papel")
    assert c.status == "active" and c.status_reason == "papel"
    c.suspend(meta(), "inadimplência")
    assert c.status == "suspended"
    c.resume(meta(), "pago")
    fee = c.cancel(meta(), "mudança", date(2026, 9, 1))  # 6 of 12 months left
    assert fee == Decimal("49.95") and c.status == "cancelled" and c.cancellation_fee == "49.95"
    with pytest.raises(ConflictError):
        c.cancel(meta(), "again", date(2026, 9, 2))


def test_cancel_draft_or_waived_costs_nothing():
    c = contract()
    assert c.cancel(meta(), "desistiu", date(2026, 3, 2)) == Decimal("0.00")
    d = contract()
    d.activate_on_paper(meta(), "papel")
    assert d.cancel(meta(), "falha da prestadora", date(2026, 3, 2), waive_fee=True) == Decimal("0.00")


def test_renew_expire_and_notice_once_per_end_date():
    c = contract()
    c.activate_on_paper(meta(), "papel")
    assert c.queue_expiry_notice(meta()) and not c.queue_expiry_notice(meta())
    new_end = c.renew(meta(), text="Texto v1\n\nRenovado")
    assert new_end == date(2028, 3, 1) and c.version_number == 2 and c.version_at(2)["note"] == "renewed"
    assert c.queue_expiry_notice(meta())  # a new end date gets its own notice
    c.expire(meta(), "end of term")
    assert c.status == "expired"
    assert not c.queue_expiry_notice(meta())
    open_ended = contract(end_date=None)
    open_ended.activate_on_paper(meta(), "papel")
    with pytest.raises(ConflictError):
        open_ended.renew(meta(), text="x")
