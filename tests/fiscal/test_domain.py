"""The Nfse, FiscalSettings and Certificate aggregates: pure rules, no I/O."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from retaguarda.fiscal.domain import Certificate, FiscalSettings, Nfse
from retaguarda.fiscal.install import DEMO_SETTINGS
from retaguarda.shared.errors import ConflictError, ValidationError
from retaguarda.shared.meta import Meta

AT = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
RATES = {"cbs_rate": Decimal("0.90"), "ibs_uf_rate": Decimal("0.10"), "ibs_mun_rate": Decimal("0.00")}
TOMADOR = {"document": "28374651000160", "name": "Provedor Serra Azul Ltda", "status": "active"}


def meta(at: datetime = AT) -> Meta:
    return Meta(tenant_id="t1", actor="u1", correlation_id="c1", at=at)


def draft(**changes) -> Nfse:
    data = {"customer_id": "c-1", "tomador": TOMADOR, "amount": "1000.00", "deductions": "0",
            "competence": "2026-11-01", "iss_rate": "5.00", "iss_withheld": True,
            "municipality_ibge": "3550308",
            "service": {"code": "01.07.01", "nbs": "1.1501.30.00", "description": "Suporte"}, **changes}
    return Nfse.draft(uuid.uuid4(), meta(), data, RATES)


def test_a_draft_normalises_codes_and_computes_taxes_half_even_to_cents():
    n = draft(amount="0.50", iss_rate="5.00")
    assert n.service == {"code": "010701", "nbs": "115013000", "description": "Suporte"}
    # 0.50 × 5 % = 0.025 → 0.02 (half-even), withheld from the net
    assert n.taxes["iss"] == Decimal("0.02") and n.taxes["net"] == Decimal("0.48")
    assert n.taxes["ibscbs_base"] == Decimal("0.48")
    assert all(isinstance(v, Decimal) for v in n.taxes.values())


@pytest.mark.parametrize("changes,field", [
    ({"amount": 10.5}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"deductions": "2000.00"}, "deductions"),
    ({"iss_rate": "5.01"}, "iss_rate"),
    ({"tomador": {**TOMADOR, "document": "12ABC34501DE35"}}, "customer_id"),
    ({"service": {"code": "0107", "description": "x"}}, "service.code"),
    ({"service": {"code": "010701", "nbs": "12", "description": "x"}}, "service.nbs"),
    ({"municipality_ibge": "355"}, "municipality_ibge"),
])
def test_bad_drafts_name_the_field(changes, field):
    with pytest.raises(ValidationError) as exc:
        draft(**changes)
    assert field in exc.value.errors


def test_life_cycle_and_illegal_transitions():
    n = draft()
    with pytest.raises(ConflictError):
        n.request_cancellation(meta(), "1", "Um motivo longo o bastante")
    n.request_emission(meta(), series="900", dps_number=7, backend="sandbox", environment="producao_restrita",
                       issuer={"cnpj": "11222333000181"})
    assert n.status == "requested" and n.dps_number == 7
    with pytest.raises(ConflictError):
        n.request_emission(meta(), series="900", dps_number=8, backend="sandbox",
                           environment="producao_restrita", issuer={})
    with pytest.raises(ConflictError):
        n.correct(meta(), {"amount": "5.00"}, RATES)
    assert n.authorize(meta(), access_key="k" * 50, number="1", authorized_at=AT, nfse_xml="<x/>",
                       dps_xml="<d/>", dps_id="DPS1", provider_ref="r", danfse_url="", calls=[])
    # A late duplicate outcome is not news
    assert not n.authorize(meta(), access_key="k" * 50, number="1", authorized_at=AT, nfse_xml="<x/>",
                           dps_xml="<d/>", dps_id="DPS1", provider_ref="r", danfse_url="", calls=[])
    assert not n.reject(meta(), errors=[{"code": "E1", "message": "x"}], dps_xml="", calls=[])
    with pytest.raises(ValidationError) as exc:
        n.request_cancellation(meta(), "4", "Um motivo longo o bastante")
    assert exc.value.field == "reason_code"
    with pytest.raises(ValidationError):
        n.request_cancellation(meta(), "1", "curto")
    n.request_cancellation(meta(), "2", "Serviço não foi prestado")
    assert n.cancellation_rejected(meta(), errors=[{"code": "E9", "message": "prazo"}], calls=[])
    n.request_cancellation(meta(), "2", "Serviço não foi prestado")
    assert n.cancelled(meta(), event_xml="<e/>", calls=[])
    assert n.status == "cancelled"
    with pytest.raises(ConflictError):
        n.retry(meta())


def test_a_rejected_note_is_corrected_and_a_failed_one_retried():
    n = draft()
    n.request_emission(meta(), series="1", dps_number=1, backend="sandbox", environment="producao_restrita",
                       issuer={})
    n.reject(meta(), errors=[{"code": "E0310", "message": "código inexistente"}], dps_xml="<d/>", calls=[])
    assert n.errors == [{"code": "E0310", "message": "código inexistente"}]
    assert n.correct(meta(), {"service": {"code": "010702", "description": "Outro"}}, RATES)
    n.request_emission(meta(), series="1", dps_number=2, backend="sandbox", environment="producao_restrita",
                       issuer={})
    assert n.errors == [] and n.emission_round == 2
    assert n.fail_emission(meta(), error="TransientBackendError: 500", attempts=6)
    assert n.status == "failed"
    assert n.retry(meta()) == "emission" and n.status == "requested" and n.dps_number == 2


def test_settings_validate_and_keep_credentials_out_of_state_changes():
    s = FiscalSettings.configure(meta(), DEMO_SETTINGS, "tok")
    assert s.cbs_rate == Decimal("0.90") and s.issuer["simples_option"] is True
    assert s.set_credentials(meta(), {"focus_token": "abc"}) == ["focus_token"]
    assert s.set_credentials(meta(), {"focus_token": "abc"}) == []
    assert s.set_credentials(meta(), {"focus_token": ""}) == ["focus_token"] and s.secrets == {}
    bad = {**DEMO_SETTINGS, "backend": "nope", "series": "0",
           "issuer": {**DEMO_SETTINGS["issuer"], "cnpj": "11222333000182", "municipality_ibge": "35"}}
    with pytest.raises(ValidationError) as exc:
        FiscalSettings.configure(meta(), bad, "tok")
    assert {"backend", "series", "issuer.cnpj", "issuer.municipality_ibge"} <= set(exc.value.errors)


def test_certificate_expiry_is_announced_at_30_15_7_1_days_once_each_then_expired():
    until = AT + timedelta(days=40)
    c = Certificate.upload(meta(), secret_pfx="", password="", subject="CN=x", cnpj="1", issuer="CN=ca",
                           serial_number="1", valid_from=AT - timedelta(days=300), valid_until=until)
    seen = []
    for day in range(0, 42):
        what = c.check_expiry(meta(AT + timedelta(days=day, hours=1)))
        if what:
            seen.append((day, what))
    assert seen == [(10, "expiring:30"), (25, "expiring:15"), (33, "expiring:7"), (39, "expiring:1"),
                    (40, "expired")]
    # A certificate uploaded 10 days before expiry gets one warning, not three
    late = Certificate.upload(meta(), secret_pfx="", password="", subject="CN=x", cnpj="1", issuer="CN=ca",
                              serial_number="2", valid_from=AT, valid_until=AT + timedelta(days=10))
    assert late.check_expiry(meta()) == "expiring:15"
    assert late.check_expiry(meta()) is None
    assert late.warned == [15, 30]
