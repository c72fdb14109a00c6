"""Contract templates: Jinja in a locked-down sandbox, Brazilian formats in the values.

Placeholders are plain names and one level of fields (`{{ cliente.nome }}`). Values arrive
already formatted (R$ 1.234,56, dd/mm/aaaa), so templates never format. Safety:

- `SandboxedEnvironment` with `StrictUndefined`: an unknown name or field fails.
- Only fields of our own `Record` objects are reachable; every other attribute (`__class__`,
  `items`, `mro` …) is refused, and nothing is callable.
- A template is checked when saved: syntax errors, unknown placeholders and refused attributes
  are a 422 naming `body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from retaguarda.i18n import format_date, format_money
from retaguarda.shared.errors import ValidationError


class Record:
    """A read-only bag of template fields; only its declared keys are visible to templates."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    def __str__(self) -> str:
        return str(object.__getattribute__(self, "_fields").get("nome", ""))


class _Sandbox(SandboxedEnvironment):
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return isinstance(obj, Record) and attr in object.__getattribute__(obj, "_fields")

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Record) and isinstance(argument, str):
            return self.getattr(obj, argument)
        return self.unsafe_undefined(obj, str(argument))


_ENV = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_ENV.globals.clear()  # no range/lipsum/cycler/joiner/namespace: placeholders only

# The placeholders every template may use, with sample values for validation and previews.
SAMPLE: dict[str, Any] = {
    "numero": "CT-000000",
    "cliente": {
        "nome": "Maria da Silva",
        "documento": "123.456.789-09",
        "email": "maria@example.com",
        "endereco": "Rua das Flores, 100 - Centro, São Paulo/SP",
    },
    "plano": {"nome": "Fibra 500 Mega", "preco": Decimal("99.90")},
    "empresa": {"nome": "Provedor Exemplo Ltda", "documento": "12.345.678/0001-95"},
    "preco": Decimal("99.90"),
    "inicio": date(2026, 1, 5),
    "fim": date(2027, 1, 5),
    "fidelidade_meses": 12,
    "multa": Decimal("99.90"),
    "vencimento": 10,
    "renovacao_automatica": True,
    "renovacao_meses": 12,
    "hoje": date(2026, 1, 5),
}
PLACEHOLDERS = (
    "numero",
    "cliente.nome",
    "cliente.documento",
    "cliente.email",
    "cliente.endereco",
    "plano.nome",
    "plano.preco",
    "empresa.nome",
    "empresa.documento",
    "preco",
    "inicio",
    "fim",
    "fidelidade_meses",
    "multa",
    "vencimento",
    "renovacao_automatica",
    "renovacao_meses",
    "hoje",
)


def _fmt(value: Any) -> Any:
    if isinstance(value, Mapping):
        return Record({k: _fmt(v) for k, v in value.items()})
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, date):
        return format_date(value)
    if value is None:
        return "prazo indeterminado"
    return value


def formatted(values: Mapping[str, Any]) -> dict[str, Any]:
    """Raw values (Decimal, date, bool, dicts) → what templates see (Brazilian text, Records)."""
    return {k: _fmt(v) for k, v in values.items()}


def _problem(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"template syntax error on line {exc.lineno}: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"refused: {exc}"
    if isinstance(exc, UndefinedError):
        message = str(exc.message or "").replace("'retaguarda.contracts.templating.Record object'", "record")
        return f"unknown placeholder: {message}; use one of: {', '.join(PLACEHOLDERS)}"
    return f"template error: {exc}"


def render(body: str, values: Mapping[str, Any]) -> str:
    """The text of `body` with `values` (raw; formatted here). ValidationError("body") on failure."""
    try:
        return _ENV.from_string(body).render(formatted(values))
    except (TemplateError, SecurityError, TypeError, ValueError) as exc:
        raise ValidationError("body", _problem(exc)) from None


def validate(body: str) -> str:
    """Renders against the sample values; returns the preview text or raises ValidationError("body")."""
    return render(body, SAMPLE)
