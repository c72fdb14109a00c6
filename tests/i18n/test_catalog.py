"""The pt_BR catalog covers every message of a fresh extraction: none missing, untranslated or fuzzy,
and every translation keeps the placeholders of its msgid."""

from __future__ import annotations

from retaguarda.i18n.check import check


def test_pt_br_catalog_is_complete() -> None:
    report = check("pt_BR")
    assert report.extracted > 1000, report.extracted
    assert not report.missing, report.missing[:20]
    assert not report.untranslated, report.untranslated[:20]
    assert not report.fuzzy, report.fuzzy[:20]
    assert not report.format_errors, report.format_errors[:20]
    assert report.translated == report.extracted
