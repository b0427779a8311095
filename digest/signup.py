"""The sign-up emails: a confirmation link, or "you are already subscribed".

Built with the digest's own machinery (the render module's Jinja environment, the TOML
catalogues' [web] words, `MessageSkeleton`) and sent through the configured transport,
so they carry the same From, List-Id, List-Unsubscribe and DKIM signature as an edition.
Links are built from `web.public_url` (`Settings.public_url`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from digest import mailing, pipeline
from digest.config import Settings, localised
from digest.db import Database
from digest.delivery.pacing import envelope_for, run_coroutine
from digest.message import Recipient
from digest.render.environment import get_template, make_environment
from digest.transport import Envelope, Transport
from digest.web.pages import PageWords, load_words
from subscribers import optin
from subscribers.optin import Signup, SignupAnswer
from subscribers.store import SubscriberFields
from subscribers.tokens import make_confirm_token, make_token

CONFIRM_PATH = "/confirm/{token}"
PREFERENCES_PATH = "/p/{token}"


@dataclass(frozen=True)
class SignupEmail:
    """One finished message and its envelope."""

    envelope: Envelope
    message: bytes


class SignupMailer:
    """Builds and sends sign-up emails for one site (settings are read once)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        transport: Transport | None = None,
        words: dict[str, PageWords] | None = None,
    ) -> None:
        from digest.render.environment import locale_dirs

        self.settings = settings
        self.secret_key = settings.secret_key()
        #: The stored token scope and List-Id (digest.delivery.identity), read once.
        self.list_id = mailing.list_id(settings, db)
        self.environment = make_environment(settings)
        self.words = words or load_words(settings.site.languages, locale_dirs(settings))
        self.sender = mailing.envelope_sender(settings)
        self.hours = settings.subscribe.confirm_hours
        self._transport = transport

    @property
    def max_age(self) -> timedelta:
        return timedelta(hours=self.hours)

    def confirm_url(self, signup: Signup, now: datetime) -> str:
        if signup.nonce is None:
            raise ValueError("an 'already subscribed' answer has no confirmation link")
        token = make_confirm_token(
            self.secret_key, signup.subscriber_id, self.list_id, signup.email, signup.nonce, now=now
        )
        return self.settings.public_url + CONFIRM_PATH.replace("{token}", token)

    def subscriber_token(self, subscriber_id: int, email: str) -> str:
        return make_token(self.secret_key, subscriber_id, self.list_id, email)

    def preferences_url(self, subscriber_id: int, email: str) -> str:
        token = self.subscriber_token(subscriber_id, email)
        return self.settings.public_url + PREFERENCES_PATH.replace("{token}", token)

    def build(self, signup: Signup, now: datetime) -> SignupEmail:
        """The message for a sign-up's answer, in the subscriber's language."""
        words = self.words.get(signup.language) or next(iter(self.words.values()))
        kind = "confirm" if signup.answer == SignupAnswer.CONFIRM else "already"
        site = localised(self.settings.site.name, signup.language)
        subject = words.plain(f"{kind}_email_subject", site=site)
        context = {
            "kind": kind,
            "page": words,
            "subject": subject,
            "site_name": site,
            "email": signup.email,
            "hours": self.hours,
            "confirm_url": self.confirm_url(signup, now) if kind == "confirm" else "",
            "preferences_url": self.preferences_url(signup.subscriber_id, signup.email),
        }
        html = get_template(self.environment, "signup_email.html").render(w=words.say, **context)
        text = get_template(self.environment, "signup_email.txt").render(w=_plain(words), **context)
        skeleton = mailing.skeleton_for(self.settings, subject, html, text, self.list_id)
        unsubscribe_url = self.settings.mail.unsubscribe_url.replace(
            "{token}", self.subscriber_token(signup.subscriber_id, signup.email)
        )
        recipient = Recipient(
            email=signup.email,
            name=signup.name,
            greeting="",
            unsubscribe_url=unsubscribe_url,
            smtputf8=signup.smtputf8,
        )
        message = skeleton.build(recipient, message_id=skeleton.message_id("signup"), date=now)
        return SignupEmail(envelope_for(self.sender, signup.email), message)

    async def send(self, signup: Signup, now: datetime) -> None:
        """Build and deliver one sign-up email. Raises SendError (DeliveryError on refusal)."""
        email = self.build(signup, now)
        transport = self._transport or mailing.open_mail_transport(self.settings)
        connection = await transport.connect()
        try:
            await connection.send(email.envelope, email.message)
        finally:
            await connection.close()

    def send_now(self, signup: Signup, now: datetime) -> None:
        """`send` from synchronous code (the CLI)."""
        run_coroutine(self.send(signup, now))


def _plain(words: PageWords) -> Callable[..., str]:
    """`w(key, **fields)` for the text part: plain strings, nothing escaped."""

    def say(key: str, **fields: object) -> str:
        return words.plain(key, **fields)

    return say


def request_confirmation(
    db: Database,
    settings: Settings,
    fields: SubscriberFields,
    *,
    now: datetime,
    transport: Transport | None = None,
) -> Signup:
    """The operator's `subscribers add --pending`: store the address pending (or keep it
    as it is) and mail a confirmation link now. An active address gets no email (the
    answer says ALREADY). Raises SubscriberError for a bad field, SendError if the relay
    refuses; the pending record stays either way, so the command can be run again."""
    mailer = SignupMailer(settings, db, transport)
    with db.session() as session:
        sections = pipeline.known_sections(session) or None
        signup = optin.request(
            session, fields, languages=settings.site.languages, now=now, sections=sections
        )
    if signup.answer == SignupAnswer.CONFIRM:
        mailer.send_now(signup, now)
    return signup
