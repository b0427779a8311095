"""Where finished messages go: a Maildir folder, or an SMTP relay over verified TLS.

A transport opens connections; the sender keeps a pool of them, each reused for many
messages. SMTP outcomes are classified here, once, so the sender never reads a reply
code: `TransientFailure` (4xx, dropped connection, timeout: try again later),
`PermanentFailure` (5xx to RCPT or DATA: do not retry), or `SendError` for what no
retry can fix (bad credentials, an unverifiable certificate, a refused sender).
"""

from __future__ import annotations

import asyncio
import mailbox
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiosmtplib

from digest.delivery.classify import FailureKind, Reply
from digest.errors import ConfigError, ExitCode, SendError
from digest.transport_urls import SmtpTarget, check_transport_url, maildir_path, parse_smtp_url


class DeliveryError(SendError):
    """One message was not delivered; `broken` says the connection cannot be reused.

    `kind` is the `FailureKind` (see `digest.delivery.classify`); `reply` the server's
    reply when there was one; `breaker` whether the outcome is a relay-wide symptom that
    counts towards the circuit breaker (a local decision, such as no SMTPUTF8, is not).
    """

    kind = FailureKind.TRANSIENT

    def __init__(
        self,
        message: str,
        *,
        reply: Reply | None = None,
        kind: FailureKind | None = None,
        broken: bool = False,
        retry_in_run: bool = True,
        breaker: bool = True,
    ) -> None:
        super().__init__(message)
        self.reply = reply
        if kind is not None:
            self.kind = kind
        elif reply is not None:
            self.kind = reply.kind
        self.broken = broken
        #: False when trying again on the same relay in this run cannot help.
        self.retry_in_run = retry_in_run
        self.breaker = breaker and reply is not None

    @property
    def code(self) -> int | None:
        return self.reply.code if self.reply is not None else None

    @property
    def permanent(self) -> bool:
        return self.kind != FailureKind.TRANSIENT

    @property
    def bounce(self) -> bool:
        """Only a bad address counts towards the subscriber's bounce status."""
        return self.kind == FailureKind.ADDRESS


class TransientFailure(DeliveryError):
    """4xx reply, dropped connection or timeout before the final ".": deferred, retried."""


class PermanentFailure(DeliveryError):
    """5xx reply to RCPT or DATA: the delivery failed (a bounce only for a bad address)."""

    kind = FailureKind.REFUSED


class UncertainDelivery(DeliveryError):
    """The final "." was sent but no reply came: the message may have been delivered."""

    def __init__(self, message: str) -> None:
        super().__init__(message, broken=True, retry_in_run=False, breaker=False)


class Interrupted(Exception):
    """The run was asked to stop before this message's final "." was written.

    Nothing of it reached the relay's queue (a transaction not ended by "." is
    discarded, RFC 5321 §4.1.1.4), so the delivery goes back to the queue, unsent.
    """


class RelayUnavailable(SendError):
    """The relay cannot be reached just now; the remaining deliveries wait for a rerun."""

    exit_code = ExitCode.PARTIAL


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    #: The recipient address has a non-ASCII local part.
    smtputf8: bool = False


#: The "before DATA" step: called as the transaction begins; its awaitable must be done
#: before the message is handed over (see `digest.delivery.before_data`).
ReadyStep = Callable[[], Awaitable[object]]


class Connection(Protocol):
    async def send(
        self, envelope: Envelope, message: bytes, ready: ReadyStep | None = None
    ) -> None:
        """Deliver one message. `ready()` is called once the transaction begins, and
        what it returns is awaited just before the message is committed (DATA).

        Raises `DeliveryError`, or `Interrupted` after `interrupt` (not yet handed over).
        """

    def interrupt(self, grace: float) -> None:
        """The run stops: a send not yet handed over raises `Interrupted` at once; a
        message already handed over waits at most `grace` more seconds for its reply."""

    async def close(self) -> None: ...


class Transport(Protocol):
    #: Where mail goes, safe to print (never a password).
    description: str

    async def connect(self) -> Connection: ...


class MaildirConnection:
    def __init__(self, box: mailbox.Maildir, path: Path) -> None:
        self._box = box
        self._path = path

    async def send(
        self, envelope: Envelope, message: bytes, ready: ReadyStep | None = None
    ) -> None:
        if ready is not None:
            await ready()
        try:
            self._box.add(message)
        except OSError as e:
            raise SendError(f"maildir {self._path}: {e.strerror}") from e

    def interrupt(self, grace: float) -> None:
        return None  # a file write never stalls on a relay

    async def close(self) -> None:
        return None


@dataclass
class MaildirTransport:
    """Writes each message to `path/new` via `path/tmp` (atomic, as Maildir requires)."""

    path: Path
    description: str = field(init=False)

    def __post_init__(self) -> None:
        self.description = f"maildir:{self.path}"
        self._box: mailbox.Maildir | None = None

    async def connect(self) -> Connection:
        """The folder is created on first use, so opening a transport writes nothing."""
        if self._box is None:
            try:
                self._box = mailbox.Maildir(self.path, create=True)
            except OSError as e:
                raise SendError(f"maildir {self.path}: {e.strerror}") from e
        return MaildirConnection(self._box, self.path)


def reply_text(error: aiosmtplib.SMTPResponseException) -> str:
    """`554 5.7.1 text` on one line."""
    return f"{error.code} {' '.join(error.message.split())}".strip()


def _root_cause(error: BaseException) -> BaseException:
    seen = error
    while seen.__cause__ is not None:
        seen = seen.__cause__
    return seen


class SmtpTransport:
    """Opens sessions on one relay: TLS verified, STARTTLS required off loopback, AUTH."""

    def __init__(
        self,
        target: SmtpTarget,
        *,
        password: str | None,
        timeout: float,
        data_timeout: float | None = None,
        local_hostname: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if target.user and not password:
            raise ConfigError(
                f"[mail] transport logs in as {target.user!r} but DIGEST_SMTP_PASSWORD is not set"
            )
        self.target = target
        self.description = target.description
        self._password = password
        self._timeout = timeout or None
        self._data_timeout = data_timeout or self._timeout
        self._local_hostname = local_hostname or socket.gethostname() or "localhost"
        self._tls = tls_context or ssl.create_default_context()

    def __repr__(self) -> str:
        return f"SmtpTransport({self.description})"

    async def connect(self) -> Connection:
        target = self.target
        smtp = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            use_tls=target.implicit_tls,
            start_tls=False,
            tls_context=self._tls,
            timeout=self._timeout,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
            await self._secure(smtp)
            if target.user:
                await self._login(smtp, target.user)
        except BaseException as e:
            smtp.close()
            if isinstance(e, SendError | asyncio.CancelledError | KeyboardInterrupt):
                raise
            raise self._connect_error(e) from e
        from digest.delivery.smtp import SmtpConnection  # it needs this module's errors

        return SmtpConnection(smtp, target, self._timeout, self._data_timeout)

    async def _secure(self, smtp: aiosmtplib.SMTP) -> None:
        target = self.target
        await smtp.ehlo()
        if target.implicit_tls:
            return
        if target.starttls and smtp.supports_extension("starttls"):
            await smtp.starttls(tls_context=self._tls, server_hostname=target.host)
            await smtp.ehlo()  # extensions (AUTH, SMTPUTF8) may change once encrypted
        elif not target.loopback:
            raise SendError(
                f"{target.host}:{target.port} does not offer STARTTLS; "
                "refusing to send mail over an unencrypted connection",
                hint="use a relay with TLS, or smtps://",
            )

    async def _login(self, smtp: aiosmtplib.SMTP, user: str) -> None:
        if not smtp.supports_extension("auth"):
            raise SendError(
                f"{self.target.host} does not offer AUTH; cannot log in as {user!r}",
                hint="drop 'user@' from [mail] transport if the relay needs no login",
            )
        try:
            await smtp.login(user, self._password or "")
        except aiosmtplib.SMTPAuthenticationError as e:
            if e.code >= 500:
                raise SendError(
                    f"{self.target.host} refused the login as {user!r}: {reply_text(e)}",
                    hint="check the user in [mail] transport and DIGEST_SMTP_PASSWORD",
                ) from e
            raise

    def _connect_error(self, error: BaseException) -> SendError:
        where = f"{self.target.host}:{self.target.port}"
        cause = _root_cause(error)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SendError(
                f"TLS certificate of {where} could not be verified: {cause.verify_message}",
                hint="mail is only sent to relays with a valid certificate",
            )
        if isinstance(cause, ssl.SSLError):
            return SendError(f"TLS with {where} failed: {cause.reason or cause}")
        if isinstance(cause, socket.gaierror):
            return SendError(f"cannot resolve SMTP host {self.target.host!r}: {cause.strerror}")
        if isinstance(error, aiosmtplib.SMTPResponseException):
            if 500 <= error.code < 600:
                return SendError(f"{where} refused the session: {reply_text(error)}")
            return RelayUnavailable(f"{where} answered {reply_text(error)}")
        if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
            return RelayUnavailable(f"{where} did not answer in time")
        if isinstance(error, aiosmtplib.SMTPNotSupported):
            return SendError(f"{where}: {error}")
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        return RelayUnavailable(f"cannot connect to {where}: {reason}")


def open_transport(
    url: str,
    base_dir: Path,
    *,
    password: str | None = None,
    timeout: float = 30.0,
    data_timeout: float | None = None,
) -> Transport:
    """A transport for `url`; relative Maildir paths are relative to the config folder."""
    check_transport_url(url)
    if url.startswith("maildir:"):
        return MaildirTransport(maildir_path(url, base_dir))
    return SmtpTransport(
        parse_smtp_url(url), password=password, timeout=timeout, data_timeout=data_timeout
    )
