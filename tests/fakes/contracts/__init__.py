"""Fake e-signature provider on 127.0.0.1 for the contracts context (Clicksign API v3)."""

from tests.fakes.contracts.clicksign import FakeClicksign, start_fake_clicksign

__all__ = ["FakeClicksign", "start_fake_clicksign"]
