"""Fake CNPJ providers (publica.cnpj.ws, BrasilAPI, ReceitaWS) on 127.0.0.1 with their real shapes."""

from tests.fakes.cnpj.companies import Company, Partner, sample_company
from tests.fakes.cnpj.server import FakeProvider, fake_providers

__all__ = ["Company", "FakeProvider", "Partner", "fake_providers", "sample_company"]
