"""The `digest` command: parse options, call one library function, print the result.

No SQL, SMTP or template work happens here. Library errors become one line on stderr
and an exit code; `-v` adds the traceback for debugging.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from digest import articles as article_queries
from digest import pipeline
from digest.config import DEFAULT_CONFIG_NAME, Settings, load_settings
from digest.db import Database
from digest.errors import DigestError, ExitCode
from digest.views import article_dict, iso, plan_dict
from subscribers.cli import subscribers_group
from subscribers.errors import SubscriberError


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
            self._db = pipeline.open_database(self.settings())
        return self._db

    # The protocol `subscribers.cli` relies on (it cannot import digest).
    def session(self) -> AbstractContextManager[Session]:
        return self.db().session()

    @property
    def languages(self) -> tuple[str, ...]:
        return self.settings().site.languages

    def now(self) -> datetime:
        return pipeline.utc_now()

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
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"digest: error: {self.format_message()}", err=True)


class DigestGroup(click.Group):
    """Turns the project's exceptions into one clear line; `-v` adds the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DigestError, SubscriberError) as e:
            if isinstance(ctx.obj, App) and ctx.obj.verbose:
                traceback.print_exc()
            raise UserError(str(e), int(getattr(e, "exit_code", ExitCode.ERROR))) from e


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="DIGEST_CONFIG",
    help=f"Config file [default: ./{DEFAULT_CONFIG_NAME}; env DIGEST_CONFIG].",
)
@click.option(
    "--db",
    "db_url",
    envvar="DIGEST_DATABASE_URL",
    help="SQLAlchemy database URL [env DIGEST_DATABASE_URL].",
)
@click.option("-v", "--verbose", count=True, help="Show tracebacks and more detail.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.version_option(package_name="newsletter-digest")
@click.pass_context
def cli(
    ctx: click.Context, config: Path | None, db_url: str | None, verbose: int, quiet: bool
) -> None:
    """A daily email digest for a news publication: ingest articles, pick the day's top
    stories and related items, render email-safe HTML and text, deliver exactly once."""
    ctx.obj = App(config, db_url, verbose, quiet)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@pass_app
def init(app: App, force: bool) -> None:
    """Write a commented digest.toml (kept if present) and create or upgrade the database."""
    path = app.config or Path(DEFAULT_CONFIG_NAME)
    result = pipeline.initialise(path, force=force, overrides={"database.url": app.db_url})
    app.info(f"{'wrote' if result.config_written else 'kept existing'} {path}")
    if result.key_created:
        app.info(f"created {result.key_path} (signs unsubscribe tokens; keep it private)")
    app.info(f"database ready: {_safe_url(result.database_url)}")


def _safe_url(url: str) -> str:
    from digest.db import _redact

    return _redact(url)


@cli.command()
@click.argument(
    "directory",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("digest-demo"),
)
@pass_app
def demo(app: App, directory: Path) -> None:
    """Run the whole pipeline on bundled sample data in DIRECTORY (default ./digest-demo).

    Writes a config and database there, ingests the sample feeds, adds sample subscribers,
    writes previews and delivers the edition to DIRECTORY/outbox (a Maildir). Running it
    again delivers nothing twice."""
    from digest.demo import run_demo

    report = run_demo(directory)
    totals = report.ingest.totals()
    app.info(f"demo folder: {report.directory}")
    app.info(
        f"ingested {totals.new} new, {totals.updated} updated, {totals.unchanged} unchanged "
        f"articles; {report.subscribers_added} sample subscribers added"
    )
    for edition in report.languages:
        app.info(
            f"[{edition.language}] {edition.stories} top stories, {edition.related} related "
            f"items: {edition.subject}"
        )
        app.info(f"     preview: {edition.preview_dir}/edition.html, edition.txt, edition.eml")
        if edition.already_sent:
            app.info("     already sent: nobody gets a second copy")
        else:
            app.info(f"     {edition.sent} messages written to {report.maildir}")
    app.info(f"Maildir: {report.maildir}")


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--format",
    "source_format",
    type=click.Choice(["auto", "rss", "atom"]),
    default="auto",
    show_default=True,
    help="Source format (auto: from content).",
)
@click.option("--section", help="Section for every article of these sources.")
@click.option("--lang", "language", help="Language of articles that do not state one.")
@pass_app
def ingest(
    app: App,
    sources: tuple[str, ...],
    source_format: str,
    section: str | None,
    language: str | None,
) -> None:
    """Store articles from feed files or folders of feed files (RSS/Atom).

    Each source is stored in its own transaction: a bad source is reported and leaves
    nothing behind, and does not stop the others."""
    settings = app.settings()
    with _progress(app, len(sources), "ingesting") as advance:
        report = pipeline.ingest(
            app.db(),
            settings,
            sources,
            now=app.now(),
            section=section,
            language=language,
            on_source=lambda _r: advance(),
        )
    for result in report.results:
        c = result.counts
        for warning in c.warnings:
            app.warn(warning)
        if result.error:
            click.echo(f"error: {result.error}", err=True)
        else:
            app.info(
                f"{result.source}: {c.new} new, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.skipped} skipped"
            )
    totals = report.totals()
    app.info(
        f"total: {totals.new} new, {totals.updated} updated, {totals.unchanged} unchanged, "
        f"{totals.skipped} skipped, {len(report.failed)} failed"
    )
    if report.failed:
        sys.exit(ExitCode.ERROR)


@contextmanager
def _progress(app: App, total: int, label: str) -> Iterator[Any]:
    if app.progress() and total > 1:
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield lambda: bar.update(1)
    else:
        yield lambda: None


@cli.group()
def articles() -> None:
    """Inspect stored articles."""


@articles.command("list")
@click.option("--since", help="Only articles published since: 24h, 7d, or an ISO date.")
@click.option("--lang", "language", help="Only articles in this language.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see README).")
@pass_app
def articles_list(app: App, since: str | None, language: str | None, as_json: bool) -> None:
    """List stored articles, newest first."""
    since_at = article_queries.parse_since(since, app.now()) if since else None
    with app.session() as session:
        rows = article_queries.list_articles(session, since=since_at, language=language)
        if as_json:
            _print_json([article_dict(a) for a in rows])
            return
        for a in rows:
            click.echo(f"{iso(a.published_at)}  {a.language}  {a.section or '-':<12} {a.title}")


@cli.command("select")
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today, schedule zone].")
@click.option("--lang", "language", help="Edition language [default: first site language].")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (see README).")
@pass_app
def select_command(app: App, day: str | None, language: str | None, as_json: bool) -> None:
    """Show the edition plan: top stories and related items. Changes nothing."""
    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    with app.session() as session:
        plan = pipeline.plan(session, settings, edition_day, language or settings.site.languages[0])
        if as_json:
            _print_json(plan_dict(plan))
            return
        if plan.is_empty:
            click.echo(
                f"nothing to send: no {plan.language} articles between "
                f"{iso(plan.window.start)} and {iso(plan.window.end)}"
            )
            return
        click.echo(
            f"edition {plan.date} [{plan.language}], window {iso(plan.window.start)} .. "
            f"{iso(plan.window.end)}"
        )
        for number, story in enumerate(plan.stories, 1):
            click.echo(
                f"{number:2}. [{story.article.section or '-'}] {story.article.title} "
                f"(score {story.score})"
            )
            for item in story.related:
                click.echo(f"      related {item.similarity:.2f}: {item.article.title}")


@cli.command()
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today].")
@click.option("--lang", "language", help="Edition language [default: first site language].")
@click.option("--subscriber", "subscriber_email", help="Personalise for this subscriber.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("preview"),
    show_default=True,
    help="Folder for the files.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the HTML in a browser.")
@pass_app
def preview(
    app: App,
    day: str | None,
    language: str | None,
    subscriber_email: str | None,
    out_dir: Path,
    open_browser: bool,
) -> None:
    """Write edition.html, edition.txt and edition.eml: exactly what a subscriber gets."""
    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    result = pipeline.preview(
        app.db(),
        settings,
        edition_day,
        language or settings.site.languages[0],
        out_dir,
        now=app.now(),
        subscriber_email=subscriber_email,
    )
    state = "frozen edition" if result.frozen else "plan (not frozen yet)"
    app.info(f"{result.subject}  [{state}, {result.stories} top stories]")
    for path in result.paths.values():
        click.echo(str(path))
    if open_browser:
        click.launch(str(result.paths["html"]))


@cli.command()
@click.option("--date", "day", help="Edition date YYYY-MM-DD [default: today].")
@click.option("--lang", "language", help="Only this language [default: every site language].")
@pass_app
def send(app: App, day: str | None, language: str | None) -> None:
    """Freeze the edition and deliver it once to every active subscriber of its language.

    Safe to rerun: a finished edition sends nothing; an interrupted one is completed."""
    settings = app.settings()
    edition_day = pipeline.parse_day(day, settings, app.now())
    languages = [language] if language else list(settings.site.languages)
    partial = False
    for lang in languages:
        report = pipeline.send(app.db(), settings, edition_day, lang)
        if report.nothing_to_send:
            app.info(f"{report.edition}: nothing to send (no articles in the window)")
        elif report.already_sent:
            app.info(f"{report.edition}: already sent, nothing to do")
        else:
            r = report.result
            app.info(
                f"{report.edition}: {r.sent} sent, {r.failed} failed, {r.skipped} skipped, "
                f"{report.remaining} remaining"
            )
            for email, error in r.failures:
                click.echo(f"failed: {email}: {error}", err=True)
            partial = partial or report.partial
    if partial:
        sys.exit(ExitCode.PARTIAL)


cli.add_command(subscribers_group)


def main() -> None:
    """Console entry point."""
    cli(prog_name="digest")
