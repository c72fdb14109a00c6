"""The wiring rules of ARCHITECTURE.md ("Contexts and the container"), checked on the code.

Every context in `retaguarda.contexts.CONTEXTS` has the files its `Context` names; nothing is
registered in module-global registries; the container is typed; handlers do not repeat the
read-your-writes wait.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from retaguarda.bootstrap import Container
from retaguarda.contexts import BUSINESS, CONTEXTS, SPINE
from retaguarda.plugin import Context, Registry

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

CONTEXT_MODULE = {"web": "retaguarda.web.shell_context"}
"""Where a context's CONTEXT lives when not in `<package>/context.py` (web/context.py holds the
per-request helpers)."""


def _file(module: str) -> Path:
    return SRC.joinpath(*module.split(".")).with_suffix(".py")


def _defined_in(fn: object) -> str:
    inner = getattr(fn, "fn", fn)  # a JobSpec names its function
    return str(getattr(inner, "__module__", ""))


@pytest.mark.parametrize("ctx", CONTEXTS, ids=lambda c: c.name)
def test_each_context_exports_its_context_from_context_py(ctx: Context) -> None:
    module = CONTEXT_MODULE.get(ctx.name, f"{ctx.module}.context")
    assert _file(module).is_file(), module
    assert importlib.import_module(module).CONTEXT is ctx


@pytest.mark.parametrize("ctx", CONTEXTS, ids=lambda c: c.name)
def test_each_context_has_the_files_its_context_names(ctx: Context) -> None:
    package = ctx.module
    if ctx.install is not None:
        assert _file(f"{package}.install").is_file()
        assert ctx.install.__module__ == f"{package}.install"
    if ctx.seed_demo is not None:
        assert _defined_in(ctx.seed_demo) == f"{package}.install"
    if ctx.name in CONTEXT_MODULE:
        return  # the web shell: ops.py and shell.py, no domain
    if ctx.routes:
        assert _file(f"{package}.api").is_file()
        # Routes live in the context's api/pages modules, or in those of one of its own subpackages
        # (e.g. fiscal.nfcom.api, customers.cep.api, notifications.inbox_api).
        for module in {_defined_in(getattr(r, "fn", r)) for r in ctx.routes}:
            assert module.startswith(f"{package}.") and module.rsplit(".", 1)[-1].endswith(("api", "pages")), module
    if ctx.pages:
        assert _file(f"{package}.pages").is_file()
    if ctx.dashboard is not None:
        assert _defined_in(ctx.dashboard) == f"{package}.dashboard"
    if ctx in BUSINESS:
        for part in ("domain", "application", "api", "pages", "actors", "install", "context"):
            assert _file(f"{package}.{part}").is_file(), f"{package}.{part}"
        # Jobs live in the context's actors module (or in a module of one of its own subpackages).
        modules = {_defined_in(j) for j in ctx.jobs}
        assert f"{package}.actors" in modules and all(m.startswith(f"{package}.") for m in modules), modules
        assert (ROOT / "projections" / ctx.name / "__init__.py").is_file()
        assert ctx.projections(), "a business context has read models"


def test_the_tuple_lists_the_spine_first_and_every_name_once() -> None:
    names = [c.name for c in CONTEXTS]
    assert len(names) == len(set(names))
    assert [c.name for c in SPINE] == ["customers", "identity", "audit", "notifications", "integrations", "web"]
    assert CONTEXTS[:len(SPINE)] == SPINE


def test_every_projection_and_table_of_a_context_is_on_the_one_metadata() -> None:
    from projections.base import metadata
    from projections.registry import all_projections

    names = [p.name for p in all_projections()]
    assert len(names) == len(set(names))
    for ctx in CONTEXTS:
        for table in ctx.tables:
            assert metadata.tables[table.name] is table


def test_registries_are_built_per_container_from_declarations() -> None:
    registry = Registry.of(CONTEXTS)
    # Every trigger and periodic job names a declared job (Registry.of raises otherwise)
    assert {t.actor_name for ts in registry.triggers.values() for t in ts} <= set(registry.jobs)
    assert "notifications.send_email" in registry.jobs and "plain" in registry.templates
    # … and no module keeps a global registry filled by import side effects
    for module, name in (("retaguarda.integrations.jobs", "JOBS"), ("retaguarda.integrations.dispatcher", "TRIGGERS"),
                         ("retaguarda.integrations.scheduler", "PERIODIC"),
                         ("retaguarda.integrations.reconciler", "RECONCILERS"),
                         ("retaguarda.notifications.templates", "TEMPLATES")):
        assert not hasattr(importlib.import_module(module), name), f"{module}.{name}"
    with pytest.raises(ImportError):
        importlib.import_module("retaguarda.integrations.runtime")


def test_a_name_declared_twice_is_a_wiring_error() -> None:
    from retaguarda.integrations import job

    @job(actor_name="x.same", queue_name="x", max_retries=0)
    def one(container: Container) -> None: ...

    with pytest.raises(ValueError, match="declared twice"):
        Registry.of([Context(name="a", jobs=(one,)), Context(name="b", jobs=(one,))])


def test_the_container_is_typed_and_no_signature_takes_container_any() -> None:
    fields = Container.__dataclass_fields__
    for name in ("customers", "identity", "notifications", "mailer", "broker", "dispatcher", "scheduler",
                 "support", "fiscal", "cnpj", "cnpj_checks", "billing", "campaigns"):
        assert name in fields and fields[name].type not in ("Any", "typing.Any"), name
    assert not hasattr(Container, "__getattr__")
    offenders = [f"{p}:{n}" for base in (SRC, ROOT / "projections") for p in base.rglob("*.py")
                 for n, line in enumerate(p.read_text().splitlines(), 1) if "container: Any" in line]
    assert offenders == []


def test_handlers_do_not_repeat_the_read_your_writes_wait() -> None:
    calls = [f"{p}:{n}" for p in SRC.rglob("*.py") if p.name in ("api.py", "pages.py")
             for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\bsettle\(", line)]
    assert calls == []
