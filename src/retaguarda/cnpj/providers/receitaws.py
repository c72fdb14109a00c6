"""ReceitaWS: `GET {base}/v1/cnpj/{14 digits}`; errors come as HTTP 200 `{"status": "ERROR"}`
("CNPJ rejeitado pela Receita Federal" = not found); 429 over 3/min. No IBGE code, no partner CPF."""

from __future__ import annotations

import re
from typing import Any

import httpx

from retaguarda.cnpj.providers import (
    LookupResult,
    MalformedAnswer,
    RejectedByProvider,
    Snapshot,
    TransientProviderError,
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

_NATURE_RE = re.compile(r"^\s*([\d\-]+)\s*-\s*(.*)$")


def _activity(item: Any) -> dict[str, Any] | None:
    return cnae(item.get("code"), item.get("text")) if isinstance(item, dict) else None


def _optant(block: Any) -> bool | None:
    if isinstance(block, dict) and isinstance(block.get("optante"), bool):
        return block["optante"]
    return None


def parse(cnpj: str, payload: Any) -> Snapshot:
    """ReceitaWS company JSON → the normalized snapshot (no IBGE code, no partner documents)."""
    body = require(payload)
    try:
        snap = empty_snapshot(cnpj)
        if body.get("cnpj") and digits(body["cnpj"]) != cnpj:
            raise MalformedAnswer(f"receitaws answered for another CNPJ ({body['cnpj']})")
        snap["razao_social"] = text(body.get("nome"))
        snap["nome_fantasia"] = text(body.get("fantasia"))
        code, description = situation(body.get("situacao"))
        snap["situacao"] = {"code": code, "description": description,
                            "date": br_date(body.get("data_situacao")),
                            "reason": text(body.get("motivo_situacao"))}
        snap["opening_date"] = br_date(body.get("abertura"))
        m = _NATURE_RE.match(str(body.get("natureza_juridica") or ""))
        snap["legal_nature"] = ({"code": digits(m.group(1)), "description": text(m.group(2))} if m
                                else {"code": None, "description": text(body.get("natureza_juridica"))})
        snap["porte"] = fold(body.get("porte")) or None
        snap["share_capital"] = decimal_text(body.get("capital_social"))
        main = body.get("atividade_principal") or []
        snap["main_cnae"] = _activity(main[0]) if main else None
        snap["secondary_cnaes"] = [c for c in (_activity(a) for a in body.get("atividades_secundarias") or []) if c]
        snap["address"] = {
            "street": fold(body.get("logradouro")) or None, "number": text(body.get("numero")),
            "complement": fold(body.get("complemento")) or None, "district": fold(body.get("bairro")) or None,
            "cep": digits(body.get("cep")) or None, "municipality": fold(body.get("municipio")) or None,
            "municipality_ibge": None,  # ReceitaWS does not carry it
            "uf": text(body.get("uf")),
        }
        snap["phones"] = phone_list(body.get("telefone"))
        snap["email"] = email(body.get("email"))
        snap["simples"] = _optant(body.get("simples"))
        snap["mei"] = _optant(body.get("simei"))
        snap["partners"] = [{
            "name": text(s.get("nome")),
            "qualification": fold(re.sub(r"^\s*\d+\s*-\s*", "", str(s.get("qual") or ""))) or None,
            "entry_date": None, "document": None,
        } for s in body.get("qsa") or []]
        snap["source_updated_at"] = text(body.get("ultima_atualizacao"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedAnswer(f"receitaws answer is missing or mistypes {exc}") from None
    return snap


class ReceitaWs(HttpProvider):
    name = "receitaws"
    supports_alphanumeric = False
    default_retry_after = 20.0  # 3 requests per minute

    def path(self, cnpj: str) -> str:
        return f"/v1/cnpj/{cnpj}"

    def interpret(self, cnpj: str, response: httpx.Response) -> LookupResult:
        if response.status_code != 200:
            raise self.unexpected(response)
        payload = self.json_of(response, self.name)
        if isinstance(payload, dict) and str(payload.get("status", "")).upper() == "ERROR":
            message = str(payload.get("message") or "")
            folded = fold(message)
            if "REJEITADO" in folded or "NAO ENCONTRADO" in folded:
                return LookupResult(self.name, False, raw=payload, message=message)
            if "TIMEOUT" in folded:
                raise TransientProviderError(f"receitaws: {message}", status=200)
            raise RejectedByProvider(f"receitaws: {message or 'error'}", status=200)
        return LookupResult(self.name, True, snapshot=parse(cnpj, payload), raw=payload)
