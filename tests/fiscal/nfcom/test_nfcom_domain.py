"""The Nfcom aggregate alone: validation naming fields, the life cycle, the cancellation window."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retaguarda.fiscal.nfcom.domain import SETTINGS_DEFAULTS, Nfcom, cancel_deadline, clean_settings
from retaguarda.fiscal.nfcom.key import is_valid
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

AT = datetime(2026, 12, 4, 15, tzinfo=timezone.utc)
DEFAULTS = clean_settings(dict(SETTINGS_DEFAULTS))
ISSUER = {"cnpj": "11222333000181", "uf": "SP", "name": "Demo", "state_registration": "110042490114"}


def meta(at: datetime = AT) -> Meta:
    return Meta(tenant_id="t1", actor="u1", correlation_id="c1", at=at)


def data(**changes: Any) -> dict[str, Any]:
    return {
        "customer_id": "cust-1",
        "competence": "2026-12",
        "recipient": {"document": "52998224725", "name": "Maria", "municipality_ibge": "3550308", "uf": "SP"},
        "items": [{"cclass": "0100401", "description": "Internet", "quantity": "2", "unit_price": "49.95"}],
        **changes,
    }


def authorized(at: datetime = AT) -> Nfcom:
    n = Nfcom.draft(uuid.uuid4(), meta(at), data(), DEFAULTS)
    n.request_emission(
        meta(at),
        series=1,
        number=7,
        random_code="4829173",
        backend="sandbox",
        environment="homologacao",
        issuer=ISSUER,
        taxes=DEFAULTS,
    )
    n.authorize(
        meta(at),
        protocol="3352600000000001",
        authorized_at=at,
        cstat="100",
        reason="ok",
        xml="<x/>",
        proc_xml="",
        calls=[],
    )
    return n


def test_a_draft_computes_its_totals_with_icms_fust_funttel():
    n = Nfcom.draft(uuid.uuid4(), meta(), data(), DEFAULTS)
    assert n.status == "draft" and n.totals["total"] == Decimal("99.90")
    assert (n.totals["icms"], n.totals["fust"], n.totals["funttel"]) == (
        Decimal("17.98"),
        Decimal("1.00"),
        Decimal("0.50"),
    )


def test_every_bad_field_is_named_at_once():
    with pytest.raises(ValidationError) as caught:
        Nfcom.draft(
            uuid.uuid4(),
            meta(),
            data(
                competence="12/2026",
                items=[{"cclass": "1", "description": "", "quantity": "0", "unit_price": "-1", "unit": "KG"}],
            ),
            DEFAULTS,
        )
    assert set(caught.value.errors) >= {
        "competence",
        "items[0].cclass",
        "items[0].description",
        "items[0].quantity",
        "items[0].unit_price",
        "items[0].unit",
    }


def test_floats_are_refused_for_money():
    with pytest.raises(ValidationError, match="decimal strings"):
        Nfcom.draft(
            uuid.uuid4(),
            meta(),
            data(items=[{"description": "x", "quantity": "1", "unit_price": 9.9}]),
            DEFAULTS,
        )


def test_emission_composes_a_valid_key_for_the_series_and_number():
    n = authorized()
    assert is_valid(n.access_key) and n.access_key[22:34] == "001000000007" and n.status == "authorized"


def test_only_drafts_and_rejected_can_be_sent_and_only_authorized_cancelled():
    n = Nfcom.draft(uuid.uuid4(), meta(), data(), DEFAULTS)
    with pytest.raises(ConflictError):
        n.request_cancellation(meta(), "Motivo suficientemente longo")
    n = authorized()
    with pytest.raises(ConflictError):
        n.request_emission(
            meta(),
            series=1,
            number=8,
            random_code="1234568",
            backend="sandbox",
            environment="homologacao",
            issuer=ISSUER,
            taxes=DEFAULTS,
        )
    with pytest.raises(ValidationError, match="15"):
        n.request_cancellation(meta(), "curto")
    with pytest.raises(ValidationError, match="255"):
        n.request_cancellation(meta(), "x" * 256)
    n.request_cancellation(meta(), "Cobrança em duplicidade")
    assert n.status == "cancelling"


def test_a_late_outcome_is_not_news():
    n = authorized()
    assert (
        n.authorize(
            meta(), protocol="x", authorized_at=AT, cstat="100", reason="", xml="", proc_xml="", calls=[]
        )
        is False
    )
    assert n.reject(meta(), cstat="999", reason="late", xml="", calls=[]) is False


def test_the_cancellation_window_closes_120_hours_after_the_month():
    n = authorized(datetime(2026, 11, 10, 12, tzinfo=timezone.utc))
    deadline = cancel_deadline(n.authorized_at)
    with pytest.raises(ConflictError, match="window"):
        n.request_cancellation(meta(deadline + timedelta(seconds=1)), "Cobrança em duplicidade")
    n.request_cancellation(meta(deadline - timedelta(minutes=1)), "Cobrança em duplicidade")


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2022, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(timezone.utc)
    )
)
def test_the_window_is_always_after_the_end_of_the_month_plus_five_days(authorized_at):
    deadline = cancel_deadline(authorized_at)
    assert deadline - authorized_at > timedelta(hours=120)
    assert deadline - authorized_at <= timedelta(days=31, hours=121)
    # the last day ends at 24:00 (= day 1, 00:00) in Brasília; 120 h later is day 6, 00:00
    local = authorized_at.astimezone(deadline.tzinfo)
    assert (deadline.day, deadline.hour, deadline.minute) == (6, 0, 0)
    assert (deadline.year * 12 + deadline.month) - (local.year * 12 + local.month) == 1


def test_settings_are_validated_by_field():
    with pytest.raises(ValidationError) as caught:
        clean_settings(
            {**SETTINGS_DEFAULTS, "backend": "x", "series": 1000, "cfop": "5102", "icms_rate": "101"}
        )
    assert set(caught.value.errors) >= {"backend", "series", "cfop", "icms_rate"}


def test_a_customer_without_city_or_uf_is_refused_by_name():
    with pytest.raises(ValidationError) as caught:
        Nfcom.draft(
            uuid.uuid4(), meta(), data(recipient={"document": "52998224725", "name": "Maria"}), DEFAULTS
        )
    assert "IBGE" in caught.value.errors["customer_id"]
