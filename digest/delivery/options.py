"""Typed mail settings, parsed and checked once when the settings load.

`MailIdentity` is who we send as (From, envelope sender, list id, transport); `SendOptions`
how (connections, rate, retries, timeouts, breaker). Both are built from `[mail]` by
`Settings.mail_identity` / `Settings.send_options`, so a bad `[mail]` section fails at
start-up with an error naming the key, and a send never parses an address or URL again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from digest.errors import ConfigError
from digest.message import ascii_address
from digest.transport_urls import SmtpTarget, check_transport_url, maildir_path, parse_smtp_url

if TYPE_CHECKING:
    from digest.config import Settings

#: How long a claimed delivery stays ours without a renewal (kept here, not in
#: leases.py, so that loading the settings does not import the ORM models).
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class SendOptions:
    """How a run sends. Seconds are floats; `lease` and `heartbeat` bound crash recovery."""

    concurrency: int = 8
    rate: float = 0.0
    max_attempts: int = 5
    retry_backoff: float = 1.0
    retry_backoff_max: float = 60.0
    bounce_threshold: int = 3
    #: The same relay-wide refusal this many times in a row stops the run (0: never).
    circuit_breaker: int = 5
    #: Seconds for a connection or a command reply.
    timeout: float = 30.0
    #: Seconds for the reply to the final "." (RFC 5321 §4.5.3.2.6: 10 minutes).
    data_timeout: float = 600.0
    lease: timedelta = LEASE
    #: Seconds between two renewals of this run's leases (well within `lease`).
    heartbeat: float = 20.0
    #: The edition revision the messages are built from; claims stop when a hold changes it.
    revision: int = 1


@dataclass(frozen=True)
class MailIdentity:
    """Who the digest is from. `list_id` is the configured one ("" = stored default)."""

    from_header: str
    from_name: str
    from_email: str
    #: ASCII envelope sender (MAIL FROM), where bounces go.
    envelope_sender: str
    #: `site.list_id` as configured; "" means `default_list_id`, stored on first use.
    list_id: str
    #: What the list id is derived as today: `digest.<From domain>`.
    default_list_id: str
    list_name: str
    reply_to: str
    unsubscribe_mailto: str
    transport_url: str
    #: The parsed smtp(s):// URL, or None for a Maildir transport.
    smtp: SmtpTarget | None
    #: The Maildir folder, or None for SMTP.
    maildir: Path | None
    #: delivery id -> its VERP envelope sender (`[mail] verp`; set by the sender, which
    #: holds the signing key); None: every message uses `envelope_sender`.
    verp_sender: Callable[[int], str] | None = field(default=None, compare=False, repr=False)

    @property
    def domain(self) -> str:
        return self.from_email.rpartition("@")[2]

    def envelope_sender_for(self, recipient: str, delivery_id: int | None = None) -> str:
        """MAIL FROM for one delivery: its VERP address when `verp_sender` is set."""
        if self.verp_sender is not None and delivery_id is not None:
            return self.verp_sender(delivery_id)
        return self.envelope_sender


def _bounce_address(configured: str, origin: str, own_key: bool) -> str:
    """The envelope sender bounces come back to: ASCII, and no '+' (VERP adds one)."""
    key = "bounce_address" if own_key else "from"
    address = ascii_address(parseaddr(configured)[1])
    if not address or address.count("@") != 1 or "+" in address.partition("@")[0]:
        raise ConfigError(
            f"{origin}: [mail] {key}: {configured!r} is not usable as the bounce address "
            "(an ASCII address without '+', which VERP adds)"
        )
    return address


def mail_identity(settings: Settings) -> MailIdentity:
    """Parse `[mail] from`, `transport` and `[site] list_id`; ConfigError names the key."""
    mail, origin = settings.mail, str(settings.config_path or "settings")
    name, email = parseaddr(mail.from_address)
    envelope = ascii_address(email) if "@" in email else None
    if not envelope or "@" not in envelope or any(ch in email for ch in '<>" ,;:\\'):
        raise ConfigError(f"{origin}: [mail] from: {mail.from_address!r} is not a usable address")
    if mail.bounce_address or mail.verp:
        envelope = _bounce_address(mail.bounce_address or email, origin, bool(mail.bounce_address))
    if mail.reply_to and "@" not in parseaddr(mail.reply_to)[1]:
        raise ConfigError(f"{origin}: [mail] reply_to: {mail.reply_to!r} is not an address")
    list_id = settings.site.list_id.strip()
    if list_id and (not list_id.isascii() or " " in list_id or "." not in list_id):
        raise ConfigError(
            f"{origin}: [site] list_id: {list_id!r} must be a dotted ASCII name, "
            "e.g. digest.example.org"
        )
    check_transport_url(mail.transport)
    maildir = smtp = None
    if mail.transport.startswith("maildir:"):
        maildir = maildir_path(mail.transport, settings.base_dir)
    else:
        smtp = parse_smtp_url(mail.transport)
    return MailIdentity(
        from_header=mail.from_address,
        from_name=name,
        from_email=email,
        envelope_sender=envelope,
        list_id=list_id,
        default_list_id=f"digest.{envelope.rpartition('@')[2]}",
        list_name=settings.site.name,
        reply_to=mail.reply_to,
        unsubscribe_mailto=mail.unsubscribe_mailto,
        transport_url=mail.transport,
        smtp=smtp,
        maildir=maildir,
    )


def send_options(settings: Settings) -> SendOptions:
    """`[mail]` knobs as `SendOptions`; ConfigError names the key of a bad value."""
    mail, origin = settings.mail, str(settings.config_path or "settings")
    for key in ("max_attempts", "concurrency"):
        if getattr(mail, key) < 1:
            raise ConfigError(f"{origin}: [mail] {key}: must be at least 1")
    for key in ("timeout", "data_timeout"):
        if getattr(mail, key) <= 0:
            raise ConfigError(f"{origin}: [mail] {key}: must be more than 0 seconds")
    if mail.data_timeout < mail.timeout:
        raise ConfigError(
            f"{origin}: [mail] data_timeout: must be at least [mail] timeout "
            f"({mail.timeout:g} s): the reply to the end of a message may take longest "
            "(RFC 5321 4.5.3.2.6)"
        )
    return SendOptions(
        concurrency=mail.concurrency,
        rate=mail.rate,
        max_attempts=mail.max_attempts,
        retry_backoff=mail.retry_backoff,
        retry_backoff_max=max(mail.retry_backoff_max, mail.retry_backoff),
        bounce_threshold=mail.bounce_threshold,
        circuit_breaker=mail.circuit_breaker,
        timeout=mail.timeout,
        data_timeout=mail.data_timeout,
    )
