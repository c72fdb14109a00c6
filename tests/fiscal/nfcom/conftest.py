"""NFCom fixtures on top of the fiscal ones: the demo's NFCom settings and a private simulated SVRS."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fiscal.conftest import ADMIN, now_meta


@pytest.fixture
def nfcom_container(fiscal_container: Any) -> Any:
    from retaguarda.fiscal.nfcom.backends.authority import SimulatedSvrs
    from retaguarda.fiscal.nfcom.install import DEMO_NFCOM_SETTINGS

    authority = SimulatedSvrs(environment="homologacao", clock=fiscal_container.clock)
    fiscal_container.nfcom_backend_options = {"authority": authority}
    fiscal_container.nfcom.save_settings(now_meta(), dict(DEMO_NFCOM_SETTINGS))
    return fiscal_container


@pytest.fixture
def nfcom_api(nfcom_container: Any, api: Any) -> Any:
    return api


def wait_nfcom(api: Any, nfcom_id: str, *statuses: str, timeout: float = 30.0) -> dict[str, Any]:
    from tests.integrations.helpers import wait_until

    def check() -> Any:
        body = api.get(f"/api/v1/fiscal/nfcom/{nfcom_id}", headers=ADMIN).json()
        return body if body["status"] in statuses else None

    return wait_until(check, timeout=timeout, interval=0.05)
