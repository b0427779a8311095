"""The preview web page: desktop (600px) and mobile (375px) frames, text, MIME source.

`routes(settings, db)` is mounted under /preview by `digest serve` and by
`digest preview --serve`. Every request renders afresh (templates included), and the
page polls `version`, a fingerprint of the template and catalogue files, to reload
itself when an editor saves a template. The email is shown in sandboxed frames with no
script allowed; a small script of the page measures the frames and reports any
element wider than the frame (what the layout test in the suite reads).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from digest import pipeline
from digest.config import Settings
from digest.db import Database
from digest.errors import DigestError, RenderError
from digest.render import locale_dirs, make_environment, template_dirs
from digest.web.slashes import relative_slash_redirects
from subscribers import store
from subscribers.errors import SubscriberError

PAGE_TEMPLATE = "preview.html"
SCRIPT_TEMPLATE = "preview.js"
FRAME_WIDTHS = (600, 375)
#: The parts served on their own: edition.html, edition.txt, edition.eml.
PARTS = ("html", "text", "eml")
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
    "img-src http: https: data:; connect-src 'self'; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
#: The email alone: no script, nothing but its own styles and images.
EMAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data: cid:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def fingerprint(settings: Settings) -> str:
    """Changes whenever a template or catalogue file is added, removed or saved."""
    digest = hashlib.sha256()
    for folder in [*template_dirs(settings), *locale_dirs(settings)]:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]


class PreviewPages:
    """The handlers; each request reads its edition (date, lang) from the query string."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        clock: Callable[[], datetime],
        day: date | None,
        language: str | None,
        subscriber_email: str | None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.day = day
        self.language = language or settings.site.languages[0]
        self.subscriber_email = subscriber_email

    def _edition(self, request: Request) -> tuple[date, str]:
        now = self.clock()
        value = request.query_params.get("date")
        day = pipeline.parse_day(value, self.settings, now) if value else self.day
        language = request.query_params.get("lang") or self.language
        pipeline.check_language(self.settings, language)
        return day or pipeline.parse_day(None, self.settings, now), language

    def _message(self, request: Request) -> tuple[date, pipeline.PreviewMessage]:
        day, language = self._edition(request)
        message = pipeline.preview_message(
            self.db,
            self.settings,
            day,
            language,
            now=self.clock(),
            subscriber_email=self.subscriber_email,
        )
        return day, message

    def page(self, request: Request) -> Response:
        try:
            day, message = self._message(request)
        except (DigestError, SubscriberError) as e:
            status = 500 if isinstance(e, RenderError) else 400
            return self._page(request, status, error=str(e))
        return self._page(request, 200, message=message, day=day)

    def _page(
        self,
        request: Request,
        status: int,
        *,
        message: pipeline.PreviewMessage | None = None,
        day: date | None = None,
        error: str | None = None,
    ) -> Response:
        query = {"date": day.isoformat(), "lang": message.language} if day and message else {}
        suffix = f"?{urlencode(query)}"
        links = {kind: f"{request.url_for('preview-' + kind)}{suffix}" for kind in PARTS}
        languages = [
            (code, f"{request.url_for('preview')}?{urlencode({**query, 'lang': code})}")
            for code in self.settings.site.languages
        ]
        try:
            html = (
                make_environment(self.settings)
                .get_template(PAGE_TEMPLATE)
                .render(
                    site=self.settings.site,
                    message=message,
                    day=day,
                    error=error,
                    query=query,
                    version=fingerprint(self.settings),
                    version_url=str(request.url_for("preview-version")),
                    script_url=str(request.url_for("preview-script")),
                    frame_html=_framed(message.html) if message else "",
                    eml_source=message.eml.decode("utf-8", "replace") if message else "",
                    widths=FRAME_WIDTHS,
                    links=links,
                    languages=languages,
                    subscriber=self.subscriber_email,
                )
            )
        except (jinja2.TemplateError, DigestError) as e:
            return PlainTextResponse(f"preview page: {e}\n", 500, headers=HEADERS)
        headers = self._headers(PAGE_POLICY)
        return Response(html, status, media_type="text/html; charset=utf-8", headers=headers)

    @staticmethod
    def _headers(policy: str) -> dict[str, str]:
        return {**HEADERS, "Content-Security-Policy": policy}

    def _part(self, request: Request, kind: str) -> Response:
        try:
            _day, message = self._message(request)
        except (DigestError, SubscriberError) as e:
            return PlainTextResponse(
                f"{e}\n", 500 if isinstance(e, RenderError) else 400, headers=HEADERS
            )
        if kind == "html":
            return Response(
                message.html,
                media_type="text/html; charset=utf-8",
                headers=self._headers(EMAIL_POLICY),
            )
        if kind == "text":
            return PlainTextResponse(message.text, headers=HEADERS)
        headers = {**HEADERS, "Content-Disposition": 'inline; filename="edition.eml"'}
        return Response(message.eml, media_type="message/rfc822", headers=headers)

    def html(self, request: Request) -> Response:
        return self._part(request, "html")

    def text(self, request: Request) -> Response:
        return self._part(request, "text")

    def eml(self, request: Request) -> Response:
        return self._part(request, "eml")

    def version(self, request: Request) -> Response:
        try:
            return PlainTextResponse(fingerprint(self.settings), headers=HEADERS)
        except DigestError:  # the templates folder is gone: report a change, not an error
            return PlainTextResponse("unavailable", headers=HEADERS)

    def script(self, request: Request) -> Response:
        try:
            source = make_environment(self.settings).get_template(SCRIPT_TEMPLATE).render()
        except (jinja2.TemplateError, DigestError) as e:
            return PlainTextResponse(f"{SCRIPT_TEMPLATE}: {e}\n", 500, headers=HEADERS)
        return Response(source, media_type="text/javascript; charset=utf-8", headers=HEADERS)


def _framed(html: str) -> str:
    """The email for a frame of the page: its links open outside the preview."""
    marker = "<head>"
    index = html.find(marker)
    if index < 0:
        return html
    index += len(marker)
    return html[:index] + '<base target="_blank">' + html[index:]


def routes(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = pipeline.utc_now,
    day: date | None = None,
    language: str | None = None,
    subscriber_email: str | None = None,
) -> list[BaseRoute]:
    """The preview routes, to mount under /preview. Query: ?date=YYYY-MM-DD&lang=xx.

    `subscriber_email` personalises for one subscriber (for `digest preview --serve` on
    loopback only; a public server should show the sample reader)."""
    pages = PreviewPages(
        settings, db, clock=clock, day=day, language=language, subscriber_email=subscriber_email
    )
    return [
        Route("/", pages.page, name="preview"),
        Route("/edition.html", pages.html, name="preview-html"),
        Route("/edition.txt", pages.text, name="preview-text"),
        Route("/edition.eml", pages.eml, name="preview-eml"),
        Route("/version", pages.version, name="preview-version"),
        Route("/preview.js", pages.script, name="preview-script"),
    ]


def application(settings: Settings, db: Database, **options: Any) -> Starlette:
    """A server with only the preview: / redirects to /preview/."""

    def home(request: Request) -> Response:
        return RedirectResponse(  # relative: never built from the Host header
            request.url_for("preview").path + (f"?{request.url.query}" if request.url.query else "")
        )

    preview = relative_slash_redirects(Router(routes(settings, db, **options)))
    app = Starlette(routes=[Route("/", home), Mount("/preview", app=preview)])
    relative_slash_redirects(app.router)
    return app


#: The names the preview server answers to (it listens on 127.0.0.1 only).
_LOOPBACK = ["127.0.0.1", "localhost"]


def serve(
    settings: Settings,
    db: Database,
    *,
    port: int,
    on_ready: Callable[[str], None] | None = None,
    **options: Any,
) -> None:
    """Serve the preview on 127.0.0.1 until interrupted (Ctrl+C)."""
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    from digest.web.server import WebServer, bind

    if options.get("subscriber_email"):
        with db.session() as session:  # an unknown address is an error now, not per page
            store.get(session, options["subscriber_email"])
    # Loopback names only: a page elsewhere whose name an attacker points at 127.0.0.1
    # (DNS rebinding) could otherwise read the preview, a subscriber's own links
    # included (a breaker pass).
    app = application(settings, db, **options)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=_LOOPBACK)
    server = WebServer(app, bind("127.0.0.1", port))
    if on_ready is not None:
        on_ready(f"{server.url}/preview/")
    server.run()


__all__ = ["application", "fingerprint", "routes", "serve"]
