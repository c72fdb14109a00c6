"""The NFCom 44-digit access key (chave de acesso), as MOC NFCom Visão Geral §2.1.3 / §7.3 set it.

    cUF(2) AAMM(4) CNPJ(14) mod(2)=62 serie(3) nNF(9) tpEmis(1) nSiteAutoriz(1) cNF(7) cDV(1)

The check digit is modulo 11 over the first 43 digits with weights 2..9 repeating from the right;
a remainder of 0 or 1 gives DV 0, otherwise DV = 11 - remainder. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

MODEL = "62"
KEY_RE = re.compile(r"^\d{44}$")

UF_CODES: dict[str, str] = {
    "RO": "11",
    "AC": "12",
    "AM": "13",
    "RR": "14",
    "PA": "15",
    "AP": "16",
    "TO": "17",
    "MA": "21",
    "PI": "22",
    "CE": "23",
    "RN": "24",
    "PB": "25",
    "PE": "26",
    "AL": "27",
    "SE": "28",
    "BA": "29",
    "MG": "31",
    "ES": "32",
    "RJ": "33",
    "SP": "35",
    "PR": "41",
    "SC": "42",
    "RS": "43",
    "MS": "50",
    "MT": "51",
    "GO": "52",
    "DF": "53",
}
"""IBGE codes of the states (ide/cUF)."""


class AccessKeyError(ValueError):
    """A part of the key is out of its range; the message names the part."""


def check_digit(digits43: str) -> int:
    """Mod-11 DV of a 43-digit string (weights 2..9 from the right)."""
    if not re.fullmatch(r"\d{43}", digits43):
        raise AccessKeyError("the key body must have exactly 43 digits")
    total = 0
    weight = 2
    for ch in reversed(digits43):
        total += int(ch) * weight
        weight = 2 if weight == 9 else weight + 1
    rest = total % 11
    return 0 if rest in (0, 1) else 11 - rest


def is_valid(key: str) -> bool:
    """44 digits, model 62 and a matching check digit."""
    return bool(KEY_RE.match(key or "")) and key[20:22] == MODEL and check_digit(key[:43]) == int(key[43])


@dataclass(frozen=True)
class KeyParts:
    uf_code: str
    year_month: str
    cnpj: str
    model: str
    series: int
    number: int
    emission_type: int
    site: int
    random_code: str
    check_digit: int


def compose(
    *,
    uf: str,
    issued_on: date,
    cnpj: str,
    series: int,
    number: int,
    random_code: str,
    emission_type: int = 1,
    site: int = 0,
) -> str:
    """The 44-digit key. `uf` a state abbreviation (or its 2-digit IBGE code); `random_code` cNF."""
    uf_code = UF_CODES.get(uf.upper(), uf) if uf else ""
    if uf_code not in UF_CODES.values():
        raise AccessKeyError(f"unknown UF {uf!r}")
    if not re.fullmatch(r"\d{14}", cnpj or ""):
        raise AccessKeyError("the issuer CNPJ must have 14 digits")
    if not 0 <= series <= 999:
        raise AccessKeyError("series must be 0 to 999")
    if not 1 <= number <= 999_999_999:
        raise AccessKeyError("number must be 1 to 999999999")
    if emission_type not in (1, 2):
        raise AccessKeyError("emission type must be 1 (normal) or 2 (offline contingency)")
    if not 0 <= site <= 9:
        raise AccessKeyError("authoriser site must be one digit")
    if not re.fullmatch(r"\d{7}", random_code or ""):
        raise AccessKeyError("the random code (cNF) must have 7 digits")
    if issued_on.year < 2000:
        raise AccessKeyError("the emission year must be 2000 or later")
    body = (
        f"{uf_code}{issued_on:%y%m}{cnpj}{MODEL}{series:03d}{number:09d}{emission_type}{site}"
        f"{random_code}"
    )
    return body + str(check_digit(body))


def parse(key: str) -> KeyParts:
    """Splits a valid key into its parts; raises AccessKeyError for a malformed or wrong-DV key."""
    if not KEY_RE.match(key or ""):
        raise AccessKeyError("an NFCom key has 44 digits")
    if check_digit(key[:43]) != int(key[43]):
        raise AccessKeyError("the check digit does not match")
    return KeyParts(
        uf_code=key[0:2],
        year_month=key[2:6],
        cnpj=key[6:20],
        model=key[20:22],
        series=int(key[22:25]),
        number=int(key[25:34]),
        emission_type=int(key[34]),
        site=int(key[35]),
        random_code=key[36:43],
        check_digit=int(key[43]),
    )


def random_code(number: int, rng: secrets.SystemRandom | None = None) -> str:
    """A 7-digit cNF that differs from the number and is not a run of one digit or ascending digits."""
    gen = rng or secrets.SystemRandom()
    while True:
        code = f"{gen.randrange(0, 10_000_000):07d}"
        if int(code) == number % 10_000_000 or len(set(code)) == 1 or code in "01234567890123456":
            continue
        return code
