"""Dependency rules of ARCHITECTURE.md, checked on the source text."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "retaguarda"
STDLIB = set(sys.stdlib_module_names)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


IMPURE_SIBLINGS = ("application", "api", "pages", "actors", "install", "schemas", "authn", "tokens")


def _pure_sibling(module: str, context: str) -> bool:
    """A domain may use pure helpers of its own context (e.g. identity.permissions)."""
    prefix = f"retaguarda.{context}."
    return module.startswith(prefix) and module[len(prefix):].split(".")[0] not in IMPURE_SIBLINGS


def test_domain_modules_are_pure():
    offenders = {}
    # A domain is a module (`domain.py`) or, past ~400 lines, a package split by aggregate.
    for path in [*SRC.glob("*/domain.py"), *SRC.glob("*/domain/*.py")]:
        context = path.parent.name if path.name == "domain.py" else path.parent.parent.name
        bad = sorted(
            m for m in _imports(path)
            if m.split(".")[0] not in STDLIB - {"os", "socket", "sqlite3", "subprocess"}
            and not m.startswith(("eventsourcing.domain", "retaguarda.shared"))
            and not _pure_sibling(m, context)
        )
        if bad or {"os", "socket", "sqlite3"} & _imports(path):
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_only_bootstrap_and_installers_pick_concrete_adapters():
    # Vendor adapters live in integration folders; API and page modules never import them.
    for path in SRC.glob("*/api.py"):
        for module in _imports(path):
            # Below `retaguarda.<context>.` (the `portal` context itself is not an adapter folder).
            parts = module.split(".")
            inner = ".".join(parts[2:]) if parts[0] == "retaguarda" else module
            assert not re.search(r"(^|\.)(mailers|gateways|issuers|providers|portal)\.", inner + "."), (path, module)


def test_architecture_md_names_every_context_folder():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    contexts = sorted(p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()
                      and p.name not in ("web", "shared"))
    missing = [c for c in contexts if f"`{c}`" not in text]
    assert missing == []


def test_every_projection_module_named_in_architecture_md_exists():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for ref in re.findall(r"`(projections/[\w/]+\.py)`", text):
        assert (ROOT / ref).exists(), ref
