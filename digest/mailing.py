"""What every message of the site shares, built from the settings: the skeleton (From,
List-Id, DKIM), each recipient's personal parts, the sender's knobs, clock and transport."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from digest import i18n, placeholders
from digest.config import Settings, localised
from digest.db import Database
from digest.delivery.clock import Clock as DeliveryClock
from digest.delivery.clock import ManualClock, SystemClock
from digest.delivery.identity import read_list_id, stored_list_id
from digest.delivery.options import MailIdentity, SendOptions
from digest.errors import ConfigError
from digest.message import DkimSigner, MessageSkeleton, Recipient
from digest.render import locale_dirs
from digest.render.plain import clean_line
from digest.transport import MaildirTransport, SmtpTransport, Transport
from subscribers.models import Subscriber
from subscribers.tokens import TokenMaker

if TYPE_CHECKING:
    from digest.models import EditionVariant
    from digest.variants import AudienceKeys


def list_id(settings: Settings, db: Database | None = None, *, store: bool = True) -> str:
    """The token scope and List-Id: with `db`, the stored one, stored now if this is the
    first use (see `digest.delivery.identity`): a sign-up's confirmation or a preferences
    email may carry a token before the first edition is sent, and a later change of
    `mail.from` must not break it. Without `db`, `site.list_id` or the value derived
    from the From. `store=False` (previews, dry runs) reads without storing."""
    identity = settings.mail_identity
    if db is None:
        return identity.list_id or identity.default_list_id
    with db.session() as session:
        if not store:
            return read_list_id(session, identity)
        return stored_list_id(session, identity, datetime.now(UTC))


def from_header(settings: Settings, language: str) -> str:
    """The From header for an edition: the display name in the edition's language
    (mail.from_name, else a name written in mail.from, else site.name), the site's name
    there rather than in the subject."""
    display, address = parseaddr(settings.mail.from_address)
    name = localised(settings.mail.from_name, language) or display
    name = name or localised(settings.site.name, language)
    if not name:
        return address
    quoted = clean_line(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


def skeleton_for(
    settings: Settings,
    subject: str,
    html: str,
    text: str,
    list_identifier: str | None = None,
    *,
    language: str = "",
) -> MessageSkeleton:
    identity = settings.mail_identity
    return MessageSkeleton(
        from_address=from_header(settings, language),
        reply_to=identity.reply_to,
        subject=subject,
        html=html,
        text=text,
        list_id=f"{identity.list_name} <{list_identifier or list_id(settings)}>",
        unsubscribe_mailto=identity.unsubscribe_mailto,
        dkim=dkim_signer(settings),
    )


def edition_skeleton(
    settings: Settings,
    language: str,
    content: tuple[str, str, str],
    variants: dict[str, EditionVariant],
    list_identifier: str,
    *,
    prefix: str = "",
) -> tuple[MessageSkeleton, AudienceKeys | None]:
    """The skeleton for (subject, html, text) and each reader group's frozen variant, and
    the subscriber -> variant mapping for `recipient_factory` (None: general only)."""
    from digest import readers

    def make(subject: str, html: str, text: str) -> MessageSkeleton:
        return skeleton_for(
            settings, prefix + subject, html, text, list_identifier, language=language
        )

    return readers.edition_skeleton(settings, make(*content), variants, make)


def dkim_signer(settings: Settings) -> DkimSigner | None:
    """The configured DKIM signer, or None when [mail] dkim_selector is empty."""
    mail = settings.mail
    if not mail.dkim_selector:
        return None
    if not mail.dkim_key_file:
        raise ConfigError("[mail] dkim_key_file: needed when dkim_selector is set")
    domain = mail.dkim_domain or parseaddr(mail.from_address)[1].rpartition("@")[2]
    key_file = settings.resolve_path(mail.dkim_key_file)
    return DkimSigner.from_file(mail.dkim_selector, domain, key_file)


def recipient_factory(
    settings: Settings,
    language: str,
    list_identifier: str | None = None,
    *,
    variant_of: AudienceKeys | None = None,
) -> Callable[[Subscriber], Recipient]:
    """Subscriber -> Recipient (greeting, signed links, and with `variant_of` the key of
    the reader group's variant)."""
    strings = i18n.catalogue(language, locale_dirs(settings))
    key = settings.secret_key()
    make = TokenMaker(key, list_identifier or list_id(settings))
    template = settings.mail.unsubscribe_url
    preferences = f"{settings.public_url}/p/"
    greeting_format = strings["greeting"].format
    anonymous = placeholders.defuse(strings["greeting_anonymous"])

    def recipient_for(subscriber: Subscriber) -> Recipient:
        token = make(subscriber.id, subscriber.email)
        raw = subscriber.name
        # Printable ASCII has nothing for clean_line to remove but runs of spaces.
        name = " ".join(raw.split()) if raw.isascii() and raw.isprintable() else clean_line(raw)
        # Substituted per recipient: the greeting must not look like a placeholder.
        greeting = placeholders.defuse(greeting_format(name=name)) if name else anonymous
        return Recipient(
            email=subscriber.email,
            name=raw,
            greeting=greeting,
            unsubscribe_url=template.replace("{token}", token),
            smtputf8=subscriber.smtputf8,
            preferences_url=preferences + token,
            variant=variant_of(subscriber.sections, subscriber.timezone) if variant_of else "",
        )

    return recipient_for


def send_options(settings: Settings) -> SendOptions:
    """The sender's knobs from [mail], checked when the settings loaded."""
    return settings.send_options


def envelope_sender(settings: Settings) -> str:
    """The SMTP envelope sender (bounces go there): the From address, in ASCII."""
    return settings.mail_identity.envelope_sender


def open_mail_transport(settings: Settings) -> Transport:
    """The transport of the `MailIdentity` parsed when the settings loaded."""
    options, identity = settings.send_options, settings.mail_identity
    if identity.smtp is None:
        assert identity.maildir is not None
        return MaildirTransport(identity.maildir)
    return SmtpTransport(
        identity.smtp,
        password=settings.secrets.smtp_password,
        timeout=options.timeout,
        data_timeout=options.data_timeout,
    )


def with_verp(settings: Settings, identity: MailIdentity) -> MailIdentity:
    """`identity` with a VERP envelope sender per delivery when `[mail] verp` is on."""
    if not settings.mail.verp:
        return identity
    from digest.bounces.verp import sender_factory

    verp = sender_factory(identity.envelope_sender, settings.secret_key())
    return dataclasses.replace(identity, verp_sender=verp)


def delivery_clock(clock: Callable[[], datetime] | DeliveryClock) -> DeliveryClock:
    """The sender's clock: a `Clock` as given, or the system clocks with this `now`."""
    if isinstance(clock, SystemClock | ManualClock):
        return clock
    return SystemClock(clock)  # type: ignore[arg-type]


def open_transport_path(settings: Settings) -> Path:
    """The Maildir folder of a maildir: transport (for summaries)."""
    from digest.transport_urls import maildir_path

    return maildir_path(settings.mail.transport, settings.base_dir)
