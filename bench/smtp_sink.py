"""An SMTP sink for benchmarks: aiosmtpd in its own process, accepting everything.

    python bench/smtp_sink.py [--port 0] [--delay 0.02] [--line-by-line]

Prints `PORT <n>` when it listens; on SIGTERM or SIGINT prints one JSON line with what
it received (messages, distinct recipients, duplicates, bytes) and exits. `--delay` holds
every reply to MAIL, RCPT and end-of-DATA that long, standing in for a relay across a
network. It offers PIPELINING (RFC 2920) as Postfix and Exim do; `--no-pipelining`
leaves it out.

aiosmtpd reads a message a line at a time, about a millisecond of Python for a 30 KB
digest: the sink, not the sender, would be what a benchmark measures. So this sink reads
the message in bulk (same protocol, same replies, dots unstuffed alike);
`--line-by-line` keeps aiosmtpd's own reader.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections import Counter
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

TERMINATOR = b"\r\n.\r\n"


class Sink:
    def __init__(self, delay: float, pipelining: bool = True) -> None:
        self.delay = delay
        self.pipelining = pipelining
        self.messages = 0
        self.octets = 0
        self.recipients: Counter[str] = Counter()

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages += 1
        self.octets += len(envelope.original_content or b"")
        self.recipients.update(envelope.rcpt_tos)
        return "250 OK queued"

    def stats(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "recipients": len(self.recipients),
            "duplicates": sum(count - 1 for count in self.recipients.values()),
            "octets": self.octets,
        }


class BulkDataSMTP(SMTP):
    """aiosmtpd with DATA read in chunks up to the terminating dot line."""

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed():
            return
        assert self.envelope is not None and self.session is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = bytearray(b"\r\n")  # so a message that is only the dot line ends too
        while not data.endswith(TERMINATOR):
            chunk = await self._reader.read(1 << 17)
            if not chunk:
                return  # connection closed mid-message: nothing was delivered
            data += chunk
        content = bytes(data[2:-3]).replace(b"\r\n..", b"\r\n.")
        if content.startswith(b".."):
            content = content[1:]
        self.envelope.content = self.envelope.original_content = content
        status = await self.event_handler.handle_DATA(self, self.session, self.envelope)
        self.envelope = self._create_envelope()
        await self.push(status)


async def serve(port: int, delay: float, line_by_line: bool, pipelining: bool) -> None:
    sink = Sink(delay, pipelining)
    loop = asyncio.get_running_loop()
    protocol = SMTP if line_by_line else BulkDataSMTP
    server = await loop.create_server(
        lambda: protocol(sink, hostname="sink.bench", enable_SMTPUTF8=True),  # type: ignore[arg-type]
        "127.0.0.1",
        port,
        backlog=1024,
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    print(json.dumps(sink.stats()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--line-by-line", action="store_true", help="aiosmtpd's DATA reader")
    parser.add_argument("--no-pipelining", action="store_true", help="do not offer PIPELINING")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.delay, args.line_by_line, not args.no_pipelining))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
