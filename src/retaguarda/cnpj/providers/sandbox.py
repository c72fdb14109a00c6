"""In-process deterministic companies for the demo tenant (works offline; labelled "sandbox").

The same CNPJ always gives the same company. Roots ending in 999 do not exist (to show the
"not found" answer); the situation depends on the CNPJ so the watch-list shows every badge.
"""

from __future__ import annotations

import hashlib

from retaguarda.cnpj.providers import LookupResult, Snapshot, empty_snapshot

_NAMES = ["SERRA AZUL", "HORIZONTE", "BOM PRECO", "PIXEL CRIATIVO", "ENERGIA VERDE", "APRENDER MAIS",
          "SORRISO FELIZ", "RIO CLARO", "NOVA ERA", "VALE DO SOL"]
_KINDS = ["COMERCIO LTDA", "SERVICOS LTDA", "TELECOM S.A.", "TECNOLOGIA LTDA", "INDUSTRIA EIRELI"]
_CITIES = [("SAO PAULO", "3550308", "SP"), ("BELO HORIZONTE", "3106200", "MG"), ("CURITIBA", "4106902", "PR"),
           ("RIO DE JANEIRO", "3304557", "RJ"), ("PORTO ALEGRE", "4314902", "RS")]
_SITUATIONS = [("02", "ATIVA")] * 6 + [("03", "SUSPENSA"), ("04", "INAPTA"), ("08", "BAIXADA"), ("01", "NULA")]
_PARTNERS = ["ANA BEATRIZ SOUZA", "CARLOS EDUARDO LIMA", "MARIANA OLIVEIRA", "JOAO PEDRO ALMEIDA"]


def company(cnpj: str) -> Snapshot:
    h = hashlib.sha256(cnpj.encode()).digest()
    name = f"{_NAMES[h[0] % len(_NAMES)]} {_KINDS[h[1] % len(_KINDS)]}"
    city, ibge, uf = _CITIES[h[2] % len(_CITIES)]
    code, description = _SITUATIONS[h[3] % len(_SITUATIONS)]
    snap = empty_snapshot(cnpj)
    snap.update(
        razao_social=name, nome_fantasia=name.split()[0] + " " + name.split()[1],
        situacao={"code": code, "description": description, "date": f"20{10 + h[4] % 15}-0{1 + h[5] % 9}-15",
                  "reason": None if code == "02" else "OMISSAO DE DECLARACOES"},
        opening_date=f"{1990 + h[6] % 30}-0{1 + h[7] % 9}-01",
        legal_nature={"code": "2062", "description": "Sociedade Empresária Limitada"},
        porte=["MICRO EMPRESA", "EMPRESA DE PEQUENO PORTE", "DEMAIS"][h[8] % 3],
        share_capital=f"{(h[9] * 1000 + h[10] * 10)}.00",
        main_cnae={"code": "6110801", "description": "Serviços de telefonia fixa comutada - STFC"},
        secondary_cnaes=[{"code": "6190601", "description": "Provedores de acesso às redes de comunicações"}],
        address={"street": "RUA DAS FLORES", "number": str(10 + h[11] % 900), "complement": None,
                 "district": "CENTRO", "cep": f"{30000000 + h[12] * 1013:08d}", "municipality": city,
                 "municipality_ibge": ibge, "uf": uf},
        phones=[f"11{30000000 + h[13] * 7919:08d}"], email=f"contato@{_NAMES[h[0] % len(_NAMES)].split()[0].lower()}.example",
        simples=bool(h[14] % 2), mei=False,
        partners=[{"name": _PARTNERS[(h[15] + i) % len(_PARTNERS)], "qualification": "SOCIO-ADMINISTRADOR",
                   "entry_date": "2015-03-10", "document": f"***{h[16 + i] * 3917 % 1000000:06d}**"}
                  for i in range(1 + h[15] % 2)],
        source_updated_at="2026-11-01T00:00:00Z",
    )
    return snap


class SandboxProvider:
    name = "sandbox"
    supports_alphanumeric = True

    def lookup(self, cnpj: str) -> LookupResult:
        if cnpj[5:8] == "999":
            return LookupResult(self.name, False, raw={"sandbox": True, "found": False},
                                sandbox=True, message="CNPJ not found (sandbox)")
        snap = company(cnpj)
        return LookupResult(self.name, True, snapshot=snap, raw={"sandbox": True, **snap}, sandbox=True)
