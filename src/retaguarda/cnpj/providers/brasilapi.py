"""BrasilAPI: `GET {base}/api/cnpj/v1/{cnpj}` (minha-receita's body); 404 JSON not found, 400 invalid,
429 with a plain-text body. Accepts alphanumeric CNPJs."""

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
    email,
    empty_snapshot,
    fold,
    phone_list,
    require,
    situation,
    text,
)
from retaguarda.cnpj.providers.cnpjws import _maybe_json
from retaguarda.cnpj.providers.http import HttpProvider


def parse(cnpj: str, payload: Any) -> Snapshot:
    """BrasilAPI / minha-receita company JSON → the normalized snapshot."""
    body = require(payload)
    try:
        snap = empty_snapshot(cnpj)
        if body.get("cnpj") and str(body["cnpj"]).upper() != cnpj:
            raise MalformedAnswer(f"brasilapi answered for another CNPJ ({body['cnpj']})")
        snap["razao_social"] = text(body.get("razao_social"))
        snap["nome_fantasia"] = text(body.get("nome_fantasia"))
        code, description = situation(body.get("descricao_situacao_cadastral"), body.get("situacao_cadastral"))
        snap["situacao"] = {"code": code, "description": description,
                            "date": br_date(body.get("data_situacao_cadastral")),
                            "reason": text(body.get("descricao_motivo_situacao_cadastral"))}
        snap["opening_date"] = br_date(body.get("data_inicio_atividade"))
        nature_code = body.get("codigo_natureza_juridica")
        snap["legal_nature"] = {"code": str(nature_code) if nature_code not in (None, "") else None,
                                "description": text(body.get("natureza_juridica"))}
        snap["porte"] = fold(body.get("porte") or body.get("descricao_porte")) or None
        snap["share_capital"] = decimal_text(body.get("capital_social"))
        snap["main_cnae"] = cnae(body.get("cnae_fiscal"), body.get("cnae_fiscal_descricao"))
        snap["secondary_cnaes"] = [c for c in (cnae(a.get("codigo"), a.get("descricao"))
                                               for a in body.get("cnaes_secundarios") or []) if c]
        street = " ".join(x for x in (text(body.get("descricao_tipo_de_logradouro")),
                                      text(body.get("logradouro"))) if x)
        ibge = body.get("codigo_municipio_ibge")
        snap["address"] = {
            "street": fold(street) or None, "number": text(body.get("numero")),
            "complement": fold(body.get("complemento")) or None, "district": fold(body.get("bairro")) or None,
            "cep": "".join(ch for ch in str(body.get("cep") or "") if ch.isdigit()) or None,
            "municipality": fold(body.get("municipio")) or None,
            "municipality_ibge": str(ibge) if ibge not in (None, "", 0) else None,
            "uf": text(body.get("uf")),
        }
        snap["phones"] = phone_list(body.get("ddd_telefone_1"), body.get("ddd_telefone_2"))
        snap["email"] = email(body.get("email"))
        snap["simples"] = body.get("opcao_pelo_simples")
        snap["mei"] = body.get("opcao_pelo_mei")
        snap["partners"] = [{
            "name": text(s.get("nome_socio")),
            "qualification": fold(s.get("qualificacao_socio")) or None,
            "entry_date": br_date(s.get("data_entrada_sociedade")),
            "document": text(s.get("cnpj_cpf_do_socio")),
        } for s in body.get("qsa") or []]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, MalformedAnswer):
            raise
        raise MalformedAnswer(f"brasilapi answer is missing or mistypes {exc}") from None
    return snap


class BrasilApi(HttpProvider):
    name = "brasilapi"
    supports_alphanumeric = True
    default_retry_after = 60.0  # the maintainers' ad-hoc rule: ~100 requests per 60 s

    def path(self, cnpj: str) -> str:
        return f"/api/cnpj/v1/{cnpj}"

    def interpret(self, cnpj: str, response: httpx.Response) -> LookupResult:
        if response.status_code == 404:
            return LookupResult(self.name, False, raw=_maybe_json(response), message="CNPJ not found")
        if response.status_code == 400:
            raise RejectedByProvider("brasilapi refused the CNPJ as invalid (HTTP 400)", status=400)
        if response.status_code != 200:
            raise self.unexpected(response)
        payload = self.json_of(response, self.name)
        return LookupResult(self.name, True, snapshot=parse(cnpj, payload), raw=payload)
