"""The routes of the readers' self-service: sign-up, confirmation, preferences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digest import pipeline
from digest.config import Settings
from digest.db import Database
from digest.web.confirm import ConfirmPages
from digest.web.pages import PageRenderer
from digest.web.preferences import PreferencePages
from digest.web.service import SelfService
from digest.web.signup import SignupPages


def _wants_json(media_types: str) -> bool:
    return "application/json" in media_types.lower()


def routes(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = pipeline.utc_now,
    renderer: PageRenderer | None = None,
) -> list[BaseRoute]:
    service = SelfService.create(settings, db, clock, renderer or PageRenderer(settings))
    signup = SignupPages(service)
    confirm = ConfirmPages(service)
    preferences = PreferencePages(service)

    async def subscribe(request: Request) -> Response:
        """The form; a JSON body (or a client that accepts only JSON) gets the API."""
        if request.method == "POST":
            if _wants_json(request.headers.get("content-type", "")):
                return await signup.api_submit(request)
            return await signup.submit(request)
        accept = request.headers.get("accept", "")
        if _wants_json(accept) and "text/html" not in accept:
            return await signup.api_form(request)
        return await signup.form(request)

    async def api(request: Request) -> Response:
        if request.method == "POST":
            return await signup.api_submit(request)
        return await signup.api_form(request)

    both = ["GET", "POST"]
    return [
        Route("/subscribe", subscribe, methods=both, name="subscribe"),
        Route("/api/subscribe", api, methods=both, name="api-subscribe"),
        Route("/confirm/{token}", confirm.endpoint, methods=both, name="confirm"),
        Route("/p/{token}", preferences.endpoint, methods=both, name="preferences"),
    ]
