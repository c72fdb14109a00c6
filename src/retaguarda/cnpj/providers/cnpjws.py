"""publica.cnpj.ws: `GET {base}/cnpj/{14 digits}`; 404 not found, 400 invalid, 429 over 3/min."""

from __future__ import annotations

from typing import Any

import httpx

from retaguarda.cnpj.providers import (
    LookupResult,
    MalformedAnswer,
    RejectedByProvider,
    Snapshot,
    br_date,
    cnae,
    decimal_text,
    digits,
    email,
    empty_snapshot,
    fold,
    phone_list,
    require,
    situation,
    text,
)
from retaguarda.cnpj.providers.http import HttpProvider


def _yes(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    return fold(value) in ("SIM", "S", "TRUE")


def parse(cnpj: str, payload: Any) -> Snapshot:
    """CNPJ.ws company JSON → the normalized snapshot."""
    body = require(payload)
    try:
        est = require(body["estabelecimento"])
        snap = empty_snapshot(cnpj)
        if est.get("cnpj") and digits(est["cnpj"]) != cnpj:
            raise MalformedAnswer(f"cnpjws answered for another CNPJ ({est['cnpj']})")
        snap["razao_social"] = text(body.get("razao_social"))
        snap["nome_fantasia"] = text(est.get("nome_fantasia"))
        code, description = situation(est.get("situacao_cadastral"))
        motive = est.get("motivo_situacao_cadastral") or {}
        snap["situacao"] = {"code": code, "description": description,
                            "date": br_date(est.get("data_situacao_cadastral")),
                            "reason": text(motive.get("descricao")) if isinstance(motive, dict) else text(motive)}
        snap["opening_date"] = br_date(est.get("data_inicio_atividade"))
        nature = body.get("natureza_juridica") or {}
        snap["legal_nature"] = {"code": digits(nature.get("id")) or None,
                                "description": text(nature.get("descricao"))}
        porte = body.get("porte") or {}
        snap["porte"] = fold(porte.get("descricao")) or None
        snap["share_capital"] = decimal_text(body.get("capital_social"))
        main = est.get("atividade_principal") or {}
        snap["main_cnae"] = cnae(main.get("id"), main.get("descricao"))
        snap["secondary_cnaes"] = [c for c in (cnae(a.get("id"), a.get("descricao"))
                                               for a in est.get("atividades_secundarias") or []) if c]
        city = est.get("cidade") or {}
        state = est.get("estado") or {}
        street = " ".join(x for x in (text(est.get("tipo_logradouro")), text(est.get("logradouro"))) if x)
        snap["address"] = {
            "street": fold(street) or None, "number": text(est.get("numero")),
            "complement": fold(est.get("complemento")) or None, "district": fold(est.get("bairro")) or None,
            "cep": digits(est.get("cep")) or None, "municipality": fold(city.get("nome")) or None,
            "municipality_ibge": str(city["ibge_id"]) if city.get("ibge_id") else None,
            "uf": text(state.get("sigla")),
        }
        snap["phones"] = phone_list(f"{est.get('ddd1') or ''}{est.get('telefone1') or ''}",
                                    f"{est.get('ddd2') or ''}{est.get('telefone2') or ''}")
        snap["email"] = email(est.get("email"))
        simples = body.get("simples") or {}
        snap["simples"] = _yes(simples.get("simples")) if simples else None
        snap["mei"] = _yes(simples.get("mei")) if simples else None
        snap["partners"] = [{
            "name": text(s.get("nome")),
            "qualification": fold((s.get("qualificacao_socio") or {}).get("descricao")) or None,
            "entry_date": br_date(s.get("data_entrada")),
            "document": text(s.get("cpf_cnpj_socio")),
        } for s in body.get("socios") or []]
        snap["source_updated_at"] = text(est.get("atualizado_em") or body.get("atualizado_em"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedAnswer(f"cnpjws answer is missing or mistypes {exc}") from None
    return snap


class CnpjWs(HttpProvider):
    name = "cnpjws"
    supports_alphanumeric = False  # the official client strips every non-digit
    default_retry_after = 20.0  # 3 requests per minute

    def path(self, cnpj: str) -> str:
        return f"/cnpj/{cnpj}"

    def interpret(self, cnpj: str, response: httpx.Response) -> LookupResult:
        if response.status_code == 404:
            return LookupResult(self.name, False, raw=_maybe_json(response), message="CNPJ not found")
        if response.status_code == 400:
            raise RejectedByProvider("cnpjws refused the CNPJ as invalid (HTTP 400)", status=400)
        if response.status_code != 200:
            raise self.unexpected(response)
        payload = self.json_of(response, self.name)
        return LookupResult(self.name, True, snapshot=parse(cnpj, payload), raw=payload)


def _maybe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:500]
