"""Catalog completeness: a fresh extraction against the committed pt_BR catalog.

`python -m retaguarda.i18n.check` (and `scripts/i18n check`) prints what is missing and exits 1
when any message of the sources is absent, untranslated or fuzzy in pt_BR.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from retaguarda.i18n import LOCALES_DIR

ROOT = LOCALES_DIR.parent.parent.parent
KEYWORDS = ("_", "gettext", "ngettext:1,2", "lazy_gettext", "N_", "translate_in:2", "money_field:3",
            # error messages of the domain, shown through `error_text`
            "ValidationError:2", "ConflictError:1", "AuthenticationError:1", "TooManyRequestsError:1",
            "tr")  # tr(): templates, for text with a literal % (never %-formatted)


@dataclass
class Report:
    extracted: int = 0
    translated: int = 0
    missing: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    format_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.untranslated or self.fuzzy or self.format_errors)


def extract(root: Path = ROOT) -> Catalog:
    """Runs Babel's extraction with babel.cfg, as `scripts/i18n extract` does."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        args = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                "--no-default-keywords", "-o", str(pot)]
        for keyword in KEYWORDS:
            args += ["-k", keyword]
        args.append(".")
        subprocess.run(args, cwd=root, check=True, capture_output=True)
        with pot.open("rb") as fp:
            return read_po(fp)


def load(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=locale)


def check(locale: str = "pt_BR", root: Path = ROOT) -> Report:
    fresh = extract(root)
    catalog = load(locale)
    report = Report()
    for message in fresh:
        if not message.id:
            continue
        report.extracted += 1
        key = message.id if isinstance(message.id, str) else message.id[0]
        found = catalog.get(message.id)
        if found is None:
            report.missing.append(key)
            continue
        strings = found.string if isinstance(found.string, tuple | list) else (found.string,)
        if found.fuzzy:
            report.fuzzy.append(key)
        elif not all(strings):
            report.untranslated.append(key)
        else:
            report.translated += 1
            # placeholders of the translation must match the msgid's (%(name)s, %%)
            report.format_errors += [f"{key}: {error}" for error in found.check(catalog)]
    return report


def main() -> int:
    report = check()
    print(f"pt_BR: {report.extracted} messages in the sources, {report.translated} translated, "
          f"{len(report.missing)} missing from the catalog, {len(report.untranslated)} untranslated, "
          f"{len(report.fuzzy)} fuzzy, {len(report.format_errors)} with placeholder errors")
    for title, items in (("missing", report.missing), ("untranslated", report.untranslated),
                         ("fuzzy", report.fuzzy), ("placeholders", report.format_errors)):
        for item in items[:50]:
            print(f"  {title}: {item!r}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
