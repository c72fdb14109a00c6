"""IBGE municipality codes (7 digits) → (name, UF) for the places documents print most: every state
capital and the larger cities our demo and tests use. Documents carrying a name of their own
(`xLocEmi`, `xLocPrestacao`, a customer's `city`) prefer it; this table fills addresses that carry
only `cMun`. An unknown code prints as "IBGE <code>", never as a bare number."""

from __future__ import annotations

MUNICIPALITIES: dict[str, tuple[str, str]] = {
    "1200401": ("Rio Branco", "AC"), "2704302": ("Maceió", "AL"), "1600303": ("Macapá", "AP"),
    "1302603": ("Manaus", "AM"), "2927408": ("Salvador", "BA"), "2304400": ("Fortaleza", "CE"),
    "5300108": ("Brasília", "DF"), "3205309": ("Vitória", "ES"), "5208707": ("Goiânia", "GO"),
    "2111300": ("São Luís", "MA"), "5103403": ("Cuiabá", "MT"), "5002704": ("Campo Grande", "MS"),
    "3106200": ("Belo Horizonte", "MG"), "1501402": ("Belém", "PA"), "2507507": ("João Pessoa", "PB"),
    "4106902": ("Curitiba", "PR"), "2611606": ("Recife", "PE"), "2211001": ("Teresina", "PI"),
    "3304557": ("Rio de Janeiro", "RJ"), "2408102": ("Natal", "RN"), "4314902": ("Porto Alegre", "RS"),
    "1100205": ("Porto Velho", "RO"), "1400100": ("Boa Vista", "RR"), "4205407": ("Florianópolis", "SC"),
    "3550308": ("São Paulo", "SP"), "2800308": ("Aracaju", "SE"), "1721000": ("Palmas", "TO"),
    "3509502": ("Campinas", "SP"), "3548708": ("São Bernardo do Campo", "SP"),
    "3170206": ("Uberlândia", "MG"), "1505486": ("Pacajá", "PA"),
}


def municipality_name(code: str, known: dict[str, str] | None = None) -> str:
    """The municipality's name for an IBGE code (`known` names first), else "IBGE <code>"."""
    code = (code or "").strip()
    if not code:
        return ""
    if known and known.get(code):
        return known[code]
    found = MUNICIPALITIES.get(code)
    return found[0] if found else f"IBGE {code}"
