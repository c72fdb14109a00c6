"""One canonical company and how each provider renders it (JSON shapes from the reference notes)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from retaguarda.shared.documents import make_cnpj

SITUATION_NAMES = {"01": "NULA", "02": "ATIVA", "03": "SUSPENSA", "04": "INAPTA", "08": "BAIXADA"}


@dataclass(frozen=True)
class Partner:
    name: str
    qualification_code: int
    qualification: str
    entry_date: str  # ISO
    document: str  # masked CPF as the Receita gives it, e.g. ***123456**


@dataclass(frozen=True)
class Company:
    cnpj: str
    razao_social: str
    nome_fantasia: str | None
    situation: str  # "02"
    situation_date: str
    reason: str | None
    opening_date: str
    nature_code: str  # "2062"
    nature: str
    porte: str  # MICRO EMPRESA | EMPRESA DE PEQUENO PORTE | DEMAIS
    capital: Decimal
    cnae_code: str  # 7 digits
    cnae: str
    secondary: tuple[tuple[str, str], ...]
    street_type: str
    street: str
    number: str
    complement: str | None
    district: str
    cep: str
    municipality: str
    ibge: str
    uf: str
    phones: tuple[str, ...]
    email: str | None
    simples: bool | None
    mei: bool | None
    partners: tuple[Partner, ...] = field(default_factory=tuple)

    def with_(self, **changes: Any) -> "Company":
        return replace(self, **changes)


def sample_company(cnpj: str | None = None, **changes: Any) -> Company:
    base = Company(
        cnpj=cnpj or make_cnpj("112223330001"), razao_social="ACME TELECOMUNICACOES LTDA",
        nome_fantasia="ACME NET", situation="02", situation_date="2005-11-03", reason=None,
        opening_date="1999-01-31", nature_code="2062", nature="Sociedade Empresária Limitada",
        porte="DEMAIS", capital=Decimal("6453568523.86"), cnae_code="6110801",
        cnae="Serviços de telefonia fixa comutada - STFC",
        secondary=(("6190601", "Provedores de acesso às redes de comunicações"),),
        street_type="RUA", street="LOPES QUINTAS", number="303", complement="SALA 2", district="JARDIM BOTANICO",
        cep="22460901", municipality="RIO DE JANEIRO", ibge="3304557", uf="RJ",
        phones=("2121554551", "2121554552"), email="fiscal@acme.example", simples=False, mei=False,
        partners=(Partner("MARIA DA SILVA", 49, "Sócio-Administrador", "2010-05-01", "***123456**"),
                  Partner("JOSE PEREIRA", 22, "Sócio", "2012-08-20", "***654321**")),
    )
    return base.with_(**changes) if changes else base


def _br(date: str | None) -> str:
    if not date:
        return ""
    y, m, d = date.split("-")
    return f"{d}/{m}/{y}"


def _title(text: str) -> str:
    return " ".join(w.capitalize() for w in text.split(" "))


def _float32(value: Decimal) -> float:
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def cnpjws_json(c: Company) -> dict[str, Any]:
    yes = {True: "Sim", False: "Não"}
    return {
        "cnpj_raiz": c.cnpj[:8], "razao_social": c.razao_social, "capital_social": f"{c.capital:.2f}",
        "responsavel_federativo": "", "atualizado_em": "2026-10-01T03:00:00.000Z",
        "porte": {"id": {"MICRO EMPRESA": "01", "EMPRESA DE PEQUENO PORTE": "03", "DEMAIS": "05"}[c.porte],
                  "descricao": _title(c.porte.lower())},
        "natureza_juridica": {"id": c.nature_code, "descricao": c.nature},
        "qualificacao_do_responsavel": {"id": 49, "descricao": "Sócio-Administrador"},
        "socios": [{"cpf_cnpj_socio": p.document, "nome": p.name, "tipo": "Pessoa Física",
                    "data_entrada": p.entry_date, "cpf_representante_legal": "***000000**",
                    "nome_representante": None, "faixa_etaria": "51 a 60 anos",
                    "atualizado_em": "2026-10-01T03:00:00.000Z", "pais_id": "1058",
                    "qualificacao_socio": {"id": p.qualification_code, "descricao": p.qualification + " "},
                    "qualificacao_representante": None,
                    "pais": {"id": "1058", "iso2": "BR", "iso3": "BRA", "nome": "Brasil", "comex_id": "105"}}
                   for p in c.partners],
        "simples": None if c.simples is None and c.mei is None else {
            "simples": yes.get(c.simples), "data_opcao_simples": None, "data_exclusao_simples": None,
            "mei": yes.get(c.mei), "data_opcao_mei": None, "data_exclusao_mei": None,
            "atualizado_em": "2026-10-01T03:00:00.000Z"},
        "estabelecimento": {
            "cnpj": c.cnpj, "cnpj_raiz": c.cnpj[:8], "cnpj_ordem": c.cnpj[8:12],
            "cnpj_digito_verificador": c.cnpj[12:], "tipo": "Matriz", "nome_fantasia": c.nome_fantasia,
            "situacao_cadastral": SITUATION_NAMES[c.situation].capitalize(),
            "data_situacao_cadastral": c.situation_date,
            "motivo_situacao_cadastral": {"id": 1, "descricao": c.reason} if c.reason else None,
            "data_inicio_atividade": c.opening_date, "nome_cidade_exterior": None,
            "tipo_logradouro": _title(c.street_type.lower()), "logradouro": _title(c.street.lower()),
            "numero": c.number, "complemento": c.complement, "bairro": _title(c.district.lower()), "cep": c.cep,
            "ddd1": c.phones[0][:2] if c.phones else None, "telefone1": c.phones[0][2:] if c.phones else None,
            "ddd2": c.phones[1][:2] if len(c.phones) > 1 else None,
            "telefone2": c.phones[1][2:] if len(c.phones) > 1 else None,
            "ddd_fax": None, "fax": None, "email": c.email, "situacao_especial": None,
            "data_situacao_especial": None, "atualizado_em": "2026-10-01T03:00:00.000Z",
            "atividade_principal": {"id": c.cnae_code, "secao": "J", "divisao": c.cnae_code[:2],
                                    "grupo": "", "classe": "", "subclasse": "", "descricao": c.cnae},
            "atividades_secundarias": [{"id": code, "secao": "J", "divisao": code[:2], "grupo": "", "classe": "",
                                        "subclasse": "", "descricao": desc} for code, desc in c.secondary],
            "pais": {"id": "1058", "iso2": "BR", "iso3": "BRA", "nome": "Brasil", "comex_id": "105"},
            "estado": {"id": 19, "nome": "Estado", "sigla": c.uf, "ibge_id": int(c.ibge[:2])},
            "cidade": {"id": 3243, "nome": _title(c.municipality.lower()), "ibge_id": int(c.ibge),
                       "siafi_id": "6001"},
            "inscricoes_estaduais": [], "inscricoes_suframa": [], "regimes_tributarios": [],
        },
    }


def brasilapi_json(c: Company) -> dict[str, Any]:
    code = int(c.situation)
    return {
        "cnpj": c.cnpj, "identificador_matriz_filial": 1, "descricao_identificador_matriz_filial": "MATRIZ",
        "razao_social": c.razao_social, "nome_fantasia": c.nome_fantasia or "",
        "situacao_cadastral": code, "descricao_situacao_cadastral": SITUATION_NAMES[c.situation],
        "data_situacao_cadastral": c.situation_date, "motivo_situacao_cadastral": 1 if c.reason else 0,
        "descricao_motivo_situacao_cadastral": c.reason or "", "nome_cidade_no_exterior": "",
        "codigo_pais": None, "pais": None, "data_inicio_atividade": c.opening_date,
        "cnae_fiscal": int(c.cnae_code), "cnae_fiscal_descricao": c.cnae,
        "cnaes_secundarios": [{"codigo": int(code_), "descricao": d} for code_, d in c.secondary]
        or [{"codigo": 0, "descricao": ""}],
        "descricao_tipo_de_logradouro": c.street_type, "logradouro": c.street, "numero": c.number,
        "complemento": c.complement or "", "bairro": c.district, "cep": c.cep, "uf": c.uf,
        "codigo_municipio": 6001, "codigo_municipio_ibge": int(c.ibge), "municipio": c.municipality,
        "ddd_telefone_1": c.phones[0] if c.phones else "", "ddd_telefone_2": c.phones[1] if len(c.phones) > 1 else "",
        "ddd_fax": "", "email": c.email, "situacao_especial": "", "data_situacao_especial": None,
        "opcao_pelo_simples": c.simples, "data_opcao_pelo_simples": None, "data_exclusao_do_simples": None,
        "opcao_pelo_mei": c.mei, "data_opcao_pelo_mei": None, "data_exclusao_do_mei": None,
        "codigo_natureza_juridica": int(c.nature_code), "natureza_juridica": c.nature,
        "qualificacao_do_responsavel": 49, "capital_social": _float32(c.capital),
        "codigo_porte": {"MICRO EMPRESA": 1, "EMPRESA DE PEQUENO PORTE": 3, "DEMAIS": 5}[c.porte],
        "porte": c.porte, "descricao_porte": c.porte, "ente_federativo_responsavel": "",
        "regime_tributario": None,
        "qsa": [{"identificador_de_socio": 2, "nome_socio": p.name, "cnpj_cpf_do_socio": p.document,
                 "codigo_qualificacao_socio": p.qualification_code, "qualificacao_socio": p.qualification,
                 "data_entrada_sociedade": p.entry_date, "codigo_pais": None, "pais": None,
                 "cpf_representante_legal": "***000000**", "nome_representante_legal": "",
                 "codigo_qualificacao_representante_legal": 0,
                 "qualificacao_representante_legal": "Não informada", "codigo_faixa_etaria": 6,
                 "faixa_etaria": "Entre 51 a 60 anos"} for p in c.partners],
    }


def _masked_cnae(code: str) -> str:
    return f"{code[:2]}.{code[2:4]}-{code[4]}-{code[5:]}"


def _phone(p: str) -> str:
    return f"({p[:2]}) {p[2:-4]}-{p[-4:]}"


def receitaws_json(c: Company) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "OK", "ultima_atualizacao": "2026-10-01T03:00:00.000Z",
        "cnpj": f"{c.cnpj[:2]}.{c.cnpj[2:5]}.{c.cnpj[5:8]}/{c.cnpj[8:12]}-{c.cnpj[12:]}", "tipo": "MATRIZ",
        "porte": c.porte, "nome": c.razao_social, "fantasia": c.nome_fantasia or "",
        "abertura": _br(c.opening_date),
        "atividade_principal": [{"code": _masked_cnae(c.cnae_code), "text": c.cnae}],
        "atividades_secundarias": [{"code": _masked_cnae(code), "text": d} for code, d in c.secondary]
        or [{"code": "00.00-0-00", "text": "Não informada"}],
        "natureza_juridica": f"{c.nature_code[:3]}-{c.nature_code[3]} - {c.nature}",
        "logradouro": f"{c.street_type} {c.street}", "numero": c.number, "complemento": c.complement or "",
        "cep": f"{c.cep[:2]}.{c.cep[2:5]}-{c.cep[5:]}", "bairro": c.district, "municipio": c.municipality,
        "uf": c.uf, "email": c.email or "", "telefone": " / ".join(_phone(p) for p in c.phones), "efr": "",
        "situacao": SITUATION_NAMES[c.situation], "data_situacao": _br(c.situation_date),
        "motivo_situacao": c.reason or "", "situacao_especial": "", "data_situacao_especial": "",
        "capital_social": f"{c.capital:.2f}",
        "qsa": [{"nome": p.name, "qual": f"{p.qualification_code}-{p.qualification}"} for p in c.partners],
        "extra": {}, "billing": {"free": True, "database": True},
    }
    if c.simples is not None:
        body["simples"] = {"optante": c.simples, "data_opcao": None, "data_exclusao": None, "ultima_atualizacao": ""}
    if c.mei is not None:
        body["simei"] = {"optante": c.mei, "data_opcao": None, "data_exclusao": None, "ultima_atualizacao": ""}
    return body


RENDER = {"cnpjws": cnpjws_json, "brasilapi": brasilapi_json, "receitaws": receitaws_json}
