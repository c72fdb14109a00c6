"""Fake billing providers on 127.0.0.1: Stripe, Mercado Pago and the access-network receiver."""

from tests.fakes.billing.access_network import FakeAccessNetwork, start_fake_access_network
from tests.fakes.billing.mercadopago import FakeMercadoPago, start_fake_mercadopago
from tests.fakes.billing.stripe import FakeStripe, start_fake_stripe

__all__ = ["FakeAccessNetwork", "FakeMercadoPago", "FakeStripe", "start_fake_access_network",
           "start_fake_mercadopago", "start_fake_stripe"]
