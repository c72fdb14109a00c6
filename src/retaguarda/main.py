"""Litestar app factory: mounts each context's API and pages over one container."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from retaguarda.i18n.web import locale_middleware
from retaguarda.web.context import authorize
from retaguarda.web.errors import EXCEPTION_HANDLERS
from retaguarda.web.middleware import request_context_middleware
from retaguarda.web.ops import metrics_middleware

WEB_DIR = Path(__file__).parent / "web"

# Each module exposes `routes: list` (API handlers/routers, mounted under /api/v1) or
# `pages: list` (HTML handlers, mounted at /). Missing modules are skipped.
ROUTE_MODULES = (
    "retaguarda.web.shell",
    "retaguarda.web.settings",
    "retaguarda.web.ops",
    "retaguarda.identity.api",
    "retaguarda.identity.pages",
    "retaguarda.customers.api",
    "retaguarda.customers.pages",
    "retaguarda.audit.api",
    "retaguarda.audit.pages",
    "retaguarda.notifications.pages",
    "retaguarda.integrations.pages",
)


def _load_routes() -> tuple[list[Any], list[Any]]:
    api: list[Any] = []
    pages: list[Any] = []
    from retaguarda.contexts import context_modules

    modules = []
    for name in ROUTE_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
    modules += context_modules("api") + context_modules("pages")
    for module in modules:
        api.extend(getattr(module, "routes", []))
        pages.extend(getattr(module, "pages", []))
    return api, pages


def create_app(container: Any) -> Litestar:
    settings = container.settings
    api_routes, page_routes = _load_routes()
    static = create_static_files_router(path="/static", directories=[WEB_DIR / "static"],
                                        opt={"public": True}, include_in_schema=False)
    template_engine = JinjaTemplateEngine(directory=WEB_DIR / "templates")
    from retaguarda.i18n import install_jinja

    install_jinja(template_engine.engine)
    for name, fn in container.extras.get("template_globals", {}).items():
        template_engine.engine.globals[name] = fn
    app = Litestar(
        # Pages go through a Router too: registering sync handlers that share a path directly on
        # the app makes Litestar 2.25 wrap the first one in sync_to_thread twice.
        route_handlers=[Router("/api/v1", route_handlers=api_routes), Router("/", route_handlers=page_routes),
                        static],
        middleware=[request_context_middleware, locale_middleware, metrics_middleware],
        guards=[authorize],
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(instance=template_engine),
        openapi_config=OpenAPIConfig(title="Retaguarda API", version="1.0.0", path="/schema"),
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=True)
        if settings.cors_origins else None,
        csrf_config=CSRFConfig(
            secret=settings.secret_key, cookie_name="rg_csrf", cookie_samesite="strict",
            header_name="x-csrftoken",
            exclude=["/api/", "/health", "/metrics", "/schema", "/static"],
        ),
        request_max_body_size=settings.max_body_bytes,
        plugins=list(container.extras.get("web_plugins", [])),
        on_startup=list(container.extras.get("on_startup", [])),
        on_shutdown=list(container.extras.get("on_shutdown", [])),
        logging_config=None,  # retaguarda.logging.configure_logging owns the handlers
        debug=False,
    )
    app.state.container = container
    return app
