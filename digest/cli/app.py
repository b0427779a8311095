"""The context object every command receives, lazy command loading, and the error
handling around every command.

Nothing here imports SQLAlchemy or the pipeline at module level: `digest --help` and
every command's start-up pay only for what that command uses.
"""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from digest.config import Settings, load_settings
from digest.errors import DigestError, ExitCode
from digest.stopping import StopRequest
from subscribers.errors import SubscriberError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from digest.db import Database


#: What a --limit accepts: more rows than anyone reads, and far below the 64-bit integers
#: SQL takes (a larger number reached the database as an OverflowError).
LIMIT = click.IntRange(min=1, max=10_000)


class App:
    """What every command receives: settings and database, opened on first use."""

    def __init__(self, config: Path | None, db_url: str | None, verbose: int, quiet: bool) -> None:
        self.config = config
        self.db_url = db_url
        self.verbose = verbose
        self.quiet = quiet
        self._settings: Settings | None = None
        self._db: Database | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None or overrides:
            options = {"database.url": self.db_url, **overrides}
            self._settings = load_settings(self.config, overrides=options)
        return self._settings

    def db(self) -> Database:
        if self._db is None:
            from digest.db import open_database

            self._db = open_database(self.settings())
        return self._db

    # The protocol `subscribers.cli` relies on (it cannot import digest).
    def session(self) -> AbstractContextManager[Session]:
        return self.db().session()

    @property
    def languages(self) -> tuple[str, ...]:
        return self.settings().site.languages

    def sections(self) -> tuple[str, ...] | None:
        """Section names subscribers may choose; None while no article or feed names one."""
        from digest.pipeline import known_sections

        with self.session() as session:
            return known_sections(session) or None

    def now(self) -> datetime:
        return datetime.now(UTC)

    def request_confirmation(self, fields: Any) -> Any:
        """Store `fields` (SubscriberFields) pending and mail a confirmation link."""
        from digest.signup import request_confirmation

        return request_confirmation(self.db(), self.settings(), fields, now=self.now())

    def progress(self) -> bool:
        return not self.quiet and sys.stderr.isatty()

    def info(self, message: str) -> None:
        if not self.quiet:
            click.echo(message)

    def warn(self, message: str) -> None:
        click.echo(f"warning: {message}", err=True)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


pass_app = click.make_pass_decorator(App)


class UserError(click.ClickException):
    """A library error shown as one line, with the library's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it a ClassVar

    def show(self, file: Any = None) -> None:
        click.echo(f"digest: error: {self.format_message()}", err=True)


#: Library fields and settings as this command line spells them (errors name fields).
FLAGS = {
    "date": "--date",
    "language": "--lang",
    "at": "--at",
    "timezone": "--tz",
    "since": "--since",
    "format": "--format",
    "source": "--source",
}


def error_line(error: Exception) -> str:
    """The error as one line, its field (if any) shown as the option that sets it."""
    field = getattr(error, "field", None)
    if isinstance(error, DigestError) and field:
        return f"{FLAGS.get(field, field)}: {error.detail}"
    return str(error)


class LazyGroup(click.Group):
    """A group whose subcommands are imported when first needed (the pattern from click's
    documentation, "Lazily Loading Subcommands").

    `lazy_commands` maps a command name to "module:attribute"; commands added with
    `add_command` or the `command` decorator work as in any group.
    """

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            command = self._load(cmd_name)
            self.add_command(command, cmd_name)
        return command

    def _load(self, name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[name]} is not a click command")
        return command


class DigestGroup(LazyGroup):
    """Turns the project's exceptions into one clear line; `-v` adds the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DigestError, SubscriberError) as e:
            if isinstance(ctx.obj, App) and ctx.obj.verbose:
                traceback.print_exc()
            raise UserError(error_line(e), int(getattr(e, "exit_code", ExitCode.ERROR))) from e
        except Exception as e:
            if type(e).__module__ != "sqlalchemy.exc":
                raise
            from digest.db import database_error  # a lost server, a cancelled statement

            if isinstance(ctx.obj, App) and ctx.obj.verbose:
                traceback.print_exc()
            raise UserError(str(database_error(e)), ExitCode.ERROR) from e


@contextmanager
def stop_on_signals(app: App, in_flight: str = "the work in flight") -> Iterator[threading.Event]:
    """SIGINT/SIGTERM ask the command to stop cleanly (finish `in_flight`, give the rest
    back, e.g. leases); a second signal stops at once (a send: with what it handed over
    recorded, see `digest.stopping`), a third aborts."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: Any) -> None:
        if stop.is_set():
            if stop.can_hurry and not stop.hurried.is_set():
                stop.hurried.set()
                app.warn(f"{signal.Signals(signum).name}: stopping now (again to abort)")
                return
            raise KeyboardInterrupt
        stop.set()
        app.warn(f"{signal.Signals(signum).name}: stopping after {in_flight}")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _masked_source(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from digest.ingest.fetch import display_url

    if value is not None and not value.strip():
        raise click.BadParameter("is empty: give a feed URL or file", param=param)
    return display_url(value) if value else None  # as stored, and shown: masked


#: `--source` of a command that acts on one article by GUID: a guid is unique within
#: one source only (`articles.article_by_guid`).
source_option = click.option(
    "--source",
    callback=_masked_source,
    help="The article's source (feed URL or file, as 'digest articles list --json' "
    "shows it), when several sources use GUID.",
)


def counted(number: int, one: str, many: str) -> str:
    """`number` with the noun that agrees with it: "1 top story", "8 top stories"."""
    return f"{number} {one if number == 1 else many}"


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@contextmanager
def progress(app: App, total: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silent otherwise. Yields an `advance()` callable."""
    if app.progress() and total > 1:
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield lambda: bar.update(1)
    else:
        yield lambda: None
