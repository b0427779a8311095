"""What the self-service pages share: settings, database, clock, renderer, mailer, guards."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError
from starlette.requests import Request
from starlette.responses import Response

from digest import pipeline
from digest.config import Settings
from digest.db import Database
from digest.errors import DigestError
from digest.signup import SignupMailer
from digest.web.guard import Csrf, OriginCheck, RateLimits
from digest.web.pages import PageRenderer, PageWords, mask
from subscribers.optin import Signup

log = logging.getLogger("digest.web")


@dataclass
class SelfService:
    """What the sign-up and preferences pages share (built once, at start-up)."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime]
    renderer: PageRenderer
    mailer: SignupMailer
    csrf: Csrf
    origin: OriginCheck
    limits: RateLimits

    @classmethod
    def create(
        cls,
        settings: Settings,
        db: Database,
        clock: Callable[[], datetime],
        renderer: PageRenderer,
        mailer: SignupMailer | None = None,
    ) -> SelfService:
        return cls(
            settings,
            db,
            clock,
            renderer,
            mailer or SignupMailer(settings, db, words=renderer.words),
            Csrf(settings.secret_key()),
            OriginCheck(settings.public_url),
            RateLimits(settings),
        )

    def sections(self) -> tuple[str, ...]:
        with self.db.session() as session:
            return pipeline.known_sections(session)

    def language_names(self, words: PageWords) -> list[tuple[str, str]]:
        """(code, the language's own name) for each site language: "English", "العربية"."""
        return [(code, language_name(code, code)) for code in self.renderer.languages]

    def forbidden(self, request: Request, words: PageWords | None = None) -> Response:
        words = words or self.renderer.language(None, request.headers.get("accept-language", ""))
        return self.message(words, "forbidden", status=403)

    def message(
        self, words: PageWords, state: str, *, status: int = 200, **fields: str
    ) -> Response:
        """A page that only says something: `{state}_heading` and `{state}_text`."""
        return self.renderer.render(
            "message.html",
            words,
            title=f"{state}_heading",
            status=status,
            heading=words.say(f"{state}_heading", **fields),
            text=words.say(f"{state}_text", **fields),
        )

    async def deliver(self, signup: Signup) -> None:
        """Send a sign-up email after the response; a failure is logged, never lost silently."""
        try:
            await self.mailer.send(signup, self.clock())
        except (DigestError, OSError) as e:
            log.error("sign-up email to %s not sent: %s", mask(signup.email), e)


def language_name(code: str, in_language: str) -> str:
    try:
        name = Locale.parse(code).get_display_name(in_language) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]
