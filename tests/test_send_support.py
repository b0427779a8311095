"""Helpers for the sender's tests: a real aiosmtpd server that injects failures, and a
prepared site (config, database with the sample English articles) copied per test."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import shutil
import sqlite3
import ssl
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner

from digest.cli import cli
from tests import backends
from tests.conftest import SAMPLE_INIT

SAMPLE_EN = (
    Path(__file__).resolve().parent.parent / "digest" / "data" / "sample" / "arabpress-en.xml"
)
DAY = "2025-06-04"


@dataclass
class Received:
    sender: str
    recipient: str
    content: bytes
    mail_options: list[str]

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class FaultyHandler:
    """An MTA that answers like real ones do when things go wrong.

    - `soft[address] = n`: 451 to RCPT for the first n tries of that address;
    - `hard`: addresses answered 550 at RCPT; `hard_data`: 554 after the message;
    - `drop[address] = n`: the connection is cut at RCPT (before DATA) for the first n
      tries of that address: the message is *not* delivered;
    - `cut_after_dot`: addresses whose message is kept, then the connection is cut
      instead of the reply to the final "." (the sender cannot know it arrived);
    - `data_delay`: seconds before the reply to the final "." (the message is kept);
    - `rcpt_reply` / `data_reply`: answer every RCPT / end of DATA with this line;
    - `rcpt_quota` / `quota_reply`: once `rcpt_quota` RCPTs were accepted (across all
      connections), answer every later RCPT with `quota_reply`, as a relay's daily
      sending quota does;
    - `mail_reply`: answer MAIL with this line (the first `mail_reply_limit` MAIL
      commands when that is set, every one otherwise);
    - `close_after`: after that many messages on one connection, answer the next MAIL
      with `421 4.7.0` and close the connection;
    - `on_message(received)`: called in the server's thread after each delivery;
    - `pipelining`: offer RFC 2920 PIPELINING in the EHLO reply (aiosmtpd reads
      pipelined commands in order either way; only the sender's behaviour changes).
    """

    soft: dict[str, int] = field(default_factory=dict)
    hard: set[str] = field(default_factory=set)
    hard_data: set[str] = field(default_factory=set)
    drop: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    cut_after_dot: set[str] = field(default_factory=set)
    data_delay: float = 0.0
    rcpt_reply: str | None = None
    data_reply: str | None = None
    mail_reply: str | None = None
    mail_reply_limit: int = 0
    rcpt_quota: int = 0
    quota_reply: str = "554 5.4.6 daily sending quota exceeded"
    rcpts_accepted: int = 0
    close_after: int = 0
    pipelining: bool = False
    on_message: Callable[[Received], None] | None = None
    on_data: Callable[[str], None] | None = None
    received: list[Received] = field(default_factory=list)
    tries: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    mails_refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        accepted = getattr(session, "accepted", 0)
        if self.close_after and accepted >= self.close_after:
            transport = server.transport
            assert transport is not None
            asyncio.get_running_loop().call_later(0.05, transport.close)
            return "421 4.7.0 Too many messages on this connection, closing"
        if self.mail_reply is not None:
            with self.lock:
                refuse = not self.mail_reply_limit or self.mails_refused < self.mail_reply_limit
                self.mails_refused += refuse
            if refuse:
                return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.tries[address] += 1
            tries = self.tries[address]
            dropped = self.drop.get(address, 0)
            if dropped:
                self.drop[address] = dropped - 1
        if dropped:
            assert server.transport is not None
            server.transport.abort()
            return "250 never seen"
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        if address in self.hard:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if tries <= self.soft.get(address, 0):
            return "451 4.7.1 greylisted, try again later"
        if self.rcpt_quota:
            with self.lock:
                over = self.rcpts_accepted >= self.rcpt_quota
                self.rcpts_accepted += not over
            if over:
                return self.quota_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        address = envelope.rcpt_tos[0]
        if self.on_data is not None:
            self.on_data(address)
        if self.data_reply is not None:
            return self.data_reply
        if address in self.hard_data:
            return "554 5.6.0 message rejected"
        received = Received(
            str(envelope.mail_from),
            address,
            bytes(envelope.original_content or envelope.content or b""),
            list(envelope.mail_options),
        )
        with self.lock:
            self.received.append(received)
        if self.on_message is not None:
            self.on_message(received)
        session.accepted = getattr(session, "accepted", 0) + 1  # type: ignore[attr-defined]
        if address in self.cut_after_dot:
            assert server.transport is not None
            server.transport.abort()
            return "250 never seen"
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 2.0.0 queued"

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(message.recipient for message in self.received)


class SmtpServer:
    """aiosmtpd on 127.0.0.1, port 0, in its own thread and event loop.

    `SmtpServer.pipelining = True` (a test module's fixture sets it) makes every
    `FaultyHandler` served offer PIPELINING, so the same tests cover both send paths.
    """

    pipelining = False

    def __init__(
        self,
        handler: Any,
        *,
        smtputf8: bool = False,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        logins: dict[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._options = dict(
            enable_SMTPUTF8=smtputf8,
            hostname="sink.test",
            tls_context=None if implicit_tls else tls_context,
            auth_require_tls=True,
            auth_required=bool(logins),
            authenticator=_authenticator(logins) if logins else None,
        )
        self._ssl = tls_context if implicit_tls else None

    def __enter__(self) -> SmtpServer:
        if self.pipelining and isinstance(self.handler, FaultyHandler):
            self.handler.pipelining = True
        self._thread.start()

        async def start() -> asyncio.AbstractServer:
            return await self._loop.create_server(
                lambda: SMTP(self.handler, **self._options),  # type: ignore[arg-type]
                "127.0.0.1",
                0,
                ssl=self._ssl,
            )

        self._server = asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def _authenticator(logins: dict[str, str]) -> Callable[..., AuthResult]:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            return AuthResult(success=logins.get(user) == password, handled=False)
        return AuthResult(success=False, handled=False)

    return authenticate


def run_digest(folder: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """`digest --config folder/digest.toml ARGS` in-process, no DIGEST_* from outside."""
    clean = {name: None for name in os.environ if name.startswith("DIGEST_")}
    clean.pop("DIGEST_TEST_POSTGRES_URL", None)
    runner = CliRunner()
    return runner.invoke(
        cli,
        ["--config", str(folder / "digest.toml"), *args],
        env={**clean, **(env or {})},
        catch_exceptions=False,
    )


def make_template(folder: Path, backend: str = "sqlite") -> Path:
    """digest init + the sample English feed: the start of most sender tests. On
    PostgreSQL the database's URL is written into folder/digest.toml."""
    env = {}
    if backend != "sqlite":
        env["DIGEST_DATABASE_URL"] = backends.current().create(backend, folder, migrated=True)
    for args in (["init", *SAMPLE_INIT], ["ingest", str(SAMPLE_EN)]):
        result = run_digest(folder, *args, env=env)
        assert result.exit_code == 0, result.output
    if env:
        backends.use_database(folder, env["DIGEST_DATABASE_URL"])
    return folder


def copy_site(template: Path, folder: Path) -> Path:
    """The template's config and key, and a consistent copy of its database."""
    for name in ("digest.toml", "secret.key"):
        shutil.copy2(template / name, folder / name)
    source = backends.database_of(template)
    if source.startswith("sqlite"):
        with (
            closing(sqlite3.connect(template / "digest.db")) as original,
            closing(sqlite3.connect(folder / "digest.db")) as copy,
        ):
            original.backup(copy)
    else:
        backends.use_database(folder, backends.current().clone(source, folder))
    return folder


def set_mail(folder: Path, **values: Any) -> None:
    """Change keys of [mail] in folder/digest.toml (other sections untouched)."""
    path = folder / "digest.toml"
    section = ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        header = re.match(r"\[(\w+)\]", line)
        if header:
            section = header.group(1)
        key = line.split("=", 1)[0].strip()
        if section == "mail" and key in values and "=" in line and not line.startswith("#"):
            line = f"{key} = {_toml(values.pop(key))}"
        lines.append(line)
    assert not values, f"no such [mail] keys: {values}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def add_subscribers(
    folder: Path, addresses: list[str], language: str = "en", *, names: dict[str, str] | None = None
) -> None:
    """Insert active subscribers straight into the database (fast for dozens)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {"email": a, "name": (names or {}).get(a, ""), "language": language,
         "smtputf8": not a.split("@")[0].isascii(), "now": now}
        for a in addresses
    ]  # fmt: skip
    with _engine(folder) as engine, engine.begin() as db:
        db.execute(
            sa.text(
                "insert into subscribers (email, name, language, sections, timezone, status,"
                " smtputf8, bounce_count, created_at, updated_at)"
                " values (:email, :name, :language, '', 'UTC', 'active', :smtputf8, 0, :now, :now)"
            ),
            rows,
        )


def query(folder: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`?` placeholders) on the folder's database, SQLite or PostgreSQL."""
    with _engine(folder) as engine, engine.begin() as db:
        if engine.dialect.name != "sqlite":
            sql = sql.replace("%", "%%").replace("?", "%s")
        result = db.exec_driver_sql(sql, tuple(params))
        return [tuple(row) for row in result] if result.returns_rows else []


@contextmanager
def _engine(folder: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(backends.database_of(folder), poolclass=sa.NullPool)
    try:
        yield engine
    finally:
        engine.dispose()


def delivery_states(folder: Path) -> dict[str, tuple[str, int]]:
    """email -> (status, attempts) of every delivery."""
    rows = query(
        folder,
        "select s.email, d.status, d.attempts from deliveries d"
        " join subscribers s on s.id = d.subscriber_id",
    )
    return {address: (status, attempts) for address, status, attempts in rows}
