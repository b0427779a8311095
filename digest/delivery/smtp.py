"""One SMTP session, reused for many messages, and its reply handling.

aiosmtplib sets the session up (greeting, EHLO, STARTTLS, AUTH); the transactions then
go over `digest.delivery.replies.ReplyReader`, which can read pipelined replies.

Every failure leaves as a `DeliveryError` of one kind (see `digest.delivery.classify`):
a reply refused at RCPT or DATA, a transient failure before the final ".", or an
`UncertainDelivery` when the reply to the final "." never comes.
"""

from __future__ import annotations

import asyncio
import ssl

import aiosmtplib

from digest.delivery.classify import DATA, END_OF_DATA, MAIL, RCPT, Reply
from digest.delivery.replies import ReplyReader
from digest.transport import (
    DeliveryError,
    Envelope,
    Interrupted,
    PermanentFailure,
    ReadyStep,
    TransientFailure,
    UncertainDelivery,
)
from digest.transport_urls import SmtpTarget


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


class Refusal(aiosmtplib.SMTPResponseException):
    """A reply refusing the command sent at `stage` (see `digest.delivery.classify`)."""

    def __init__(self, code: int, message: str, stage: str) -> None:
        super().__init__(code, message)
        self.stage = stage


class SmtpConnection:
    """One authenticated SMTP session, reused for many messages.

    Replies are waited for `timeout` seconds, except the reply to the final ".", which
    gets `data_timeout` (RFC 5321 §4.5.3.2.6): once the message is handed over, a lost
    reply means "perhaps delivered" (`UncertainDelivery`), never "try again".

    When the relay offers PIPELINING (RFC 2920), MAIL and RCPT go in one write and
    their replies are read together. The "before DATA" step (`ready`) runs while MAIL
    and RCPT travel, and DATA is written only once it is done (which is why DATA is not
    in that group). No RSET between messages: a completed transaction ends there
    (RFC 5321 §4.1.1.4); RSET follows only a refused one.
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
        self._pipelining = smtp.supports_extension("pipelining")
        self._smtputf8 = smtp.supports_extension("smtputf8")
        self._size = smtp.supports_extension("size")
        transport = smtp.protocol.transport if smtp.protocol is not None else None
        if transport is None:
            raise TransientFailure(f"connection to {target.host} lost", broken=True)
        self._io = ReplyReader(transport)  # type: ignore[arg-type]
        #: The current message's final "." is written: it may be in the relay's queue.
        self._handed_over = False
        self._stopping = False

    def interrupt(self, grace: float) -> None:
        """Stop: a transaction before its final "." is abandoned (`Interrupted`); the
        reply to a written "." gets at most `grace` more seconds, then the delivery is
        `UncertainDelivery` as when any reply to "." is lost. Never resends."""
        self._stopping = True
        if self._handed_over:
            self._io.expire_within(grace)
        else:
            self._io.interrupt()

    async def send(
        self, envelope: Envelope, message: bytes, ready: ReadyStep | None = None
    ) -> None:
        if self._stopping:
            raise Interrupted("stopping")  # no new transaction once the run stops
        mail = b"MAIL FROM:" + _mailbox(envelope.sender, envelope)
        if envelope.smtputf8:
            if not self._smtputf8:
                # RFC 6531 §3.2 forbids sending it here; no retry on this relay can help.
                raise PermanentFailure(
                    f"5.6.7 the address needs SMTPUTF8, which {self._target.host} does not "
                    "offer (RFC 6531)",
                    breaker=False,
                )
            mail += b" SMTPUTF8"
        payload = smtp_payload(message)
        if self._size:
            mail += b" SIZE=%d" % (len(payload) - 3)
        rcpt = b"RCPT TO:" + _mailbox(envelope.recipient, envelope) + b"\r\n"
        mail += b"\r\n"
        stage = MAIL
        self._handed_over = False
        try:
            await self._envelope(envelope, mail, rcpt, ready)
            stage = DATA
            self._io.write(b"DATA\r\n")
            self._check(DATA, await self._io.read(self._timeout))
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

    async def _envelope(
        self, envelope: Envelope, mail: bytes, rcpt: bytes, ready: ReadyStep | None
    ) -> None:
        """MAIL and RCPT, while the "before DATA" step commits; both done on return.

        With PIPELINING (RFC 2920 §3.1) MAIL and RCPT go in one write and both replies
        are read; without it, one command per round trip. The step runs alongside, so
        its commit costs no time of its own when the relay is slow to answer; it is
        always awaited, even after a refusal, so that its `sending` mark never lands
        after the refusal's outcome.
        """
        io, timeout = self._io, self._timeout
        marking = asyncio.ensure_future(ready()) if ready is not None else None
        try:
            if self._pipelining:
                io.write(mail + rcpt)
                mail_reply = await io.read(timeout)
                rcpt_reply = await io.read(timeout)
                self._check(MAIL, mail_reply)
                self._check(RCPT, rcpt_reply)
            else:
                io.write(mail)
                self._check(MAIL, await io.read(timeout))
                io.write(rcpt)
                self._check(RCPT, await io.read(timeout))
        finally:
            if marking is not None:
                await marking

    def _check(self, stage: str, reply: aiosmtplib.SMTPResponse) -> None:
        """Raise the refusal of a reply that is not the one wanted at `stage`.

        A refusal at MAIL goes through the same classification as any other (a 5xx
        there refuses the sender or the relay, a 4xx is transient): one such reply
        fails that delivery, the same one for many recipients in a row trips the
        circuit breaker.
        """
        wanted = {MAIL: (250,), RCPT: (250, 251), DATA: (354,)}[stage]
        if reply.code in wanted:
            return
        raise Refusal(reply.code, reply.message, stage)

    async def _end_of_data(self, payload: bytes) -> None:
        """The prepared payload in one write (see `smtp_payload`), then its reply."""
        io = self._io
        io.write(payload)
        self._handed_over = True
        try:
            reply = await io.read(self._data_timeout)
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as e:
            waited = (
                "before the run stopped"
                if self._stopping
                else (f"within {self._data_timeout:g} s of the end of the message")
            )
            raise UncertainDelivery(
                f"no reply from {self._target.host} {waited}: it may have been delivered"
            ) from e
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError) as e:
            raise UncertainDelivery(
                f"connection to {self._target.host} lost after the end of the message "
                f"({e}): it may have been delivered"
            ) from e
        if reply.code != 250:
            raise Refusal(reply.code, reply.message, END_OF_DATA)

    async def _refused(self, error: aiosmtplib.SMTPResponseException, stage: str) -> DeliveryError:
        """Classify a reply and reset the transaction so the connection can go on."""
        if isinstance(error, Refusal):
            stage = error.stage
        broken = error.code == 421
        if not broken:
            try:
                self._io.write(b"RSET\r\n")
                broken = (await self._io.read(self._timeout)).code != 250
            except (aiosmtplib.SMTPException, ConnectionError, TimeoutError, Interrupted):
                broken = True
        reply = Reply(error.code, error.message, stage)
        if 500 <= error.code < 600:
            return PermanentFailure(str(reply), reply=reply, broken=broken)
        return TransientFailure(str(reply), reply=reply, broken=broken)

    async def close(self) -> None:
        try:
            if self._io.connected and not self._io.interrupted:
                self._io.write(b"QUIT\r\n")
                await self._io.read(2)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            self._io.close()
            self._smtp.close()
