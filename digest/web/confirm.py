"""/confirm/{token}: GET shows a button, only POST makes the reader active.

Link scanners and mail previews follow GETs, so a GET never confirms. The token is read
first on both: forged, expired, used (confirming clears the sign-up's nonce) or replaced
tokens all get the same 400 page, whatever else the request carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from digest.web.forms import read_form
from digest.web.guard import FIELD
from digest.web.pages import mask
from digest.web.service import SelfService
from subscribers import optin
from subscribers.tokens import ConfirmClaim, InvalidToken, read_confirm_token


@dataclass(frozen=True)
class Waiting:
    language: str
    email: str


class ConfirmPages:
    def __init__(self, service: SelfService) -> None:
        self.service = service
        self.secret_key = service.settings.secret_key()

    def _claim(self, token: str) -> ConfirmClaim:
        service = self.service
        return read_confirm_token(
            self.secret_key,
            token,
            service.mailer.list_id,
            max_age=service.mailer.max_age,
            now=service.clock(),
        )

    def _waiting(self, claim: ConfirmClaim) -> Waiting:
        with self.service.db.session() as session:
            subscriber = optin.waiting(session, self.secret_key, claim)
            return Waiting(subscriber.language, mask(subscriber.email))

    def _confirm(self, claim: ConfirmClaim) -> Waiting:
        with self.service.db.session() as session:
            subscriber = optin.confirm(session, self.secret_key, claim, self.service.clock())
            return Waiting(subscriber.language, mask(subscriber.email))

    def _invalid(self, request: Request) -> Response:
        words = self.service.renderer.language(None, request.headers.get("accept-language", ""))
        return self.service.message(words, "invalid", status=400)

    async def endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        service = self.service
        try:
            claim = self._claim(token)
            found = await run_in_threadpool(self._waiting, claim)
        except InvalidToken:
            return self._invalid(request)
        words = service.renderer.language(found.language, "")
        if request.method == "POST":
            posted = await read_form(request)
            if (
                posted.problem
                or not service.origin.allowed(request)
                or not service.csrf.valid(posted.get(FIELD), request.url.path)
            ):
                return service.forbidden(request, words)
            try:
                found = await run_in_threadpool(self._confirm, claim)
            except InvalidToken:  # used by a concurrent request meanwhile
                return self._invalid(request)
            site = service.renderer.site_name(words)
            return service.message(words, "optin_done", site=site, email=found.email)
        return service.renderer.render(
            "confirm.html",
            words,
            title="optin_title",
            heading=words.say("optin_heading", site=service.renderer.site_name(words)),
            text=words.say("optin_text", email=found.email),
            csrf_token=service.csrf.issue(request.url.path),
        )
