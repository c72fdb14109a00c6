"""Template sandbox: placeholders, Brazilian formats, and refusal of internals, calls and unknown names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from retaguarda.contracts import templating
from retaguarda.shared.errors import ValidationError


def test_renders_placeholders_with_brazilian_formats():
    text = templating.render(
        "{{ cliente.nome }} ({{ cliente.documento }}) — {{ plano.nome }} por {{ preco }}/mês de {{ inicio }} a "
        "{{ fim }}; fidelidade {{ fidelidade_meses }} meses; renova: {{ renovacao_automatica }}",
        {**templating.SAMPLE, "preco": Decimal("1234.5"), "inicio": date(2026, 3, 9), "fim": None})
    assert text == ("Maria da Silva (123.456.789-09) — Fibra 500 Mega por R$\xa01.234,50/mês de 09/03/2026 a "
                    "prazo indeterminado; fidelidade 12 meses; renova: sim")


@pytest.mark.parametrize("body", [
    "{{ cliente.__class__ }}",
    "{{ cliente.__class__.__mro__[1].__subclasses__() }}",
    "{{ cliente._fields }}",
    "{{ cliente['_fields'] }}",
    "{{ cliente.nome.__class__ }}",
    "{{ cliente.nome.upper() }}",
    "{{ preco.__class__.__init__.__globals__ }}",
    "{{ range(10) }}",
    "{{ lipsum() }}",
    "{{ cycler }}",
    "{{ self.__dict__ }}",
    "{{ config }}",
])
def test_internals_and_calls_are_refused(body):
    with pytest.raises(ValidationError) as exc:
        templating.validate(body)
    assert exc.value.field == "body"


@pytest.mark.parametrize(("body", "words"), [
    ("{{ cliente.apelido }}", "unknown placeholder"),
    ("{{ desconto }}", "unknown placeholder"),
    ("{% if preco %}sem fim", "syntax"),
    ("{{ cliente.nome ", "syntax"),
])
def test_unknown_placeholder_and_syntax_errors_name_body(body, words):
    with pytest.raises(ValidationError) as exc:
        templating.validate(body)
    assert exc.value.field == "body" and words in exc.value.message


def test_the_default_template_renders_against_the_sample():
    from retaguarda.contracts.defaults import DEFAULT_TEMPLATE

    text = templating.validate(DEFAULT_TEMPLATE)
    assert "Maria da Silva" in text and "R$\xa099,90" in text and "05/01/2026" in text
    assert "{{" not in text and "{%" not in text
