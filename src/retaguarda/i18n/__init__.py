"""Translations and Brazilian formats: the one place human-facing text and numbers go through.

Stage 1 (this file): the API every module and template uses from now on — `_`, `ngettext`,
`lazy_gettext`, `format_money`, `format_date`, `format_datetime`, `format_percent`,
`parse_money`, `parse_date` — wired into Jinja's `i18n` extension. The gettext functions return
the English message id until the catalogs (`locales/<locale>/LC_MESSAGES/messages.po`) and the
per-request locale land; the format helpers already speak pt_BR.

Write every new human-facing string as `_("English text")` in Python and as
`{{ _("English text") }}` / `{% trans %}…{% endtrans %}` in templates; never format money with
`f"{x:.2f}"` or dates with `isoformat()` for people: use the helpers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

DEFAULT_LOCALE = "pt_BR"
DEFAULT_TIMEZONE = "America/Sao_Paulo"


def gettext(message: str, **variables: Any) -> str:
    text = message
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = singular if n == 1 else plural
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def lazy_gettext(message: str) -> str:
    """Marks a module-level string for extraction; translated where it is shown."""
    return message


def _q(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def format_money(value: Any, currency: bool = True) -> str:
    """R$ 1.234,56 (negative: -R$ 1.234,56)."""
    if value is None or value == "":
        return ""
    amount = _q(value)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    body = ".".join(groups) + "," + cents
    return f"{sign}R$\xa0{body}" if currency else f"{sign}{body}"


def format_date(value: date | datetime | str | None) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | str | None, tz: str = DEFAULT_TIMEZONE) -> str:
    if value in (None, ""):
        return ""
    from zoneinfo import ZoneInfo

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError("naive datetime: stored instants are timezone-aware UTC")
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def format_percent(value: Any, places: int = 1) -> str:
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    return f"{number}".replace(".", ",") + "\xa0%"


def parse_money(text: str) -> Decimal:
    """What people type: 1.234,56 · 1234,56 · 1234.56 · R$ 10 → Decimal; ValueError otherwise."""
    raw = (text or "").replace("R$", "").replace("\xa0", "").replace(" ", "").strip()
    if not raw:
        raise ValueError("empty amount")
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    elif raw.count(".") > 1 or (raw.count(".") == 1 and len(raw.split(".")[1]) == 3):
        raw = raw.replace(".", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    return value


def parse_date(text: str) -> date:
    """dd/mm/aaaa or aaaa-mm-dd → date; ValueError otherwise."""
    raw = (text or "").strip()
    if "/" in raw:
        day, month, year = raw.split("/")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(raw)


def install_jinja(environment: Any) -> None:
    """Adds the i18n extension and the format filters to a Jinja environment."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)
    environment.filters.update(money=format_money, date_br=format_date, datetime_br=format_datetime,
                               percent=format_percent)
