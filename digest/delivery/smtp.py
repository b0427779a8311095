"""One SMTP session over aiosmtplib, reused for many messages, and its reply handling.

Every failure leaves as a `DeliveryError` of one kind (see `digest.delivery.classify`):
a reply refused at RCPT or DATA, a transient failure before the final ".", or an
`UncertainDelivery` when the reply to the final "." never comes.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable

import aiosmtplib

from digest.delivery.classify import DATA, END_OF_DATA, MAIL, RCPT, Reply
from digest.errors import SendError
from digest.transport import (
    DeliveryError,
    Envelope,
    PermanentFailure,
    SmtpTarget,
    TransientFailure,
    UncertainDelivery,
    reply_text,
)


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
                f"{self._target.host} refused the sender {envelope.sender}: {reply_text(error)}",
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
