"""`digest serve`: the web endpoints on Starlette + uvicorn.

`create_app` composes the routes: one-click unsubscribe, sign-up with double opt-in
(/subscribe, /api/subscribe, /confirm/{token}), preferences (/p/{token}), the archive
(/archive/), the preview under /preview, and any `extra_routes` a caller adds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Router

from digest import pipeline
from digest.config import Settings
from digest.db import Database
from digest.web import unsubscribe
from digest.web.server import ServeError, WebServer, bind
from digest.web.slashes import relative_slash_redirects

__all__ = ["ServeError", "WebServer", "create_app", "open_server"]


def create_app(
    settings: Settings,
    db: Database,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    clock: Callable[[], datetime] = pipeline.utc_now,
) -> Starlette:
    """The web application (see the module docstring). Raises ConfigError or RenderError
    for a bad setting or catalogue, before anything is served."""
    from digest.web import archive, hooks, preview, selfservice
    from digest.web.pages import PageRenderer

    renderer = PageRenderer(settings)
    preview_router = relative_slash_redirects(Router(preview.routes(settings, db, clock=clock)))
    app = Starlette(
        routes=[
            *unsubscribe.routes(settings, db, clock=clock, renderer=renderer),
            *selfservice.routes(settings, db, clock=clock, renderer=renderer),
            *archive.routes(settings, db, clock=clock),
            Mount("/preview", app=preview_router),
            *hooks.routes(settings, db, clock=clock),
            *extra_routes,
        ]
    )
    relative_slash_redirects(app.router)
    return app


def open_server(
    settings: Settings,
    db: Database,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    verbose: bool = False,
    extra_routes: Sequence[BaseRoute] = (),
) -> WebServer:
    """The application on a bound socket, ready to `run()` (errors surface before that)."""
    app = create_app(settings, db, extra_routes=extra_routes)
    return WebServer(app, bind(host, port), verbose=verbose)
