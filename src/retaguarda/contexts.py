"""The business contexts plugged into the spine, and the one way to find their parts.

Each context `<name>` may provide, all optional:

- `retaguarda.<name>.install`: `install(container)` registers services/ports/actors/jobs;
  `seed_demo(container, tenant_id, actor)` adds its part of the demo tenant (idempotent).
- `retaguarda.<name>.api` (`routes`, mounted under /api/v1) and `retaguarda.<name>.pages` (`pages`).
- `retaguarda.<name>.dashboard`: `cards(conn, principal) -> list[dict]` for the home page
  (each dict: `title`, `value`, optional `href`, `tone` = ok|warn|bad, `testid`).
- `retaguarda.<name>.tables`: read-side tables that are not projections (Alembic sees them).
- `projections.<name>`: `projections() -> list[Projection]`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

CONTEXTS: tuple[str, ...] = ("support", "fiscal", "cnpj", "billing", "campaigns", "cash")


def optional_module(name: str) -> ModuleType | None:
    """Imports `name`, or None when that module (not something it imports) does not exist."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def context_modules(part: str, package: str = "retaguarda") -> list[ModuleType]:
    """`part` of every context that has one, e.g. context_modules("api")."""
    found = []
    for ctx in CONTEXTS:
        module = optional_module(f"{package}.{ctx}.{part}" if part else f"{package}.{ctx}")
        if module is not None:
            found.append(module)
    return found
