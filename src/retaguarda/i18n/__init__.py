"""Translations and Brazilian formats: the one place human-facing text and numbers go through.

Text: `_("English msgid")` / `ngettext` in Python, `{{ _("…") }}` / `{% trans %}` in templates
(Jinja's `i18n` extension, newstyle callables). Messages are looked up in the Babel catalogs
`retaguarda/locales/<locale>/LC_MESSAGES/messages.po` (compiled to `.mo` at set-up by
`scripts/i18n compile`; when a `.mo` is missing the `.po` is compiled in memory) for the locale of
the current request: a context variable set by `retaguarda.i18n.web.locale_middleware` from the
user's profile (pages), `Accept-Language` (anonymous pages and the API) and `DEFAULT_LOCALE`.
Outside a request (workers, CLI) use `use_locale(...)`.

Formats: money `R$ 1.234,56` (Babel, BRL), dates `dd/mm/aaaa`, date-times in the tenant's zone
`dd/mm/aaaa hh:mm`, percentages `12,5 %` — the Brazilian forms in every locale, since the money
and the calendar are Brazilian. Typed input goes through `parse_money` / `parse_date`.

`lazy_gettext` marks module-level strings (labels of enums, CSV headers) for extraction; they
are translated where they are shown, with `_()` or the `label` filter.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import re
from collections.abc import Iterator
from contextvars import ContextVar, Token
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE = "pt_BR"
DEFAULT_TIMEZONE = "America/Sao_Paulo"
SUPPORTED_LOCALES = ("pt_BR", "en")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

log = logging.getLogger(__name__)
_current: ContextVar[str] = ContextVar("retaguarda_locale", default=DEFAULT_LOCALE)


# Locale of the current request / job ------------------------------------------------------

def normalize_locale(value: Any) -> str | None:
    """'pt-BR', 'pt_br', 'pt' → 'pt_BR'; 'en-US', 'en' → 'en'; anything else → None."""
    raw = str(value or "").strip().replace("-", "_")
    if not raw:
        return None
    lang = raw.split("_")[0].lower()
    if lang == "pt":
        return "pt_BR"
    if lang == "en":
        return "en"
    return None


def get_locale() -> str:
    return _current.get()


def set_locale(locale: str | None) -> Token[str]:
    return _current.set(normalize_locale(locale) or DEFAULT_LOCALE)


def reset_locale(token: Token[str]) -> None:
    _current.reset(token)


@contextlib.contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Runs a block (an e-mail, a PDF, a CLI command) in a locale."""
    token = set_locale(locale)
    try:
        yield get_locale()
    finally:
        _current.reset(token)


def html_lang(locale: str | None = None) -> str:
    """The `lang` attribute: pt-BR / en."""
    return (locale or get_locale()).replace("_", "-")


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The best supported locale for an `Accept-Language` header (q-values honoured)."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        locale = normalize_locale(tag)
        if locale and quality > 0:
            choices.append((-quality, index, locale))
    return min(choices)[2] if choices else default


# Catalogs -------------------------------------------------------------------------------

@functools.cache
def translations(locale: str) -> NullTranslations:
    """The catalog of a locale: the compiled .mo, else the .po compiled in memory."""
    if locale == "en":
        return NullTranslations()  # msgids are English
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    mo = folder / f"{DOMAIN}.mo"
    po = folder / f"{DOMAIN}.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if po.exists():
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as fp:
            catalog = read_po(fp, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        log.info("i18n: %s compiled in memory (run scripts/i18n compile)", po)
        return Translations(buffer, domain=DOMAIN)
    log.warning("i18n: no catalog for %s in %s", locale, LOCALES_DIR)
    return NullTranslations()


def _translate(message: str) -> str:
    return translations(get_locale()).ugettext(message) if message else message


def _ntranslate(singular: str, plural: str, n: int) -> str:
    return translations(get_locale()).ungettext(singular, plural, n)


def gettext(message: str, **variables: Any) -> str:
    text = _translate(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = _ntranslate(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def lazy_gettext(message: str) -> str:
    """Marks a module-level string for extraction; translated where it is shown (`_(x)`)."""
    return message


N_ = lazy_gettext


def translate_in(locale: str | None, message: str, **variables: Any) -> str:
    """`gettext` in a given locale (an e-mail to a user, whatever the current request)."""
    with use_locale(locale):
        return gettext(message, **variables)


def error_text(message: str) -> str:
    """An error message of the domain (an English msgid, see `domain_messages`) for people."""
    return gettext(message) if message else message


# Labels of enum values (API values stay English; people read these) ----------------------

# Shared words first; a `kind` map overrides where a trade says it differently.
LABELS: dict[str, str] = {
    # customers, subscriptions, users
    "active": N_("Active"), "blocked": N_("Blocked"), "inactive": N_("Inactive"),
    "suspended": N_("Suspended"), "invited": N_("Invited"),
    "company": N_("Company"), "person": N_("Person"),
    # invoices
    "draft": N_("Draft"), "issued": N_("Outstanding"), "partially_paid": N_("Partially paid"),
    "overdue": N_("Overdue"), "paid": N_("Paid in full"), "cancelled": N_("Cancelled"),
    # NFS-e
    "requested": N_("Requested"), "submitted": N_("Submitted"), "authorized": N_("Authorized"),
    "rejected": N_("Rejected"), "failed": N_("Failed"), "cancelling": N_("Cancelling"),
    "cancellation_rejected": N_("Cancellation rejected"),
    "cancellation_failed": N_("Cancellation failed"), "dead_letter": N_("Dead letter"),
    # tickets
    "open": N_("Open"), "in_progress": N_("In progress"), "waiting_customer": N_("Waiting for customer"),
    "resolved": N_("Resolved"), "closed": N_("Closed"), "reopened": N_("Reopened"),
    "low": N_("Low"), "medium": N_("Medium"), "high": N_("High"), "critical": N_("Critical"),
    "portal": N_("Portal"), "phone": N_("Phone"), "email": N_("E-mail"), "api": N_("API"),
    "public": N_("Public"), "internal": N_("Internal"),
    "customer": N_("Customer"), "staff": N_("Staff"), "system": N_("System"),
    # campaigns, notifications, jobs, CNPJ checks
    "received": N_("Received"), "dispatching": N_("Dispatching"), "scheduled": N_("Scheduled"),
    "started": N_("Started"), "completed": N_("Completed"),
    "completed_with_failures": N_("Completed with failures"),
    "queued": N_("Queued"), "sent": N_("Sent"), "delivered": N_("Delivered"), "skipped": N_("Skipped"),
    "pending": N_("Pending"), "running": N_("Running"), "done": N_("Done"), "retrying": N_("Retrying"),
    # roles
    "admin": N_("Administrator"), "manager": N_("Manager"), "technician": N_("Technician"),
    "finance": N_("Finance"), "auditor": N_("Auditor"), "apikey": N_("API key"),
    # plans and runs
    "plan": N_("Plan"), "product": N_("Product"), "service": N_("Service"),
    "monthly": N_("Monthly"), "bimonthly": N_("Bimonthly"), "quarterly": N_("Quarterly"),
    "semiannual": N_("Semiannual"), "annual": N_("Annual"), "once": N_("Once"),
    "manual": N_("Manual"), "daily": N_("Daily"),
    # payment methods
    "pix": N_("PIX"), "boleto": N_("Boleto"), "card": N_("Card"), "cash": N_("Cash"),
    "transfer": N_("Bank transfer"), "credit": N_("Credit"),
}
KIND_LABELS: dict[str, dict[str, str]] = {
    "check": {"completed": N_("Checked"), "failed": N_("Check failed")},
    "sla": {"ok": N_("on time"), "warning": N_("at risk"), "breached": N_("breached"), "paused": N_("paused"),
            "met": N_("met"), "met late": N_("met late"), "missed": N_("missed"),
            "first_response": N_("First response"), "resolution": N_("Resolution")},
    "action": {"in_progress": N_("Start work"), "waiting_customer": N_("Wait for customer"),
               "resolved": N_("Resolve"), "closed": N_("Close"), "reopened": N_("Reopen")},
    "queue": {"mine": N_("Mine"), "unassigned": N_("Unassigned"), "all": N_("All"),
              "breached": N_("Breached")},
    "weekday": {"mon": N_("Monday"), "tue": N_("Tuesday"), "wed": N_("Wednesday"), "thu": N_("Thursday"),
                "fri": N_("Friday"), "sat": N_("Saturday"), "sun": N_("Sunday")},
}


def label(value: Any, kind: str = "") -> str:
    """The person-facing word for an enum value (`{{ inv.status|label }}`); unknown → as is."""
    if value is None or value == "":
        return ""
    key = str(value)
    msgid = KIND_LABELS.get(kind, {}).get(key) or LABELS.get(key)
    if msgid is None:
        return key.replace("_", " ")
    return gettext(msgid)


# Formats ---------------------------------------------------------------------------------

def _q(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def format_money(value: Any, currency: bool = True) -> str:
    """R$ 1.234,56 (negative: -R$ 1.234,56); `currency=False` → 1.234,56 (for form fields)."""
    if value is None or value == "":
        return ""
    amount = _q(value)
    if currency:
        return format_currency(amount, "BRL", locale="pt_BR")
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ".".join(groups) + "," + cents


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
        if len(value) == 10:
            return format_date(value)
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return format_date(value)
    if value.tzinfo is None:  # read back from SQLite: stored instants are UTC
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def readable_params(params: dict[str, Any], tz: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    """Message placeholders for people: an ISO instant with its offset (as events and notices
    carry it, `2026-12-04T13:00:00+00:00`) becomes `04/12/2026 10:00` in the tenant's zone;
    anything else is left as it is."""
    return {k: format_datetime(v, tz) if isinstance(v, str) and _ISO_INSTANT.match(v) else v
            for k, v in params.items()}


def format_percent(value: Any, places: int = 1) -> str:
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    return f"{number}".replace(".", ",") + "\xa0%"


def format_month(value: Any) -> str:
    """2026-12 (or a date) → 12/2026."""
    if value in (None, ""):
        return ""
    if isinstance(value, date):
        return value.strftime("%m/%Y")
    text = str(value)
    if len(text) >= 7 and text[4] == "-":
        return f"{text[5:7]}/{text[:4]}"
    return text


def format_number(value: Any, places: int = 0) -> str:
    """1.234 / 1.234,5 (Brazilian grouping)."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    text = f"{number:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


_VALUE_TOKEN = re.compile(
    r"(?P<lead>(?:=|: ))(?P<value>\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?"
    r"|-?\d+\.\d{2})(?=[,;)}\]\s]|$)")


def format_values(text: Any) -> str:
    """Brazilian forms of the dates, instants and amounts in a `key=value, key: value` summary."""
    def one(match: re.Match[str]) -> str:
        value = match.group("value")
        if "-" in value[1:] and len(value) >= 10 and value[4] == "-":
            shown = format_datetime(value) if len(value) > 10 else format_date(value)
        else:
            shown = format_money(value, currency=False)
        return match.group("lead") + shown

    return _VALUE_TOKEN.sub(one, "" if text is None else str(text))


def parse_money(text: str) -> Decimal:
    """What people type: 1.234,56 · 1234,56 · 1234.56 · R$ 10 → Decimal; ValueError otherwise."""
    raw = (text or "").replace("R$", "").replace("\xa0", "").replace(" ", "").strip()
    if not raw:
        raise ValueError("empty amount")
    if "," in raw:
        if raw.count(",") > 1 or len(raw.split(",")[1]) > 2:
            raise ValueError(f"not an amount: {text!r}")
        whole = raw.split(",")[0].lstrip("-+")
        if "." in whole and not all(len(g) == 3 for g in whole.split(".")[1:]):
            raise ValueError(f"not an amount: {text!r}")
        raw = raw.replace(".", "").replace(",", ".")
    elif raw.count(".") > 1 or (raw.count(".") == 1 and len(raw.split(".")[1]) == 3):
        if not all(len(g) == 3 for g in raw.split(".")[1:]):
            raise ValueError(f"not an amount: {text!r}")
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
        parts = raw.split("/")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
            raise ValueError(f"not a date: {text!r}")
        day, month, year = parts
        return date(int(year), int(month), int(day))
    return date.fromisoformat(raw)


def money_field(data: Any, field: str, label_text: str, errors: dict[str, str],
                required: bool = True) -> Decimal | None:
    """Reads a typed amount from a form; on failure puts a Portuguese error naming the field."""
    raw = str((data.get(field) if hasattr(data, "get") else "") or "").strip()
    if not raw:
        if required:
            errors[field] = gettext("%(field)s: enter an amount.", field=gettext(label_text))
        return None
    try:
        return parse_money(raw)
    except ValueError:
        errors[field] = gettext("%(field)s: “%(value)s” is not an amount (e.g. 1.234,56).",
                                field=gettext(label_text), value=raw)
        return None


# Jinja -----------------------------------------------------------------------------------

def install_jinja(environment: Any) -> None:
    """Adds the i18n extension (newstyle, per-request locale) and the format filters."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(_translate, _ntranslate, newstyle=True)
    environment.filters.update(money=format_money, date_br=format_date, datetime_br=format_datetime,
                               percent=format_percent, number_br=format_number, month_br=format_month,
                               label=label,
                               values_br=format_values)
    # tr(): a message computed in Python (flash, error) — translated when the catalog knows it,
    # never %-formatted (it may contain a literal %)
    environment.globals.update(html_lang=html_lang, current_locale=get_locale, tr=error_text)
