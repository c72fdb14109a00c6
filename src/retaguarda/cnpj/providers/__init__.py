"""The CnpjProvider port: one lookup by CNPJ → a normalized snapshot, "not found", or an error.

Vendor JSON never crosses the port: each vendor module parses its own answer into the one
normalized model (`Snapshot`, a plain dict, see `empty_snapshot`). Errors say whether trying the
same provider again could help (`transient`) and whether the provider asked us to wait
(`RateLimited.retry_after`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from retaguarda.cnpj.domain import SITUATIONS
from retaguarda.integrations import errors as kit

Snapshot = dict[str, Any]


class ProviderError(kit.ProviderError):
    """The provider gave no usable answer; the chain moves on to the next one.

    Part of the integration kit's hierarchy: transient failures and rate limits are
    `integrations.errors.TransientProviderError`s, malformed/unsupported answers
    `PermanentProviderError`s; the chain itself treats them by `kind`."""

    kind = "error"
    transient = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


class TransientProviderError(ProviderError, kit.TransientProviderError):
    """Network failure, timeout, 5xx: retried with backoff, then the next provider."""

    kind = "transient"
    transient = True


class RateLimited(ProviderError, kit.TransientProviderError):
    """429: don't call this provider again before `retry_after` seconds."""

    kind = "rate_limited"

    def __init__(self, message: str, retry_after: float, *, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class RejectedByProvider(ProviderError, kit.PermanentProviderError):
    """The provider refused the lookup (HTTP 400 and other 4xx): asking again will not help."""


class ProviderAuthError(ProviderError, kit.AuthError):
    """The provider refused our credentials (HTTP 401)."""


class MalformedAnswer(ProviderError, kit.PermanentProviderError):
    kind = "malformed"


class Unsupported(ProviderError, kit.PermanentProviderError):
    """This provider cannot look up this CNPJ (e.g. an alphanumeric one)."""

    kind = "unsupported"


@dataclass
class LookupResult:
    provider: str
    found: bool
    snapshot: Snapshot | None = None
    raw: Any = None
    sandbox: bool = False
    message: str = ""


@dataclass
class Attempt:
    provider: str
    outcome: str  # ok | not_found | error | transient | rate_limited | malformed | unsupported | skipped
    message: str = ""
    status: int | None = None
    duration_ms: int = 0
    tries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "outcome": self.outcome, "message": self.message,
                "status": self.status, "duration_ms": self.duration_ms, "tries": self.tries}


class CnpjProvider(Protocol):
    name: str
    supports_alphanumeric: bool

    def lookup(self, cnpj: str) -> LookupResult:
        """A found/not-found answer, or raises ProviderError (RateLimited, Transient…)."""
        ...


@dataclass
class ChainResult:
    result: LookupResult | None
    attempts: list[Attempt] = field(default_factory=list)


# Normalization helpers shared by the vendor parsers ----------------------------------------

def fold(text: Any) -> str:
    """Upper case without accents or extra spaces: "Não Informado " → "NAO INFORMADO"."""
    raw = " ".join(str(text or "").split())
    return "".join(c for c in unicodedata.normalize("NFKD", raw.upper()) if not unicodedata.combining(c))


_SITUATION_CODES = {v: k for k, v in SITUATIONS.items()}


def situation(text: Any = None, code: Any = None) -> tuple[str | None, str | None]:
    """(code "02", description "ATIVA") from a numeric code or a text in any case."""
    if code not in (None, ""):
        key = f"{int(code):02d}"
        if key in SITUATIONS:
            return key, SITUATIONS[key]
    name = fold(text)
    if name in _SITUATION_CODES:
        return _SITUATION_CODES[name], name
    return None, name or None


def digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def text(value: Any) -> str | None:
    """Trimmed text; empty strings (ReceitaWS) and None both become None."""
    if value is None:
        return None
    out = " ".join(str(value).split())
    return out or None


def decimal_text(value: Any) -> str | None:
    """Share capital as a 2-place decimal string; floats go through str() (never binary maths)."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MalformedAnswer(f"share capital {value!r} is not a number") from None
    return str(amount.quantize(Decimal("0.01")))


def br_date(value: Any) -> str | None:
    """dd/mm/yyyy (ReceitaWS) → ISO; ISO stays; empty → None."""
    raw = text(value)
    if not raw:
        return None
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", raw)
    if m:
        return f"{m.group(3)}-{m.group(2)}-{m.group(1)}"
    m = re.match(r"(\d{4}-\d{2}-\d{2})", raw)
    if m:
        return m.group(1)
    raise MalformedAnswer(f"date {raw!r} is not understood")


def cnae(code: Any, description: Any) -> dict[str, Any] | None:
    c = digits(code)
    if not c or set(c) == {"0"}:
        return None
    return {"code": c.zfill(7), "description": text(description)}


def phone_list(*values: Any) -> list[str]:
    phones: list[str] = []
    for value in values:
        for part in re.split(r"[/,;]", str(value or "")):
            d = digits(part)
            if len(d) >= 8 and d not in phones:
                phones.append(d)
    return phones


def email(value: Any) -> str | None:
    e = text(value)
    return e.lower() if e else None


def empty_snapshot(cnpj: str) -> Snapshot:
    return {
        "cnpj": cnpj, "razao_social": None, "nome_fantasia": None,
        "situacao": {"code": None, "description": None, "date": None, "reason": None},
        "opening_date": None, "legal_nature": {"code": None, "description": None}, "porte": None,
        "share_capital": None, "main_cnae": None, "secondary_cnaes": [],
        "address": {"street": None, "number": None, "complement": None, "district": None,
                    "cep": None, "municipality": None, "municipality_ibge": None, "uf": None},
        "phones": [], "email": None, "simples": None, "mei": None, "partners": [],
        "source_updated_at": None,
    }


def require(payload: Any, kind: type = dict) -> Any:
    if not isinstance(payload, kind):
        raise MalformedAnswer(f"expected a JSON {kind.__name__}, got {type(payload).__name__}")
    return payload
