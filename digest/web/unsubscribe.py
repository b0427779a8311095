"""One-click unsubscribe (RFC 8058) at /u/{token}.

GET shows a localised confirm page whose button posts; it never unsubscribes by itself,
because link scanners and mail previews follow GETs. POST with the body
`List-Unsubscribe=One-Click` (form-urlencoded or multipart, no cookies needed, which is
what mail clients send) unsubscribes and answers 200; doing it again is harmless. Any
forged, truncated, tampered or foreign token gets the same 400 page, which reveals
nothing about the token or the list. No page sets a cookie, runs a script or loads
anything from elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from digest import pipeline
from digest.config import Settings
from digest.db import Database
from digest.web.pages import PageRenderer, mask
from subscribers import store
from subscribers.models import Status
from subscribers.status import SUPPRESSED
from subscribers.tokens import InvalidToken

PATH = "/u/{token}"
TEMPLATE = "unsubscribe.html"
#: A one-click body is 26 bytes; anything much larger is not one.
MAX_BODY = 8192

TITLES = {"confirm": "confirm_title", "bad_request": "confirm_title", "invalid": "invalid_title"}


@dataclass(frozen=True)
class Lookup:
    """What a token led to: page state, the subscriber's language and masked address."""

    state: str  # confirm | done | already | gone
    language: str | None = None
    email: str = ""


class UnsubscribePages:
    """The handlers; the database work runs in a worker thread, never on the event loop."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime],
        renderer: PageRenderer | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.secret_key = settings.secret_key()  # fails at start-up when there is none
        self.list_id = pipeline.list_id(settings, db)
        self.renderer = renderer or PageRenderer(settings)
        self.public_url = settings.public_url

    async def endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method != "POST":
            try:
                found = await run_in_threadpool(self._look_up, token)
            except InvalidToken:
                return self._page(request, "invalid", status=400)
            return self._page(request, found.state, found, token)
        if not is_one_click(await _read_body(request), request.headers.get("content-type", "")):
            return self._page(request, "bad_request", status=400)
        try:
            found = await run_in_threadpool(self._unsubscribe, token)
        except InvalidToken:
            return self._page(request, "invalid", status=400)
        return self._page(request, found.state, found, token)

    def _look_up(self, token: str) -> Lookup:
        with self.db.session() as session:
            subscriber = store.find_by_token(session, self.secret_key, token, self.list_id)
            if subscriber is None:
                return Lookup("gone")
            state = "already" if subscriber.status in SUPPRESSED else "confirm"
            return Lookup(state, subscriber.language, mask(subscriber.email))

    def _unsubscribe(self, token: str) -> Lookup:
        with self.db.session() as session:
            subscriber = store.find_by_token(session, self.secret_key, token, self.list_id)
            if subscriber is None:
                return Lookup("gone")
            store.mark(session, subscriber, Status.UNSUBSCRIBED, self.clock())
            return Lookup("done", subscriber.language, mask(subscriber.email))

    def _page(
        self,
        request: Request,
        state: str,
        found: Lookup | None = None,
        token: str = "",
        status: int = 200,
    ) -> Response:
        """The page for a state; once unsubscribed, it links to the preferences page,
        where an unsubscribe by mistake is undone."""
        found = found or Lookup(state)
        words = self.renderer.language(found.language, request.headers.get("accept-language", ""))
        fields = {"site": self.renderer.site_name(words), "email": found.email}
        return self.renderer.render(
            TEMPLATE,
            words,
            title=TITLES.get(state, "done_title"),
            status=status,
            heading=words.say(f"{state}_heading", **fields),
            text=words.say(f"{state}_text", **fields),
            show_button=state == "confirm",
            preferences_url=(
                f"{self.public_url}/p/{token}" if token and state in ("done", "already") else ""
            ),
            # RFC 8058 posts carry no Origin check here: nothing needs a referrer.
            headers={"Referrer-Policy": "no-referrer"},
        )


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than any one-click body could be."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return body


def is_one_click(body: bytes | None, content_type: str) -> bool:
    """True if the body carries List-Unsubscribe=One-Click (RFC 8058 section 3.1)."""
    if body is None:
        return False
    kind = content_type.split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        values = _multipart_values(body, content_type, "List-Unsubscribe")
    elif kind in ("", "application/x-www-form-urlencoded", "text/plain"):
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        values = fields.get("List-Unsubscribe", [])
    else:
        return False
    return any(value.strip().lower() == "one-click" for value in values)


def _multipart_values(body: bytes, content_type: str, name: str) -> list[str]:
    try:
        header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    except UnicodeEncodeError:
        return []
    message = BytesParser(policy=policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        return []
    values = []
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == name:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                values.append(payload.decode("utf-8", "replace"))
    return values


def unsubscribe_paths(settings: Settings) -> list[str]:
    """/u/{token}, and the path of the configured unsubscribe URL when that differs."""
    paths = [PATH]
    configured = urlsplit(settings.mail.unsubscribe_url).path
    if configured.endswith("/{token}") and configured.count("{token}") == 1 and configured != PATH:
        paths.append(configured)
    return paths


def routes(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] = pipeline.utc_now,
    renderer: PageRenderer | None = None,
) -> list[BaseRoute]:
    pages = UnsubscribePages(settings, db, clock, renderer)
    return [
        Route(path, pages.endpoint, methods=["GET", "POST"], name=f"unsubscribe-{index}")
        for index, path in enumerate(unsubscribe_paths(settings))
    ]
