"""The archive under /archive/ of `digest serve`: index, one page per edition, Atom feed.

Pages are the same files `digest archive build` writes (see `digest.archive`); each
request reads the database afresh, so a newly sent edition appears at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from digest import archive
from digest.config import Settings
from digest.db import Database
from digest.selection.window import FIRST_EDITION_DAY, LAST_EDITION_DAY

HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
#: Archive pages are emails: no script runs, only their own styles and images load.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class ArchivePages:
    def __init__(self, settings: Settings, db: Database, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock

    def _html(self, body: str) -> Response:
        headers = {**HEADERS, "Content-Security-Policy": PAGE_POLICY}
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)

    def index(self, request: Request) -> Response:
        with self.db.session() as session:
            return self._html(archive.index_page(session, self.settings))

    def feed(self, request: Request) -> Response:
        with self.db.session() as session:
            body = archive.feed(session, self.settings, self.clock())
        return Response(body, media_type="application/atom+xml; charset=utf-8", headers=HEADERS)

    def edition(self, request: Request) -> Response:
        try:
            day = date.fromisoformat(request.path_params["day"])
        except ValueError:
            return PlainTextResponse("not found\n", 404, headers=HEADERS)
        if not FIRST_EDITION_DAY <= day <= LAST_EDITION_DAY:
            return PlainTextResponse("not found\n", 404, headers=HEADERS)
        language = request.path_params["language"]
        try:
            with self.db.session() as session:
                page = archive.edition_page(session, self.settings, day, language)
        except archive.ArchiveError as e:
            return PlainTextResponse(f"{e}\n", 404, headers=HEADERS)
        return self._html(page)

    def to_slash(self, request: Request) -> Response:
        return RedirectResponse(f"{request.url.path}/", 308)


def routes(settings: Settings, db: Database, *, clock: Callable[[], datetime]) -> list[BaseRoute]:
    """/archive/, /archive/feed.xml, /archive/DATE/LANG/ (and without the slash)."""
    pages = ArchivePages(settings, db, clock)
    return [
        Route("/archive", pages.to_slash),
        Route("/archive/", pages.index, name="archive"),
        Route("/archive/feed.xml", pages.feed, name="archive-feed"),
        Route("/archive/{day}/{language}/", pages.edition, name="archive-edition"),
        Route("/archive/{day}/{language}", pages.to_slash),
    ]
