"""What every message of the site shares, built from the settings: the skeleton (From,
List-Id, DKIM), each recipient's personal parts, the sender's knobs and the transport."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path

from digest import i18n, placeholders
from digest.config import Settings
from digest.errors import ConfigError
from digest.message import DkimSigner, MessageSkeleton, Recipient, ascii_address
from digest.render import locale_dirs
from digest.render.plain import clean_line
from digest.send import SendOptions
from digest.transport import Transport, check_transport_url, open_transport
from subscribers.models import Subscriber
from subscribers.tokens import make_token


def list_id(settings: Settings) -> str:
    _name, address = parseaddr(settings.mail.from_address)
    domain = address.rsplit("@", 1)[-1] if "@" in address else "localhost"
    return f"digest.{domain}"


def skeleton_for(settings: Settings, subject: str, html: str, text: str) -> MessageSkeleton:
    return MessageSkeleton(
        from_address=settings.mail.from_address,
        reply_to=settings.mail.reply_to,
        subject=subject,
        html=html,
        text=text,
        list_id=f"{settings.site.name} <{list_id(settings)}>",
        unsubscribe_mailto=settings.mail.unsubscribe_mailto,
        dkim=dkim_signer(settings),
    )


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


def recipient_factory(settings: Settings, language: str) -> Callable[[Subscriber], Recipient]:
    strings = i18n.catalogue(language, locale_dirs(settings))
    key = settings.secret_key()
    identifier = list_id(settings)
    template = settings.mail.unsubscribe_url

    def recipient_for(subscriber: Subscriber) -> Recipient:
        token = make_token(key, subscriber.id, identifier, subscriber.email)
        name = clean_line(subscriber.name)
        # Substituted per recipient: the greeting must not look like a placeholder.
        greeting = placeholders.defuse(
            strings.text("greeting", name=name) if name else strings["greeting_anonymous"]
        )
        return Recipient(
            email=subscriber.email,
            name=subscriber.name,
            greeting=greeting,
            unsubscribe_url=template.replace("{token}", token),
            smtputf8=subscriber.smtputf8,
        )

    return recipient_for


def send_options(settings: Settings) -> SendOptions:
    """The sender's knobs from [mail], checked (each error names its key)."""
    mail = settings.mail
    origin = str(settings.config_path or "settings")
    check_transport_url(mail.transport)
    if mail.max_attempts < 1:
        raise ConfigError(f"{origin}: [mail] max_attempts: must be at least 1")
    if mail.concurrency < 1:
        raise ConfigError(f"{origin}: [mail] concurrency: must be at least 1")
    return SendOptions(
        concurrency=mail.concurrency,
        rate=mail.rate,
        max_attempts=mail.max_attempts,
        retry_backoff=mail.retry_backoff,
        retry_backoff_max=max(mail.retry_backoff_max, mail.retry_backoff),
        bounce_threshold=mail.bounce_threshold,
    )


def envelope_sender(settings: Settings) -> str:
    """The SMTP envelope sender (bounces go there): the From address, in ASCII."""
    address = ascii_address(parseaddr(settings.mail.from_address)[1])
    if not address or "@" not in address:
        raise ConfigError(f"[mail] from: {settings.mail.from_address!r} is not a usable address")
    return address


def open_mail_transport(settings: Settings) -> Transport:
    return open_transport(
        settings.mail.transport,
        settings.base_dir,
        password=settings.secrets.smtp_password,
        timeout=settings.mail.timeout,
    )


def open_transport_path(settings: Settings) -> Path:
    """The Maildir folder of a maildir: transport (for summaries)."""
    from digest.transport import maildir_path

    return maildir_path(settings.mail.transport, settings.base_dir)
