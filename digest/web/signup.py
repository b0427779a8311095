"""Sign-up with double opt-in: /subscribe (form) and /api/subscribe (JSON).

Every POST passes, in order: the rate limit per client address (429), the Origin
check and the CSRF token (403), the honeypot (a robot gets the success answer and
nothing else happens), the fields (400 naming the field). A valid sign-up always gets
the same answer, whatever the address's state; the email goes out after the response,
so the timing tells nothing either, and an address past its own rate limit just gets
no further email.
"""

from __future__ import annotations

import logging

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from digest import pipeline
from digest.web.forms import Posted, client_address, read_form, read_json
from digest.web.guard import FIELD, HEADER
from digest.web.pages import HEADERS, PageWords, mask
from digest.web.service import SelfService
from subscribers import optin
from subscribers.errors import InvalidSubscriber, SubscriberError
from subscribers.optin import Signup
from subscribers.store import SubscriberFields

log = logging.getLogger("digest.web")

HONEYPOT = "website"
#: What the sign-up form's CSRF tokens are bound to (the form and the API share them).
SCOPE = "/subscribe"


class SignupPages:
    def __init__(self, service: SelfService) -> None:
        self.service = service
        self.renderer = service.renderer

    def _words(self, request: Request, asked: str | None = None) -> PageWords:
        return self.renderer.language(asked, request.headers.get("accept-language", ""))

    async def form(self, request: Request) -> Response:
        words = self._words(request, request.query_params.get("lang"))
        return await self._form(request, words)

    async def _form(
        self,
        request: Request,
        words: PageWords,
        *,
        posted: Posted | None = None,
        error: str = "",
        status: int = 200,
    ) -> Response:
        service = self.service
        sections = await run_in_threadpool(service.sections)
        posted = posted or Posted({"language": [words.language]})
        return self.renderer.render(
            "subscribe.html",
            words,
            title="subscribe_title",
            status=status,
            heading=words.say("subscribe_heading", site=self.renderer.site_name(words)),
            csrf_token=service.csrf.issue(SCOPE),
            honeypot=HONEYPOT,
            languages=service.language_names(words),
            sections=[(name, words.section(name)) for name in sections],
            posted=posted,
            error=words.say(error) if error else "",
        )

    async def submit(self, request: Request) -> Response:
        service = self.service
        words = self._words(request)
        if not service.limits.client_allowed(client_address(request)):
            return service.message(words, "too_many", status=429)
        posted = await read_form(request)
        words = self._words(request, posted.get("language") or None)
        if posted.problem:
            key = "error_email" if posted.field == "email" else "error_form"
            return await self._form(request, words, error=key, status=400)
        if not service.origin.allowed(request) or not service.csrf.valid(posted.get(FIELD), SCOPE):
            return service.forbidden(request, words)
        if posted.get(HONEYPOT):
            return self._sent(words)
        try:
            background = await self._sign_up(posted)
        except InvalidSubscriber as e:
            key = "error_email" if e.field == "email" else "error_form"
            return await self._form(request, words, posted=posted, error=key, status=400)
        except SubscriberError:
            background = None  # the same address, signed up at the same moment: one wins
        return self._sent(words, background)

    def _sent(self, words: PageWords, background: BackgroundTask | None = None) -> Response:
        response = self.service.message(
            words, "subscribe_sent", hours=str(self.service.mailer.hours)
        )
        response.background = background
        return response

    async def _sign_up(self, posted: Posted) -> BackgroundTask | None:
        """Store the sign-up; the email is sent by a task that runs after the response."""
        service = self.service
        fields = SubscriberFields(
            email=posted.get("email"),
            name=posted.get("name") or None,
            language=posted.get("language") or None,
            sections=posted.items("sections"),
            timezone=posted.get("timezone") or None,
        )
        signup = await run_in_threadpool(self._record, fields)
        if not service.limits.address_allowed(signup.email):
            log.info("sign-up for %s: address rate limit reached, no email", mask(signup.email))
            return None
        return BackgroundTask(service.deliver, signup)

    def _record(self, fields: SubscriberFields) -> Signup:
        service = self.service
        with service.db.session() as session:
            sections = pipeline.known_sections(session) or None
            return optin.request(
                session,
                fields,
                languages=service.settings.site.languages,
                now=service.clock(),
                sections=sections,
            )

    # --- JSON API ------------------------------------------------------------------

    async def api_form(self, request: Request) -> Response:
        """GET /api/subscribe: a CSRF token and the choices."""
        service = self.service
        sections = await run_in_threadpool(service.sections)
        return JSONResponse(
            {
                "csrf_token": service.csrf.issue(SCOPE),
                "languages": list(service.settings.site.languages),
                "sections": list(sections),
            },
            headers=HEADERS,
        )

    async def api_submit(self, request: Request) -> Response:
        """POST /api/subscribe: JSON in, JSON out (see README)."""
        service = self.service
        if not service.limits.client_allowed(client_address(request)):
            return _json(429, "rate_limited", "too many requests; wait and try again")
        posted = await read_json(request)
        if posted.problem:
            field = {"field": posted.field} if posted.field else {}
            return _json(400, "bad_request", posted.problem, **field)
        token = request.headers.get(HEADER) or posted.get(FIELD)
        if not service.origin.allowed(request) or not service.csrf.valid(token, SCOPE):
            return _json(403, "forbidden", "missing or invalid CSRF token, or another origin")
        if posted.get(HONEYPOT):
            return _json(202, "check_your_inbox", "")
        try:
            background = await self._sign_up(posted)
        except InvalidSubscriber as e:
            return _json(400, "invalid", e.reason, field=e.field)
        except SubscriberError:
            background = None  # the same address, signed up at the same moment: one wins
        response = _json(202, "check_your_inbox", "")
        response.background = background
        return response


def _json(status: int, code: str, message: str, **extra: str) -> JSONResponse:
    body = {"status": code, **({"message": message} if message else {}), **extra}
    return JSONResponse(body, status_code=status, headers=HEADERS)
