"""The architecture rules are enforced by import-linter; this runs it and checks the contracts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONTRACTS = {c["id"]: c for c in CONFIG["tool"]["importlinter"]["contracts"]}
BUSINESS = ("support", "fiscal", "cnpj", "billing", "campaigns")
SPINE = ("identity", "customers", "notifications", "audit")


def test_the_five_contracts_of_the_architecture_are_configured() -> None:
    assert {"domain-purity", "layers", "contexts-independent", "projections-events-only",
            "ports-no-adapters"} <= set(CONTRACTS)
    purity = CONTRACTS["domain-purity"]
    assert purity["source_modules"] == ["retaguarda.*.domain"]
    for forbidden in ("sqlalchemy", "httpx", "litestar", "playwright", "projections", "retaguarda.settings",
                      "retaguarda.*.application", "retaguarda.*.api", "retaguarda.*.pages"):
        assert forbidden in purity["forbidden_modules"]
    assert CONTRACTS["layers"]["layers"] == ["(api) | (pages)", "(application)", "(domain)"]
    independent = CONTRACTS["contexts-independent"]
    for ctx in BUSINESS:
        assert f"retaguarda.{ctx}" in independent["source_modules"]
        assert f"retaguarda.{ctx}" in CONTRACTS["layers"]["containers"]
    for ctx in (*BUSINESS, *SPINE):
        assert f"retaguarda.{ctx}.*" in independent["forbidden_modules"]  # internals, not the package
    assert "projections" in CONTRACTS["projections-events-only"]["source_modules"]
    assert "retaguarda.fiscal.backends.base" in CONTRACTS["ports-no-adapters"]["source_modules"]


def test_every_context_package_is_under_the_layer_rules() -> None:
    src = ROOT / "src" / "retaguarda"
    contexts = {p.name for p in src.iterdir() if (p / "domain.py").exists() or (p / "domain" / "__init__.py").exists()}
    containers = {c.removeprefix("retaguarda.") for c in CONTRACTS["layers"]["containers"]}
    assert contexts <= containers, sorted(contexts - containers)
    # and every business context (not the spine) is kept independent of the others
    sources = {c.removeprefix("retaguarda.") for c in CONTRACTS["contexts-independent"]["source_modules"]}
    assert contexts - set(SPINE) <= sources, sorted(contexts - set(SPINE) - sources)


def test_lint_imports_keeps_every_contract() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
