"""The three providers' answers for the same company normalize to the same snapshot, up to what a
provider does not carry (ReceitaWS: IBGE code, partner documents and entry dates) and BrasilAPI's
float32 share capital."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retaguarda.cnpj.providers import MalformedAnswer, brasilapi, cnpjws, receitaws
from retaguarda.shared.documents import make_cnpj
from tests.fakes.cnpj.companies import (
    Company,
    Partner,
    brasilapi_json,
    cnpjws_json,
    receitaws_json,
    sample_company,
)

UPPER = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÇÃÕ ", min_size=3, max_size=30).map(
    lambda s: " ".join(s.split()) or "ACME").filter(lambda s: len(s) >= 2)
DATES = st.dates(min_value=__import__("datetime").date(1960, 1, 1),
                 max_value=__import__("datetime").date(2026, 10, 1)).map(lambda d: d.isoformat())
PHONE = st.from_regex(r"[1-9][1-9][2-9][0-9]{7}", fullmatch=True)
partners = st.builds(Partner, name=UPPER, qualification_code=st.sampled_from([10, 22, 49]),
                     qualification=st.sampled_from(["Diretor", "Sócio", "Sócio-Administrador"]),
                     entry_date=DATES, document=st.from_regex(r"\*\*\*[0-9]{6}\*\*", fullmatch=True))
companies = st.builds(
    Company,
    cnpj=st.from_regex(r"[0-9]{12}", fullmatch=True).filter(lambda s: len(set(s)) > 1).map(make_cnpj),
    razao_social=UPPER, nome_fantasia=st.none() | UPPER,
    situation=st.sampled_from(["01", "02", "03", "04", "08"]), situation_date=DATES,
    reason=st.none() | st.sampled_from(["OMISSAO DE DECLARACOES", "EXTINCAO POR ENCERRAMENTO"]),
    opening_date=DATES, nature_code=st.sampled_from(["2062", "2054", "2135"]),
    nature=st.sampled_from(["Sociedade Empresária Limitada", "Sociedade Anônima Fechada", "Empresário"]),
    porte=st.sampled_from(["MICRO EMPRESA", "EMPRESA DE PEQUENO PORTE", "DEMAIS"]),
    capital=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2, allow_nan=False),
    cnae_code=st.from_regex(r"[1-9][0-9]{6}", fullmatch=True), cnae=UPPER,
    secondary=st.lists(st.tuples(st.from_regex(r"[1-9][0-9]{6}", fullmatch=True), UPPER), max_size=3).map(tuple),
    street_type=st.sampled_from(["RUA", "AVENIDA", "TRAVESSA"]), street=UPPER,
    number=st.from_regex(r"[1-9][0-9]{0,4}", fullmatch=True), complement=st.none() | UPPER, district=UPPER,
    cep=st.from_regex(r"[0-9]{8}", fullmatch=True), municipality=UPPER,
    ibge=st.from_regex(r"[1-5][0-9]{6}", fullmatch=True), uf=st.sampled_from(["SP", "RJ", "MG", "RS"]),
    phones=st.lists(PHONE, max_size=2, unique=True).map(tuple),
    email=st.none() | st.from_regex(r"[a-z]{1,10}@[a-z]{1,10}\.com\.br", fullmatch=True),
    simples=st.none() | st.booleans(), mei=st.none() | st.booleans(),
    partners=st.lists(partners, max_size=3).map(tuple),
)

NOT_CARRIED = {"receitaws": {"address.municipality_ibge", "partners.document", "partners.entry_date"}}


def flatten(snapshot: dict, provider: str) -> dict:
    flat: dict = {}
    for key, value in snapshot.items():
        if key == "source_updated_at":
            continue  # each provider stamps its own freshness
        if isinstance(value, dict):
            for k, v in value.items():
                flat[f"{key}.{k}"] = v
        elif key == "partners":
            flat[key] = [{k: v for k, v in p.items() if f"partners.{k}" not in NOT_CARRIED.get(provider, ())}
                         for p in value]
        else:
            flat[key] = value
    for key in NOT_CARRIED.get(provider, ()):
        flat.pop(key, None)
    return flat


def close_capital(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a == b
    x, y = Decimal(a), Decimal(b)
    return abs(x - y) <= max(Decimal("0.01"), abs(x) * Decimal("1e-7"))  # float32 keeps ~7 digits


@settings(max_examples=80, deadline=None)
@given(companies)
def test_three_providers_normalize_to_equal_snapshots(company):
    a = cnpjws.parse(company.cnpj, cnpjws_json(company))
    b = brasilapi.parse(company.cnpj, brasilapi_json(company))
    c = receitaws.parse(company.cnpj, receitaws_json(company))
    # What every provider carries is equal; BrasilAPI's share capital only up to float32 rounding
    assert close_capital(a["share_capital"], b["share_capital"])
    assert a["share_capital"] == c["share_capital"] == f"{company.capital:.2f}"
    fa, fb, fc = flatten(a, "cnpjws"), flatten(b, "brasilapi"), flatten(c, "receitaws")
    fa.pop("share_capital"), fb.pop("share_capital"), fc.pop("share_capital")
    assert fa == fb
    common = {k: v for k, v in fa.items() if k in fc}
    common["partners"] = [{k: v for k, v in p.items() if k not in ("document", "entry_date")} for p in a["partners"]]
    assert common == fc
    # What ReceitaWS lacks is empty, never invented
    assert c["address"]["municipality_ibge"] is None and all(p["document"] is None for p in c["partners"])
    assert a["address"]["municipality_ibge"] == company.ibge


def test_normalized_values_have_one_format():
    company = sample_company()
    snap = receitaws.parse(company.cnpj, receitaws_json(company))
    assert snap["situacao"] == {"code": "02", "description": "ATIVA", "date": "2005-11-03", "reason": None}
    assert snap["legal_nature"] == {"code": "2062", "description": "Sociedade Empresária Limitada"}
    assert snap["main_cnae"] == {"code": "6110801", "description": "Serviços de telefonia fixa comutada - STFC"}
    assert snap["address"]["cep"] == "22460901" and snap["phones"] == ["2121554551", "2121554552"]
    snap = cnpjws.parse(company.cnpj, cnpjws_json(company))
    assert snap["partners"][0]["qualification"] == "SOCIO-ADMINISTRADOR"  # trailing space, accent, case
    assert snap["address"]["street"] == "RUA LOPES QUINTAS" and snap["porte"] == "DEMAIS"
    # BrasilAPI's float32 capital: 6 453 568 523.86 comes back as 6453568512
    assert brasilapi.parse(company.cnpj, brasilapi_json(company))["share_capital"] == "6453568512.00"


@pytest.mark.parametrize("module,payload", [
    (cnpjws, {"razao_social": "X"}),
    (cnpjws, ["not", "an", "object"]),
    (brasilapi, {"cnpj": "99999999000191"}),
    (receitaws, {"status": "OK", "nome": "X", "abertura": "31-01-1986"}),
    (brasilapi, {"capital_social": "lots"}),
])
def test_malformed_answers_are_reported_as_such(module, payload):
    with pytest.raises(MalformedAnswer):
        module.parse("11222333000181", payload)
