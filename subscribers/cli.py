"""`digest subscribers ...`: parse options, call one store function, print the result.

The group's context object (built by the host program) provides `session()`, `languages`,
`sections()`, `now()`, `progress()`, `info()`, `warn()` and `request_confirmation(fields)`
(store pending and mail a confirmation link); this package never imports
`digest`. Library errors propagate to the host, which prints one line and exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from subscribers import export as exporter
from subscribers.errors import ImportFailed, RowProblem
from subscribers.status import STATUSES, SUPPRESSED

if TYPE_CHECKING:
    from subscribers.importer import ImportReport, Progress

# SQLAlchemy and the store load inside each command (`from subscribers import store`),
# so that starting `digest` stays fast.

deliverability_option = click.option(
    "--check-deliverability",
    is_flag=True,
    help="Also look up each address's domain in DNS (slow; off by default).",
)
status_option = click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
language_option = click.option("--lang", "language", help="Only this language.")


def _site_language(app: Any, language: str | None) -> str | None:
    """--lang as `add` reads it (one of the site's languages, any case), or None: a
    language the site does not have is refused, not answered with an empty list."""
    from subscribers.validation import check_language

    return None if language is None else check_language(language, app.languages)


@click.group("subscribers")
def subscribers_group() -> None:
    """Manage the audience: add, change, list, import and export subscribers."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", help="Name used in the greeting (plain text).")
@click.option("--lang", "language", help="Edition language [default: first site language].")
@click.option("--sections", help="Comma-separated sections of interest (empty: all).")
@click.option(
    "--tz", "timezone", help="IANA time zone, e.g. Asia/Riyadh [default: none, the site's]."
)
@click.option(
    "--pending",
    is_flag=True,
    help="Do not activate: store pending and email a confirmation link (double opt-in).",
)
@deliverability_option
@click.pass_obj
def add_command(
    app: Any,
    email: str,
    name: str | None,
    language: str | None,
    sections: str | None,
    timezone: str | None,
    pending: bool,
    check_deliverability: bool,
) -> None:
    """Add an active subscriber; an existing one is updated, never duplicated.

    Options left out keep the stored values. An address that unsubscribed, bounced or
    complained is refused: use 'resubscribe' if the reader asked to come back. With
    --pending the reader confirms from an email first (any status may come back so)."""
    from subscribers import store

    fields = store.SubscriberFields(email, name, language, sections, timezone)
    if pending:
        signup = app.request_confirmation(fields)
        if signup.answer == "already":
            app.info(f"{signup.email} is already active: no confirmation sent")
        else:
            app.info(f"pending {signup.email}: confirmation link sent [{signup.language}]")
        return
    with app.session() as session:
        subscriber, outcome = store.add(
            session,
            fields,
            languages=app.languages,
            now=app.now(),
            sections=app.sections(),
            check_deliverability=check_deliverability,
        )
        app.info(f"{outcome} {subscriber.email} [{subscriber.language}, {subscriber.status}]")


@subscribers_group.command("remove")
@click.argument("email")
@click.pass_obj
def remove_command(app: Any, email: str) -> None:
    """Delete a subscriber and their delivery records for good (see also 'unsubscribe')."""
    from subscribers import store

    with app.session() as session:
        removed = store.remove(session, email)
    app.info(f"removed {removed.email} (was {removed.status}) and their delivery records")
    if removed.status in SUPPRESSED:
        app.warn(
            f"{removed.email} had {removed.status}; with the record gone, a later add or "
            "import would subscribe the address again"
        )


@subscribers_group.command("unsubscribe")
@click.argument("email")
@click.pass_obj
def unsubscribe_command(app: Any, email: str) -> None:
    """Stop mailing an address (kept on file so it is never added back by accident)."""
    from subscribers import store

    with app.session() as session:
        subscriber, changed = store.unsubscribe(session, email, app.now())
        if changed:
            app.info(f"unsubscribed {subscriber.email}")
        else:
            app.info(f"{subscriber.email} is already {subscriber.status}: not mailed")


@subscribers_group.command("resubscribe")
@click.argument("email")
@click.pass_obj
def resubscribe_command(app: Any, email: str) -> None:
    """Make an unsubscribed, bounced or complained address active again (they asked)."""
    from subscribers import store

    with app.session() as session:
        subscriber, previous = store.resubscribe(session, email, app.now())
        if previous == subscriber.status:
            app.info(f"{subscriber.email} is already active")
        else:
            app.info(f"resubscribed {subscriber.email} (was {previous}); they get the next edition")


@subscribers_group.command("show")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see README).")
@click.pass_obj
def show_command(app: Any, email: str, as_json: bool) -> None:
    """Show everything stored about one subscriber."""
    from subscribers import store

    with app.session() as session:
        details = exporter.subscriber_dict(store.get(session, email))
    if as_json:
        click.echo(json.dumps(details, ensure_ascii=False, indent=2))
        return
    for key, value in details.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = ", ".join(value)
        click.echo(f"{key + ':':<16} {value if value not in (None, '') else '-'}")


@subscribers_group.command("list")
@status_option
@language_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="json: an array of objects (see README); csv: what 'import' reads.",
)
@click.pass_obj
def list_command(app: Any, status: str | None, language: str | None, output_format: str) -> None:
    """List subscribers of every status (streamed: fine for very long lists)."""
    from subscribers import store

    language = _site_language(app, language)
    with app.session() as session:
        records = store.iter_records(session, status=status, language=language)
        if output_format == "table":
            click.echo(f"{'EMAIL':<40} {'STATUS':<12} {'LANG':<5} {'TIMEZONE':<20} NAME")
            for r in records:
                click.echo(
                    f"{r.email:<40} {r.status:<12} {r.language:<5} {r.timezone:<20} {r.name}"
                )
        elif output_format == "csv":
            exporter.write_csv(records, sys.stdout)
        else:
            exporter.write_json(records, sys.stdout)


@subscribers_group.command("count")
@status_option
@language_option
@click.pass_obj
def count_command(app: Any, status: str | None, language: str | None) -> None:
    """Print the number of subscribers (of every status unless --status)."""
    from subscribers import store

    language = _site_language(app, language)
    with app.session() as session:
        click.echo(store.count(session, status, language))


@subscribers_group.command("export")
@click.argument("file", required=False, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--format", "output_format", type=click.Choice(exporter.FORMATS), default="csv")
@status_option
@language_option
@click.pass_obj
def export_command(
    app: Any, file: Path | None, output_format: str, status: str | None, language: str | None
) -> None:
    """Write every subscriber to FILE (default: standard output) as CSV or JSON.

    The CSV reads back with 'import' to the identical set; a FILE is replaced atomically
    and created readable by its owner only."""
    language = _site_language(app, language)
    with app.session() as session:
        if file is None or str(file) == "-":
            exporter.export(
                session, sys.stdout, output_format=output_format, status=status, language=language
            )
            return
        written = exporter.export_to_path(
            session, file, output_format=output_format, status=status, language=language
        )
    app.info(f"exported {written} subscribers to {file}")


@subscribers_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows, report the others.")
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option(
    "--map",
    "column_mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Read COLUMN as FIELD (email, name, first_name, last_name, language, sections, "
    "timezone, status), or COLUMN=- to ignore it. Repeatable.",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's text encoding (cp1256, iso-8859-6, ...) when the guess is unsure.",
)
@deliverability_option
@click.pass_obj
def import_command(
    app: Any,
    file: Path,
    skip_invalid: bool,
    dry_run: bool,
    column_mapping: tuple[str, ...],
    encoding: str | None,
    check_deliverability: bool,
) -> None:
    """Import subscribers from a CSV file whose first line names the columns.

    Columns: email (required), name, language, sections, timezone, status, or as
    Mailchimp, Substack, Ghost and listmonk export them ("Email Address", "First Name",
    ...). Any common encoding and separator (comma, semicolon, tab); the choice is
    printed. All or nothing: one invalid row and nothing is imported, unless
    --skip-invalid. Existing addresses are updated, never duplicated; unsubscribed ones
    stay so, and Mailchimp's unsubscribed or cleaned rows come in unsubscribed."""
    from subscribers.importer import ImportOptions, import_csv

    options = ImportOptions(
        app.languages,
        app.sections(),
        skip_invalid,
        dry_run,
        check_deliverability,
        column_mapping,
        encoding,
    )
    try:
        with _progress_bars(app) as on_progress, app.session() as session:
            report = import_csv(session, file, options, now=app.now(), on_progress=on_progress)
    except ImportFailed as e:
        _echo_problems("error", "<stdin>" if str(file) == "-" else str(file), e.problems, e.invalid)
        raise
    _echo_import_report(app, report)


def _echo_problems(kind: str, source: str, problems: list[RowProblem], total: int) -> None:
    for problem in problems:
        click.echo(f"{kind}: {source}: line {problem.line}: {problem.reason}", err=True)
    if total > len(problems):
        click.echo(f"{kind}: {source}: ... and {total - len(problems)} more", err=True)


def _echo_import_report(app: Any, report: ImportReport) -> None:
    if report.ignored_columns:
        app.warn(f"{report.source}: ignored unknown columns: {_listed(report.ignored_columns)}")
    if report.invalid:
        _echo_problems("warning", report.source, report.problems, report.invalid)
    if report.duplicates:
        notes = report.duplicate_notes
        _echo_problems("warning", report.source, notes, report.repeated_addresses)
    if report.kept_status:
        app.warn(
            f"{report.source}: {report.kept_status} rows asked for a status their address "
            "may not go back to; kept (use 'digest subscribers resubscribe' if they asked)"
        )
    verb = "dry run, nothing written" if report.dry_run else "imported"
    repeats = f" ({report.duplicates} repeating an address)" if report.duplicates else ""
    skipped = f", {report.invalid} invalid skipped" if report.invalid else ""
    app.info(
        f"{verb}: {report.source}: {report.rows} rows{repeats}: {report.created} added, "
        f"{report.updated} updated, {report.unchanged} unchanged{skipped} "
        f"(read as {report.encoding}, {report.separator}-separated)"
    )


#: Column names shown in a warning, and characters of each: a broken header can hold
#: millions of columns, or one of megabytes.
SHOWN_NAMES = 10
SHOWN_CHARACTERS = 60


def _listed(names: tuple[str, ...]) -> str:
    """The first few names, each cut short, then how many more: a warning stays a line."""
    shown = [
        name if len(name) <= SHOWN_CHARACTERS else name[: SHOWN_CHARACTERS - 1] + "…"
        for name in names[:SHOWN_NAMES]
    ]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more else "")


class _Bars:
    """One progress bar per phase of a long job, on stderr."""

    def __init__(self) -> None:
        self.phase = ""
        self.done = 0
        self.bar: Any = None

    def update(self, phase: str, done: int, total: int) -> None:
        if total <= 0:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.done = phase, 0
            self.bar = click.progressbar(length=total, label=phase, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(max(done - self.done, 0))
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def _progress_bars(app: Any) -> Iterator[Progress | None]:
    """Progress on a terminal, nothing otherwise (the host decides which)."""
    if not app.progress():
        yield None
        return
    bars = _Bars()
    try:
        yield bars.update
    finally:
        bars.close()
