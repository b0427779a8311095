"""Pipelined replies over a real loopback socket: every reply kept, in order (RFC 2920)."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest

from digest.delivery.replies import MAX_TEXT, ReplyReader


async def _read_all(chunks: list[bytes], count: int) -> list[aiosmtplib.SMTPResponse]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    transport, _protocol = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    replies = ReplyReader(transport)
    try:
        return [await replies.read(5) for _ in range(count)]
    finally:
        replies.close()
        server.close()


def test_replies_arriving_together_or_split_are_all_read_in_order() -> None:
    chunks = [b"250 2.1.0 sender ok\r\n250-2.1.5 recipient\r\n250 2.1.5 ok\r\n35", b"4 go on\r\n"]
    replies = asyncio.run(_read_all(chunks, 3))
    assert replies == [
        (250, "2.1.0 sender ok"),
        (250, "2.1.5 recipient\n2.1.5 ok"),
        (354, "go on"),
    ]


def test_a_line_that_is_not_a_reply_loses_the_connection() -> None:
    with pytest.raises(aiosmtplib.SMTPServerDisconnected, match="not an SMTP reply"):
        asyncio.run(_read_all([b"250 ok\r\nHTTP/1.1 400 Bad Request\r\n"], 2))


def test_a_closed_connection_is_reported_after_the_replies_it_sent() -> None:
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        asyncio.run(_read_all([b"250 ok\r\n"], 2))


def test_reply_text_is_made_printable_and_bytes_that_are_not_utf8_are_replaced() -> None:
    chunks = [b"550 5.1.1 user \xff unknown\r\n", b"554 5.7.1 \x1b]0;pwned\x07denied\r\n"]
    replies = asyncio.run(_read_all(chunks, 2))
    assert replies == [(550, "5.1.1 user \ufffd unknown"), (554, "5.7.1 ]0;pwned denied")]


def test_a_long_reply_is_cut() -> None:
    [reply] = asyncio.run(_read_all([b"550 " + b"x" * 5000 + b"\r\n"], 1))
    assert reply.message == "x" * MAX_TEXT


def test_a_multi_line_reply_mixing_codes_loses_the_connection() -> None:
    """RFC 5321 §4.2.1: every line repeats the code. "554-5.7.1 no" then "250 ok" is
    neither a refusal nor an acceptance to act on."""
    with pytest.raises(aiosmtplib.SMTPServerDisconnected, match="mixing codes 554 and 250"):
        asyncio.run(_read_all([b"554-5.7.1 you are not welcome\r\n250 ok\r\n"], 1))
