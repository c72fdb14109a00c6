"""Customer rules, decided without any I/O."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retaguarda.customers.domain import Customer
from retaguarda.shared.documents import make_cnpj, make_cpf
from retaguarda.shared.errors import ConflictError, ValidationError


def register(meta, **overrides):
    fields = dict(name="Ana Souza", kind="person", document="529.982.247-25", email="Ana@Example.com")
    fields.update(overrides)
    return Customer.register(uuid.uuid4(), meta, **fields)


def test_registering_normalises_document_email_and_records_metadata(meta):
    # Given a person with a formatted CPF and a mixed-case e-mail
    customer = register(meta)
    # Then the aggregate keeps the compact document, the lower-case e-mail and the event metadata
    assert customer.document == "52998224725"
    assert customer.email == "ana@example.com"
    assert customer.status == "active"
    event = customer.pending_events[0]
    assert (event.tenant_id, event.actor, event.correlation_id) == ("tenant-a", "user-1", "corr-1")
    assert event.timestamp == meta.at


def test_alphanumeric_cnpj_is_accepted_for_companies(meta):
    customer = register(meta, kind="company", document="12.ABC.345/01DE-35")
    assert customer.document == "12ABC34501DE35"


@pytest.mark.parametrize("kind,document,message", [
    ("person", "529.982.247-24", "CPF check digits do not match"),
    ("company", "12ABC34501DE36", "CNPJ check digits do not match"),
    ("company", "123", "CNPJ must have 14 characters"),
    ("person", "11222333000181", "CPF must have 11 digits"),
])
def test_bad_documents_are_refused_naming_the_field(meta, kind, document, message):
    with pytest.raises(ValidationError) as err:
        register(meta, kind=kind, document=document)
    assert err.value.errors["document"].startswith(message)


def test_every_bad_field_is_reported_at_once(meta):
    with pytest.raises(ValidationError) as err:
        register(meta, name=" ", email="not-an-email", address={"cep": "123", "uf": "XX"})
    assert set(err.value.errors) == {"name", "email", "address.cep", "address.uf"}


def test_ibge_code_must_belong_to_the_uf(meta):
    with pytest.raises(ValidationError) as err:
        register(meta, address={"uf": "SP", "ibge_code": "3304557", "cep": "01001000"})
    assert "address.ibge_code" in err.value.errors
    ok = register(meta, address={"uf": "SP", "ibge_code": "3550308", "cep": "01001-000"})
    assert ok.address["cep"] == "01001000"


def test_update_records_only_what_changed(meta):
    customer = register(meta)
    later = meta.later(meta.at + timedelta(minutes=5))
    assert customer.update(later, name="Ana Souza") == {}
    diff = customer.update(later, name="Ana B. Souza", phones=["(11) 98765-4321"])
    assert diff == {"name": "Ana B. Souza", "phones": ("11987654321",)}
    assert customer.version == 2


def test_changing_kind_revalidates_the_document(meta):
    customer = register(meta)
    with pytest.raises(ValidationError) as err:
        customer.update(meta, kind="company")
    assert "document" in err.value.errors


def test_status_transitions_follow_the_rules(meta):
    customer = register(meta)
    with pytest.raises(ConflictError):
        customer.unblock(meta, "not blocked")
    customer.block(meta, "overdue invoice 12")
    assert (customer.status, customer.status_reason) == ("blocked", "overdue invoice 12")
    with pytest.raises(ValidationError):
        customer.unblock(meta, "  ")
    customer.unblock(meta, "paid")
    customer.deactivate(meta, "moved away")
    with pytest.raises(ConflictError):
        customer.update(meta, name="Other")
    customer.reactivate(meta, "came back")
    assert customer.status == "active"


def test_events_of_another_tenant_are_refused(meta):
    customer = register(meta)
    with pytest.raises(ValueError):
        customer.block(meta.with_tenant("tenant-b"), "nope")


@given(st.from_regex(r"[0-9]{9}", fullmatch=True).filter(lambda b: len(set(b)) > 1))
def test_any_cpf_with_computed_check_digits_is_valid(base):
    # (CPFs of one repeated digit are invalid by rule even with matching check digits)
    from retaguarda.shared.documents import normalize_cpf

    assert normalize_cpf(make_cpf(base)) == make_cpf(base)


@given(st.from_regex(r"[0-9A-Z]{12}", fullmatch=True).filter(lambda b: len(set(b)) > 1))
def test_any_alphanumeric_cnpj_with_computed_check_digits_is_valid(base):
    from retaguarda.shared.documents import normalize_cnpj

    assert normalize_cnpj(make_cnpj(base)) == make_cnpj(base)
