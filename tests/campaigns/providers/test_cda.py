"""CDA specifics beyond the single-step contract."""

from __future__ import annotations

from typing import Any

import pytest

from retaguarda.campaigns.providers import PermanentProviderError
from tests.fakes.campaigns.samples import message


def test_cda_refuses_a_reused_key_with_another_payload(build: Any, cda: Any) -> None:
    provider = build("cda")
    provider.send(message(1))
    with pytest.raises(PermanentProviderError) as caught:
        provider.send(message(1, text="another text"))
    assert caught.value.status == 409 and len(cda.received) == 1
