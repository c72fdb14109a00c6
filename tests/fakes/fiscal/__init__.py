"""Fake NFS-e providers on 127.0.0.1: Sefin Nacional + ADN (mutual TLS), Focus NFe, PlugNotas.

    from tests.fakes.fiscal import start_fake_sefin, start_fake_focus, start_fake_plugnotas
"""

from tests.fakes.fiscal.focus import FakeFocus, start_fake_focus
from tests.fakes.fiscal.plugnotas import FakePlugNotas, start_fake_plugnotas
from tests.fakes.fiscal.sefin import FakeSefin, start_fake_sefin

__all__ = ("FakeFocus", "FakePlugNotas", "FakeSefin", "start_fake_focus", "start_fake_plugnotas",
           "start_fake_sefin")
