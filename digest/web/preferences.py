"""/p/{token}: the reader's own page: language, sections, time zone; unsubscribe; undo.

The token is the subscriber's (the one in every email's unsubscribe link), checked
first: a bad or forged one gets 400 and reveals nothing. POST is CSRF-protected and
must come from our own origin; its `action` is `save` (fields named like the
subscriber's: `language`, `sections`, `timezone`), `unsubscribe`, or `resubscribe`, which
undoes an unsubscribe. A bounced or complained address cannot be revived here: only a
new sign-up, confirmed from the mailbox, brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from digest import pipeline
from digest.web.forms import Posted, read_form
from digest.web.guard import FIELD
from digest.web.pages import PageWords, mask
from digest.web.service import SelfService
from subscribers import status as transitions
from subscribers import store
from subscribers.errors import InvalidSubscriber
from subscribers.models import Status, Subscriber
from subscribers.store import SubscriberFields
from subscribers.tokens import InvalidToken, read_token
from subscribers.validation import time_zones

ACTIONS = ("save", "unsubscribe", "resubscribe")


@dataclass(frozen=True)
class Profile:
    """What the page shows of a subscriber (None: the token's subscriber is gone)."""

    email: str
    language: str
    sections: list[str]
    timezone: str
    status: str


class PreferencePages:
    def __init__(self, service: SelfService) -> None:
        self.service = service
        self.secret_key = service.settings.secret_key()
        self.list_id = service.mailer.list_id
        self.zones = time_zones()

    def _find(self, session: object, token: str) -> Subscriber | None:
        return store.find_by_token(session, self.secret_key, token, self.list_id)  # type: ignore[arg-type]

    def _profile(self, token: str) -> Profile | None:
        with self.service.db.session() as session:
            subscriber = self._find(session, token)
            return None if subscriber is None else _profile(subscriber)

    def _apply(self, token: str, action: str, posted: Posted) -> tuple[Profile | None, str]:
        """Do the action; (profile after it, notice key). InvalidSubscriber for bad fields."""
        service = self.service
        now = service.clock()
        with service.db.session() as session:
            subscriber = self._find(session, token)
            if subscriber is None:
                return None, ""
            notice = ""
            if action == "save":
                fields = SubscriberFields(
                    email=subscriber.email,
                    language=posted.get("language") or None,
                    sections=posted.items("sections"),
                    timezone=posted.get("timezone") or None,
                )
                sections = pipeline.known_sections(session) or None
                given = store.given_fields(fields, service.settings.site.languages, sections)
                for key, value in given.items():
                    setattr(subscriber, key, value)
                subscriber.updated_at = now
                notice = "prefs_saved"
            elif action == "unsubscribe":
                store.mark(session, subscriber, Status.UNSUBSCRIBED, now)
            elif action == "resubscribe" and subscriber.status == Status.UNSUBSCRIBED:
                transitions.reactivate(subscriber, now)
                notice = "prefs_resubscribed"
            return _profile(subscriber), notice

    async def endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        service = self.service
        try:
            read_token(self.secret_key, token, self.list_id)
            profile = await run_in_threadpool(self._profile, token)
        except InvalidToken:
            words = service.renderer.language(None, request.headers.get("accept-language", ""))
            return service.message(words, "invalid", status=400)
        if profile is None:
            words = service.renderer.language(None, request.headers.get("accept-language", ""))
            return service.message(words, "gone")
        words = service.renderer.words[profile.language]
        if request.method != "POST":
            return await self._page(request, words, profile)
        posted = await read_form(request)
        if posted.problem:  # a body no form of ours sends: too large, too many fields...
            return await self._page(request, words, profile, error="error_form", status=400)
        if not service.origin.allowed(request) or not service.csrf.valid(
            posted.get(FIELD), request.url.path
        ):
            return service.forbidden(request, words)
        action = posted.get("action") or "save"
        if action not in ACTIONS:
            return service.forbidden(request, words)
        try:
            changed, notice = await run_in_threadpool(self._apply, token, action, posted)
        except InvalidSubscriber:
            return await self._page(request, words, profile, error="error_form", status=400)
        if changed is None:
            return service.message(words, "gone")
        words = service.renderer.words.get(changed.language, words)
        return await self._page(request, words, changed, notice=notice)

    async def _page(
        self,
        request: Request,
        words: PageWords,
        profile: Profile,
        *,
        notice: str = "",
        error: str = "",
        status: int = 200,
    ) -> Response:
        service = self.service
        known = await run_in_threadpool(service.sections)
        sections = sorted({*known, *profile.sections})
        return service.renderer.render(
            "preferences.html",
            words,
            title="prefs_title",
            status=status,
            heading=words.say("prefs_heading", email=mask(profile.email)),
            profile=profile,
            active=profile.status in (Status.ACTIVE, Status.PENDING),
            unsubscribed=profile.status == Status.UNSUBSCRIBED,
            unsubscribed_text=words.say("prefs_unsubscribed_text", email=mask(profile.email)),
            inactive_text=words.say("prefs_inactive_text", email=mask(profile.email)),
            languages=service.language_names(words),
            sections=[(name, words.section(name)) for name in sections],
            zones=self.zones,
            site_zone=service.settings.schedule.timezone,
            csrf_token=service.csrf.issue(request.url.path),
            notice=words.say(notice) if notice else "",
            error=words.say(error) if error else "",
        )


def _profile(subscriber: Subscriber) -> Profile:
    return Profile(
        subscriber.email,
        subscriber.language,
        subscriber.section_list,
        subscriber.timezone,
        subscriber.status,
    )
