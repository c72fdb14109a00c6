"""Litestar app factory: mounts each context's API and pages (`contexts.CONTEXTS`) over one container."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from retaguarda.consistency import read_your_writes_middleware
from retaguarda.i18n.web import locale_middleware
from retaguarda.web.context import authorize
from retaguarda.web.contract import ContractRouter, declare_problem_responses
from retaguarda.web.errors import EXCEPTION_HANDLERS
from retaguarda.web.middleware import request_context_middleware
from retaguarda.web.ops import metrics_middleware

if TYPE_CHECKING:
    from retaguarda.bootstrap import Container

WEB_DIR = Path(__file__).parent / "web"


def _load_routes() -> tuple[list[Any], list[Any]]:
    """Every context's `routes` (mounted under /api/v1) and `pages` (mounted at /)."""
    from retaguarda.contexts import CONTEXTS

    api = [route for ctx in CONTEXTS for route in ctx.routes]
    pages = [page for ctx in CONTEXTS for page in ctx.pages]
    return api, pages


def create_app(container: Container) -> Litestar:
    settings = container.settings
    api_routes, page_routes = _load_routes()
    static = create_static_files_router(path="/static", directories=[WEB_DIR / "static"],
                                        opt={"public": True}, include_in_schema=False)
    template_engine = JinjaTemplateEngine(directory=WEB_DIR / "templates")
    from retaguarda.i18n import install_jinja

    install_jinja(template_engine.engine)
    for name, fn in container.template_globals.items():
        template_engine.engine.globals[name] = fn
    app = Litestar(
        # Pages go through a Router too: registering sync handlers that share a path directly on
        # the app makes Litestar 2.25 wrap the first one in sync_to_thread twice.
        route_handlers=[ContractRouter("/api/v1", route_handlers=api_routes),
                        ContractRouter("/", route_handlers=page_routes),
                        static],
        # Read-your-writes wraps everything: the response starts once the request's writes are
        # in the read models (see retaguarda.consistency), whatever the handler.
        middleware=[read_your_writes_middleware, request_context_middleware, locale_middleware,
                    metrics_middleware],
        # Handlers may take `container: Container` (typed) instead of reaching app.state.
        dependencies={"container": Provide(lambda: container, use_cache=True, sync_to_thread=False)},
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
        plugins=list(container.web_plugins),
        on_startup=list(container.on_startup),
        on_shutdown=list(container.on_shutdown),
        logging_config=None,  # retaguarda.logging.configure_logging owns the handlers
        debug=False,
    )
    # Every API operation declares its problem-details answers (401/403/404/409/422/429…).
    declare_problem_responses(app)
    app.state.container = container
    return app
