"""SMTP replies read off the connection once the session is set up, pipelined or not.

aiosmtplib sets the session up (greeting, EHLO, STARTTLS, AUTH); then this protocol
takes over the transport (`asyncio.BaseTransport.set_protocol`, public asyncio API).
aiosmtplib's own protocol keeps at most one reply and drops what arrives before it is
picked up, so it cannot read the several replies of an RFC 2920 PIPELINING group. Here
every complete reply is queued in arrival order and `read` takes them one at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque

import aiosmtplib

from digest.transport import Interrupted

#: Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512 octets; relays exceed it).
MAX_LINE = 8192
#: Longest reply text kept (characters): it is printed and stored with the delivery.
MAX_TEXT = 1000


def reply_text(line: bytes) -> str:
    """A reply line's text as it may be printed and stored: bytes that are not UTF-8
    become U+FFFD (a relay's text is not ours to trust: one byte of Latin-1 must not
    stop a run), and control characters (a terminal's escape sequences) become spaces."""
    text = line.decode("utf-8", "replace")
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


class ReplyReader(asyncio.Protocol):
    """Queues the server's replies as `aiosmtplib.SMTPResponse` (code, text).

    `read(timeout)` returns the next reply; it raises `TimeoutError` when none comes
    within `timeout` seconds and `aiosmtplib.SMTPServerDisconnected` when the connection
    was lost or the server sent something that is not an SMTP reply. After
    `interrupt()`, a pending or later `read` and any `write` raise `Interrupted`.
    A multi-line reply whose lines carry different codes breaks RFC 5321 §4.2.1: it is
    not guessed at, the connection is treated as lost. Reply texts are made printable
    (`reply_text`) and cut to `MAX_TEXT` characters.
    """

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport
        self._buffer = bytearray()
        self._lines: list[str] = []
        #: The code of the multi-line reply being read (each line must repeat it).
        self._code: bytes | None = None
        self._replies: deque[aiosmtplib.SMTPResponse] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._lost: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.interrupted = False
        transport.set_protocol(self)

    @property
    def connected(self) -> bool:
        return self._lost is None and not self.transport.is_closing()

    def write(self, data: bytes) -> None:
        if self.interrupted:
            raise Interrupted("stopping")
        if not self.connected:
            raise aiosmtplib.SMTPServerDisconnected(f"connection lost ({self._lost})")
        self.transport.write(data)

    async def read(self, timeout: float | None) -> aiosmtplib.SMTPResponse:
        if self.interrupted:
            raise Interrupted("stopping")
        if not self._replies:
            if self._lost is not None:
                raise aiosmtplib.SMTPServerDisconnected(f"connection lost ({self._lost})")
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            # A plain timer, not `asyncio.wait_for`: this runs three times per message
            # and wait_for costs a wrapper future and callbacks each time.
            self._timer = loop.call_later(timeout, _expire, waiter) if timeout is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
            if not self._replies:
                raise aiosmtplib.SMTPServerDisconnected(f"connection lost ({self._lost})")
        return self._replies.popleft()

    def interrupt(self) -> None:
        """Stop now: the pending `read` (and every later one) raises `Interrupted`."""
        self.interrupted = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(Interrupted("stopping"))

    def expire_within(self, seconds: float) -> None:
        """Let the pending `read` wait at most `seconds` more (then `TimeoutError`)."""
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._timer is not None:
            if self._timer.when() <= waiter.get_loop().time() + seconds:
                return
            self._timer.cancel()
        self._timer = waiter.get_loop().call_later(seconds, _expire, waiter)

    def close(self) -> None:
        self._lose("closed")
        self.transport.close()

    # -- asyncio.Protocol -------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start, added = 0, False
        while (end := buffer.find(b"\n", start)) != -1:
            line = bytes(buffer[start : end + 1])
            start = end + 1
            code = line[:3]
            if len(line) > MAX_LINE or not code.isdigit() or line[3:4] not in b" -\r\n":
                self._lose(f"not an SMTP reply: {reply_text(line[:80])!r}")
                self.transport.close()
                return
            if self._code is not None and code != self._code:
                self._lose(f"a reply mixing codes {self._code.decode()} and {code.decode()}")
                self.transport.close()
                return
            self._code = code
            self._lines.append(reply_text(line[4:]))
            if line[3:4] != b"-":
                text = "\n".join(self._lines)[:MAX_TEXT]
                self._replies.append(aiosmtplib.SMTPResponse(int(code), text))
                self._lines, self._code = [], None
                added = True
        del buffer[:start]
        if len(buffer) > MAX_LINE:
            self._lose("reply line too long")
            self.transport.close()
            return
        if added:
            self._wake()

    def eof_received(self) -> bool:
        self._lose("the server closed it")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(str(exc) if exc else "the server closed it")

    def _lose(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())
