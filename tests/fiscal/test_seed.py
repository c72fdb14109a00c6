"""The demo tenant's fiscal part: sandbox settings, a note issued when the worker runs, a draft."""

from __future__ import annotations

from pathlib import Path

from projections.fiscal.nfse_list import list_notes
from retaguarda.fiscal.install import DEMO_ISSUER_CNPJ, seed_demo
from retaguarda.shared.documents import normalize_cnpj
from tests.conftest import build_container
from tests.fiscal.conftest import TENANT, add_customer, run_backbone


def test_seed_configures_the_sandbox_and_its_note_is_authorized_once_the_worker_runs(tmp_path: Path):
    c = build_container(tmp_path / "var")
    try:
        add_customer(c)  # the demo's "Provedor Serra Azul Ltda"
        seed_demo(c, TENANT, "system:seed")
        seed_demo(c, TENANT, "system:seed")  # idempotent
        fs = c.fiscal.get_settings(TENANT)
        assert (fs.backend, fs.series, fs.issuer["municipality_ibge"]) == ("sandbox", "900", "3550308")
        assert normalize_cnpj(DEMO_ISSUER_CNPJ) == DEMO_ISSUER_CNPJ  # valid check digits
        run_backbone(c)
        with c.engine.connect() as conn:
            notes = list_notes(conn, TENANT)["items"]
        assert sorted(n["status"] for n in notes) == ["authorized", "draft"]
    finally:
        c.close()
