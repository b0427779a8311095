"""Where finished messages go: a Maildir folder, or an SMTP relay over verified TLS.

A transport opens connections; the sender keeps a pool of them, each reused for many
messages. SMTP outcomes are classified here, once, so the sender never reads a reply
code: `TransientFailure` (4xx, dropped connection, timeout: try again later),
`PermanentFailure` (5xx to RCPT or DATA: do not retry), or `SendError` for what no
retry can fix (bad credentials, an unverifiable certificate, a refused sender).
"""

from __future__ import annotations

import asyncio
import ipaddress
import mailbox
import socket
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from digest.delivery.classify import DATA, END_OF_DATA, MAIL, RCPT, Reply
from digest.errors import ConfigError, ExitCode, SendError
from digest.models import FailureKind

SMTP_PORT = 587
SMTPS_PORT = 465


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


class RelayUnavailable(SendError):
    """The relay cannot be reached just now; the remaining deliveries wait for a rerun."""

    exit_code = ExitCode.PARTIAL


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    #: The recipient address has a non-ASCII local part.
    smtputf8: bool = False


class Connection(Protocol):
    async def send(
        self, envelope: Envelope, message: bytes, ready: Awaitable[object] | None = None
    ) -> None:
        """Deliver one message; `ready` is awaited just before the message is committed."""

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
        self, envelope: Envelope, message: bytes, ready: Awaitable[object] | None = None
    ) -> None:
        if ready is not None:
            await ready
        try:
            self._box.add(message)
        except OSError as e:
            raise SendError(f"maildir {self._path}: {e.strerror}") from e

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


@dataclass(frozen=True)
class SmtpTarget:
    """A parsed smtp:// or smtps:// transport URL (it never holds a password)."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    user: str | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def description(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "" if self.starttls or self.implicit_tls else "?tls=off"
        return f"{scheme}://{user}{host}:{self.port}{query}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://[user@]host[:port][?tls=off] or smtps://[user@]host[:port]."""
    where = "[mail] transport"
    parts = urlsplit(url)
    implicit_tls = parts.scheme == "smtps"
    if parts.password is not None:
        raise ConfigError(
            f"{where}: the URL must not contain a password",
            hint="set DIGEST_SMTP_PASSWORD in the environment instead",
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port in {parts.scheme}:// URL") from None
    if not host:
        raise ConfigError(f"{where}: {parts.scheme}:// needs a host, e.g. smtp://relay:587")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError(f"{where}: unexpected path in {parts.scheme}:// URL")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"tls"})
    if unknown:
        raise ConfigError(f"{where}: unknown option {unknown[0]!r} (known: tls=off)")
    tls = [value.lower() for value in query.get("tls", ["on"])]
    if tls not in (["on"], ["off"]):
        raise ConfigError(f"{where}: tls must be 'off' (or left out), got {query['tls'][0]!r}")
    if tls == ["off"]:
        if implicit_tls:
            raise ConfigError(f"{where}: smtps:// is TLS; tls=off contradicts it")
        if not is_loopback(host):
            raise ConfigError(
                f"{where}: ?tls=off is only allowed for a loopback host, not {host!r}",
                hint="mail to any other host travels over verified TLS",
            )
    return SmtpTarget(
        host=host,
        port=port or (SMTPS_PORT if implicit_tls else SMTP_PORT),
        implicit_tls=implicit_tls,
        starttls=not implicit_tls and tls == ["on"],
        user=unquote(parts.username) if parts.username else None,
    )


def _root_cause(error: BaseException) -> BaseException:
    seen = error
    while seen.__cause__ is not None:
        seen = seen.__cause__
    return seen


def _reply(error: aiosmtplib.SMTPResponseException) -> str:
    return f"{error.code} {' '.join(error.message.split())}".strip()


def smtp_payload(message: bytes) -> bytes:
    """The DATA payload of a CRLF message: leading dots doubled, the final dot line.

    One `bytes.replace`: a general client's regular expressions over every line cost
    more than the rest of the per-recipient work. Messages come from `MessageSkeleton`,
    which writes CRLF only (bodies are base64 or quoted-printable), so a bare CR or LF
    that could end DATA early ("SMTP smuggling") cannot occur.
    """
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    if message.startswith(b"."):
        message = b"." + message
    return message.replace(b"\r\n.", b"\r\n..") + b".\r\n"


def _mailbox(address: str, envelope: Envelope) -> bytes:
    """`<address>` for MAIL/RCPT; an address no SMTP command can carry fails for good."""
    try:
        encoded = address.encode("utf-8" if envelope.smtputf8 else "ascii")
    except UnicodeEncodeError:
        raise PermanentFailure(f"address {address!r} needs SMTPUTF8", breaker=False) from None
    if any(byte < 0x21 or byte in b"<>" for byte in encoded):
        raise PermanentFailure(f"address {address!r} cannot be sent over SMTP", breaker=False)
    return b"<" + encoded + b">"


class SmtpConnection:
    """One authenticated SMTP session, reused for many messages.

    Replies are waited for `timeout` seconds, except the reply to the final ".", which
    gets `data_timeout` (RFC 5321 §4.5.3.2.6): once the message is handed over, a lost
    reply means "perhaps delivered" (`UncertainDelivery`), never "try again".
    """

    def __init__(
        self,
        smtp: aiosmtplib.SMTP,
        target: SmtpTarget,
        timeout: float | None,
        data_timeout: float | None = None,
    ) -> None:
        self._smtp = smtp
        self._target = target
        self._timeout = timeout
        self._data_timeout = data_timeout or timeout

    async def send(
        self, envelope: Envelope, message: bytes, ready: Awaitable[object] | None = None
    ) -> None:
        smtp = self._smtp
        options: list[bytes] = []
        if envelope.smtputf8:
            if not smtp.supports_extension("smtputf8"):
                # RFC 6531 §3.2 forbids sending it here; no retry on this relay can help.
                raise PermanentFailure(
                    f"5.6.7 the address needs SMTPUTF8, which {self._target.host} does not "
                    "offer (RFC 6531)",
                    breaker=False,
                )
            options.append(b"SMTPUTF8")
        payload = smtp_payload(message)
        if smtp.supports_extension("size"):
            options.append(b"SIZE=%d" % (len(payload) - 3))
        sender, recipient = (
            _mailbox(envelope.sender, envelope),
            _mailbox(envelope.recipient, envelope),
        )
        stage = MAIL
        try:
            reply = await smtp.execute_command(b"MAIL", b"FROM:" + sender, *options)
            if reply.code != 250:
                self._sender_refused(envelope, reply)
            stage = RCPT
            reply = await smtp.execute_command(b"RCPT", b"TO:" + recipient)
            if reply.code not in (250, 251):
                raise aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, envelope.recipient)
            if ready is not None:
                await ready
            stage = DATA
            reply = await smtp.execute_command(b"DATA")
            if reply.code != 354:
                raise aiosmtplib.SMTPDataError(reply.code, reply.message)
            stage = END_OF_DATA
            await self._end_of_data(payload)
        except aiosmtplib.SMTPResponseException as e:
            raise await self._refused(e, stage) from e
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as e:
            raise TransientFailure(f"timed out waiting for {self._target.host}", broken=True) from e
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError) as e:
            raise TransientFailure(
                f"connection to {self._target.host} lost: {e}", broken=True
            ) from e

    def _sender_refused(self, envelope: Envelope, reply: aiosmtplib.SMTPResponse) -> None:
        error = aiosmtplib.SMTPSenderRefused(reply.code, reply.message, envelope.sender)
        if reply.code >= 500:
            raise SendError(
                f"{self._target.host} refused the sender {envelope.sender}: {_reply(error)}",
                hint="check [mail] from and what the relay allows",
            ) from error
        raise error

    async def _end_of_data(self, payload: bytes) -> None:
        """The prepared payload in one write (see `smtp_payload`), then its reply.

        Uses aiosmtplib's protocol (`write`, `read_response`): its public `data()` runs
        two regular expressions over every message and cannot give the final reply its
        own timeout. pyproject.toml pins aiosmtplib below its next major version for it.
        """
        protocol = self._smtp.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("connection lost")
        protocol.write(payload)
        try:
            reply = await protocol.read_response(timeout=self._data_timeout)
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as e:
            raise UncertainDelivery(
                f"no reply from {self._target.host} within {self._data_timeout:g} s of the "
                "end of the message: it may have been delivered"
            ) from e
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError) as e:
            raise UncertainDelivery(
                f"connection to {self._target.host} lost after the end of the message "
                f"({e}): it may have been delivered"
            ) from e
        if reply.code != 250:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)

    async def _refused(self, error: aiosmtplib.SMTPResponseException, stage: str) -> DeliveryError:
        """Classify a reply and reset the transaction so the connection can go on."""
        broken = error.code == 421
        if not broken:
            try:
                await self._smtp.rset()
            except (aiosmtplib.SMTPException, ConnectionError, TimeoutError):
                broken = True
        reply = Reply(error.code, error.message, stage)
        if 500 <= error.code < 600:
            return PermanentFailure(str(reply), reply=reply, broken=broken)
        return TransientFailure(str(reply), reply=reply, broken=broken)

    async def close(self) -> None:
        try:
            if self._smtp.is_connected:
                await self._smtp.quit(timeout=2)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            self._smtp.close()


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
                    f"{self.target.host} refused the login as {user!r}: {_reply(e)}",
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
                return SendError(f"{where} refused the session: {_reply(error)}")
            return RelayUnavailable(f"{where} answered {_reply(error)}")
        if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
            return RelayUnavailable(f"{where} did not answer in time")
        if isinstance(error, aiosmtplib.SMTPNotSupported):
            return SendError(f"{where}: {error}")
        reason = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
        return RelayUnavailable(f"cannot connect to {where}: {reason}")


def maildir_path(url: str, base_dir: Path) -> Path:
    path = Path(url[len("maildir:") :]).expanduser()
    if not str(path) or str(path) == ".":
        raise ConfigError("[mail] transport: maildir: needs a folder, e.g. maildir:./outbox")
    return path if path.is_absolute() else (base_dir / path)


def check_transport_url(url: str) -> None:
    """Raise ConfigError for a transport URL no transport can be opened for."""
    if url.startswith("maildir:"):
        maildir_path(url, Path("."))
        return
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme in ("smtp", "smtps"):
        parse_smtp_url(url)
        return
    raise ConfigError(
        f"[mail] transport: unsupported transport {scheme or url!r}",
        hint="use maildir:PATH, smtp://[user@]host[:port] or smtps://[user@]host[:port]",
    )


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
