"""Target, CnpjCheck and settings rules; the change diff and the alert rules (pure)."""

from __future__ import annotations

import uuid

import pytest

from retaguarda.cnpj.domain import CnpjCheck, CnpjSettings, Target, diff_snapshots, triggered_alerts
from retaguarda.shared.errors import ConflictError, ValidationError


@pytest.mark.parametrize("cnpj,expected", [
    ("11.222.333/0001-81", "11222333000181"),
    ("12.abc.345/01de-35", "12ABC34501DE35"),
    ("AB12CD34000184", "AB12CD34000184"),
])
def test_numeric_and_alphanumeric_cnpjs_are_accepted_in_compact_form(meta, cnpj, expected):
    assert Target.add(uuid.uuid4(), meta, cnpj=cnpj).cnpj == expected


@pytest.mark.parametrize("cnpj", ["11.222.333/0001-80", "11111111111111", "12ABC34501DE53", "12ABC34501DE3A", ""])
def test_bad_check_digits_name_the_cnpj_field(meta, cnpj):
    with pytest.raises(ValidationError) as exc:
        Target.add(uuid.uuid4(), meta, cnpj=cnpj)
    assert exc.value.field == "cnpj"


def test_target_fields_are_validated_together(meta):
    with pytest.raises(ValidationError) as exc:
        Target.add(uuid.uuid4(), meta, cnpj="11222333000181", schedule="hourly", alerts=["weather"])
    assert set(exc.value.errors) == {"schedule", "alerts"}


def test_archived_target_cannot_be_checked_or_edited(meta):
    target = Target.add(uuid.uuid4(), meta, cnpj="11222333000181", label="A", tags=["Supplier", "supplier"])
    assert target.tags == ("supplier",)
    target.archive(meta)
    with pytest.raises(ConflictError):
        CnpjCheck.request(uuid.uuid4(), meta, target)
    with pytest.raises(ConflictError):
        target.update(meta, label="B")


def test_a_check_completes_once(meta):
    target = Target.add(uuid.uuid4(), meta, cnpj="11222333000181")
    check = CnpjCheck.request(uuid.uuid4(), meta, target)
    check.complete(meta, found=True, snapshot={"cnpj": "11222333000181"}, personal=None, provider="cnpjws",
                   cache_hit=False, duration_ms=3, attempts=[])
    with pytest.raises(ConflictError):
        check.fail(meta, [], 1)
    check.erase(meta)
    assert check.erased and check.personal is None
    with pytest.raises(ConflictError):
        check.erase(meta)


def test_settings_defaults_are_the_live_chain_and_plans_set_their_quota(meta):
    s = CnpjSettings.configure(uuid.uuid4(), meta)
    assert s.options["providers"] == ["cnpjws", "brasilapi", "receitaws"]
    assert (s.options["plan"], s.options["monthly_quota"], s.options["cache_ttl_hours"],
            s.options["retention_days"]) == ("free", 100, 24, 365)
    s.change(meta, plan="pro")
    assert s.options["monthly_quota"] == 10_000
    s.change(meta, plan="custom", monthly_quota=250)
    assert s.options["monthly_quota"] == 250
    with pytest.raises(ValidationError) as exc:
        s.change(meta, providers=["cnpjws", "cnpjws"])
    assert exc.value.field == "providers"
    with pytest.raises(ValidationError):
        s.change(meta, alert_webhook="ftp://x")


def _snap(**changes):
    base = {"razao_social": "ACME", "situacao": {"code": "02", "description": "ATIVA", "date": "2020-01-01",
                                                 "reason": None},
            "address": {"street": "RUA A", "cep": "01001000", "municipality_ibge": "3550308", "uf": "SP"},
            "partners": [{"name": "MARIA", "qualification": "SOCIO"}], "email": "a@x.test", "phones": ["1133334444"]}
    base.update(changes)
    return base


def test_diff_is_field_level_and_keeps_personal_values_out():
    before = _snap()
    after = _snap(situacao={"code": "08", "description": "BAIXADA", "date": "2026-11-01", "reason": "EXTINCAO"},
                  address={"street": "RUA B", "cep": "01001000", "municipality_ibge": None, "uf": "SP"},
                  partners=[{"name": "JOAO", "qualification": "SOCIO"}], email="b@x.test")
    changes = diff_snapshots(before, after)
    fields = [c["field"] for c in changes]
    assert fields == ["situacao.code", "situacao.date", "situacao.reason", "address.street", "partners", "email"]
    assert changes[0] == {"field": "situacao.code", "before": "02", "after": "08"}
    # a provider that does not carry the IBGE code is not a change; personal values never appear
    assert all("JOAO" not in str(c) and "b@x.test" not in str(c) for c in changes)
    assert triggered_alerts(changes, ("situation",)) == ["situation"]
    assert triggered_alerts(changes, ("address", "partners")) == ["address", "partners"]
    assert triggered_alerts([], ("any",)) == []
    assert diff_snapshots(before, _snap()) == []
