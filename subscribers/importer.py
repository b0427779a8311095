"""`import FILE.csv`: every row checked in one streaming pass, then written in batches.

Pass one reads the file a row at a time, checks every field and stages the normalised
rows in a private temporary SQLite file; the subscriber table is not touched until every
row is known to be good (or the caller chose to skip the bad ones). Pass two replays the
staged rows in file order and writes them in batches inside the caller's transaction, so
memory stays flat whatever the file's size and a failure leaves nothing half-imported.

Rules, so that importing is safe to repeat:
- an existing address is updated, never duplicated; an empty cell keeps the stored value;
- a status only moves forward: a row never reactivates an address that unsubscribed,
  bounced or complained (that is `resubscribe`'s job), it is counted as kept instead;
- the same address on several lines counts once: its rows merge in file order, each
  field taking its last non-empty value, the status only moving forward.
"""

from __future__ import annotations

import csv
import itertools
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from subscribers import bulk
from subscribers import staging as staging_file
from subscribers.addresses import AddressValidator
from subscribers.columns import ColumnMap, map_columns, not_subscribed, parse_mapping, status_word
from subscribers.errors import ImportFailed, InvalidSubscriber, RowProblem, SubscriberError
from subscribers.export import CSV_COLUMNS, unescape_cell
from subscribers.merge import merge_rows
from subscribers.reading import Source, not_text, open_source
from subscribers.validation import (
    check_language,
    check_sections,
    check_status,
    check_timezone,
    clean_name,
)

#: Bad rows named one by one (the rest are counted).
MAX_PROBLEMS = 20
#: Rows staged per insert into the staging file.
BATCH = 500
#: (phase, done, total): phase "checking" counts bytes, "writing" counts rows.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ImportOptions:
    languages: tuple[str, ...]
    #: Known section names (None: none known yet, any well-formed name is accepted).
    sections: tuple[str, ...] | None = None
    skip_invalid: bool = False
    dry_run: bool = False
    check_deliverability: bool = False
    #: `COLUMN=field` pairs naming columns the header's names do not (see columns.py).
    column_mapping: tuple[str, ...] = ()
    #: The file's text encoding, when a guess is not good enough (None: guess).
    encoding: str | None = None


@dataclass
class ImportReport:
    source: str
    #: How the file was read: the text encoding chosen and the separator found.
    encoding: str = ""
    separator: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Rows that asked for a status the address may not move to (e.g. active again).
    kept_status: int = 0
    invalid: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    #: Rows whose address already appeared on an earlier line.
    duplicates: int = 0
    #: Addresses on more than one line, and notes on the first of them.
    repeated_addresses: int = 0
    duplicate_notes: list[RowProblem] = field(default_factory=list)
    ignored_columns: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def valid(self) -> int:
        return self.rows - self.invalid

    def add_problem(self, line: int, reason: str) -> None:
        self.invalid += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(RowProblem(line, reason))


class _RowInvalid(Exception):
    pass


def import_csv(
    session: Session,
    path: str | Path,
    options: ImportOptions,
    *,
    now: datetime,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV file ("-" reads standard input). Raises ImportFailed if rows are bad
    and `skip_invalid` is off; with `dry_run` the session's transaction is rolled back."""
    progress = on_progress or (lambda phase, done, total: None)
    name = "<stdin>" if str(path) == "-" else str(path)
    report = ImportReport(name, dry_run=options.dry_run)
    mapping = parse_mapping(options.column_mapping)
    with (
        open_source(path, options.languages, options.encoding) as source,
        staging_file.opened() as staging,
    ):
        report.encoding, report.separator = source.encoding, source.separator_name
        _check_file(source, mapping, options, staging, report, progress)
        if report.invalid and not options.skip_invalid:
            raise ImportFailed(_failure_message(report), report.problems, report.invalid)
        _note_duplicates(staging, report)
        try:
            _write(session, staging, report, options, now, progress)
        except IntegrityError:
            raise SubscriberError(
                f"{name}: another process added some of these addresses meanwhile; "
                "nothing imported, run the import again"
            ) from None
        except OperationalError as e:
            raise SubscriberError(f"{name}: database error, nothing imported: {e.orig}") from None
    if options.dry_run:
        session.rollback()
    return report


def _failure_message(report: ImportReport) -> str:
    rows = "row" if report.invalid == 1 else "rows"
    hint = (
        f"fix them, or use --skip-invalid to import the {report.valid} valid rows"
        if report.valid
        else "no row is valid"
    )
    return (
        f"{report.source}: {report.invalid} invalid {rows} (of {report.rows}); "
        f"nothing imported ({hint})"
    )


# --- pass one: read and check --------------------------------------------------------


def _check_file(
    source: Source,
    mapping: dict[str, str],
    options: ImportOptions,
    staging: sqlite3.Connection,
    report: ImportReport,
    progress: Progress,
) -> None:
    stream, size = source.stream, source.size
    reader = csv.reader(_marked_end(source.text), dialect=source.dialect())
    records = _records(reader, report.source, source.encoding, source.guessed)
    try:
        start, header = next(records)
    except StopIteration:
        raise SubscriberError(
            f"{report.source}: the file is empty; the first line must be a header row "
            f"naming the columns ({','.join(CSV_COLUMNS)}; only email is required)"
        ) from None
    if isinstance(header, str):
        raise SubscriberError(f"{report.source}: line {start}: header row: {header}")
    header = [unescape_cell(cell) for cell in header]
    columns = map_columns(report.source, start, header, mapping)
    report.ignored_columns = columns.ignored
    checker = _RowChecker(columns, len(header), options)
    batch: list[tuple[Any, ...]] = []
    for line, cells in records:
        if isinstance(cells, str):
            report.rows += 1
            report.add_problem(line, cells)
            continue
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a spreadsheet's empty row
        report.rows += 1
        try:
            batch.append((line, *checker.check(cells)))
        except _RowInvalid as e:
            report.add_problem(line, str(e))
        if len(batch) >= BATCH:
            staging_file.stage(staging, batch)
            progress("checking", _position(stream), size)
    staging_file.stage(staging, batch)
    progress("checking", size, size)


#: A line after the file's last: the csv module reads an unterminated quote to the end of
#: the file without a word, so the end is marked, and a field that swallowed the mark
#: shows the quote never closed. (A noncharacter: no text holds it.)
_END = "\U0010ffff"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _marked_end(lines: Iterable[str]) -> Iterator[str]:
    # chain, not a generator's `yield from`: closing that would close the file's text.
    return itertools.chain(lines, (_END,))


def _records(
    reader: Any, source: str, encoding: str, guessed: bool
) -> Iterator[tuple[int, list[str] | str]]:
    """(first line number, cells) per CSV record; cells is a message for an unreadable one.

    Raises SubscriberError for a quote that never closes: every later line would be one
    field, so no row after it can be trusted (not even with --skip-invalid)."""
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeError:  # bytes surrogateescape cannot keep (UTF-16, -32): a chunk
            # is decoded ahead of the rows, so the line is not known
            raise SubscriberError(not_text(source, None, encoding, guessed)) from None
        except csv.Error as e:
            if "field limit" in str(e):  # the reader is lost mid-file: stop here too
                raise SubscriberError(
                    f"{source}: line {start}: a field runs on for more than "
                    f"{csv.field_size_limit()} characters (a quote that never closes?); "
                    "nothing imported"
                ) from None
            yield start, f"unreadable CSV: {e}"
            continue
        if cells == [_END]:
            return
        if cells and cells[-1].endswith(_END):
            # The quote opened on the line the field's line breaks count back to.
            opened = reader.line_num - len(_LINE_BREAK.findall(cells[-1]))
            raise SubscriberError(
                f"{source}: line {opened}: a quoted field opens here and never closes (a "
                'missing "?); nothing imported'
            )
        if not _is_text(cells):
            raise SubscriberError(not_text(source, start, encoding, guessed))
        yield start, cells


def _is_text(cells: list[str]) -> bool:
    """False if a cell holds bytes the encoding could not decode (kept as surrogates)."""
    try:
        "".join(cells).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _position(stream: IO[bytes]) -> int:
    try:
        return stream.tell()
    except OSError:
        return 0


def _memoised(check: Callable[[str], Any], limit: int = 10_000) -> Callable[[str], Any]:
    """A check remembered per distinct value: a file repeats a handful of zones and languages."""
    seen: dict[str, Any] = {}

    def memoised(raw: str) -> Any:
        value = seen.get(raw)
        if value is None:
            value = check(raw)
            if len(seen) < limit:
                seen[raw] = value
        return value

    return memoised


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index].strip()
    return unescape_cell(value) if value[:1] == "'" else value


class _RowChecker:
    """Checks rows of one file: column positions and memoised checks are set up once."""

    def __init__(self, columns: ColumnMap, width: int, options: ImportOptions) -> None:
        languages, sections = options.languages, options.sections
        self.columns = columns
        self.width = width
        self.validator = AddressValidator(check_deliverability=options.check_deliverability)
        self.email_index = columns.positions["email"]
        self.status = _memoised(lambda v: check_status(status_word(v)))
        #: (position, check) of the optional fields after the name, in staging order.
        self.fields: list[tuple[int | None, Callable[[str], Any]]] = [
            (columns.get("language"), _memoised(lambda v: check_language(v, languages))),
            (columns.get("sections"), _memoised(lambda v: check_sections(v, sections))),
            (columns.get("timezone"), _memoised(check_timezone)),
        ]

    def check(self, cells: list[str]) -> tuple[Any, ...]:
        """(email, name, language, sections, timezone, status, smtputf8); None where a cell
        is empty. Raises _RowInvalid naming every bad field."""
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            raise _RowInvalid(
                f"{len(cells)} fields but the header has {self.width} "
                "(an unquoted separator in a name?)"
            )
        errors: list[str] = []
        try:
            address = self.validator.check(_cell(cells, self.email_index))
        except InvalidSubscriber as e:
            errors.append(str(e))
        values: list[Any] = []
        for check, raw in [(clean_name, self._name(cells))] + [
            (check, _cell(cells, index)) for index, check in self.fields
        ]:
            try:
                values.append(check(raw) if raw else None)
            except InvalidSubscriber as e:
                errors.append(str(e))
        try:
            values.append(self._status(cells))
        except InvalidSubscriber as e:
            errors.append(str(e))
        if errors:
            raise _RowInvalid("; ".join(errors))
        return (address.email, *values, address.smtputf8)

    def _name(self, cells: list[str]) -> str:
        name = _cell(cells, self.columns.get("name"))
        if name:
            return name
        parts = (_cell(cells, self.columns.get(key)) for key in ("first_name", "last_name"))
        return " ".join(part for part in parts if part)

    def _status(self, cells: list[str]) -> str | None:
        """The row's status: the status column's, but never active when a tool's own
        column says the row is not subscribed (or the whole file is of such rows)."""
        raw = _cell(cells, self.columns.get("status"))
        status = self.status(raw) if raw else None
        unsubscribed = self.columns.all_unsubscribed
        for flag, when in (("email_disabled", True), ("subscribed_to_emails", False)):
            cell = _cell(cells, self.columns.get(flag))
            if not cell:
                continue
            said = not_subscribed(cell, when=when)
            if said is None:
                raise InvalidSubscriber(
                    self.columns.sources.get(flag, flag), f"{cell!r} is not true or false"
                )
            unsubscribed = unsubscribed or said
        if unsubscribed and status in (None, "active", "pending"):
            return "unsubscribed"
        return None if status is None else str(status)


def _note_duplicates(staging: sqlite3.Connection, report: ImportReport) -> None:
    report.duplicates, report.repeated_addresses, repeats = staging_file.repeats(
        staging, MAX_PROBLEMS
    )
    for email, first, last, times in repeats:
        report.duplicate_notes.append(
            RowProblem(
                last,
                f"{email} is on {times} lines (first on line {first}); they count as one "
                "subscriber: the last non-empty value of each field wins",
            )
        )


# --- pass two: write -----------------------------------------------------------------


def _write(
    session: Session,
    staging: sqlite3.Connection,
    report: ImportReport,
    options: ImportOptions,
    now: datetime,
    progress: Progress,
) -> None:
    total = report.valid - report.duplicates
    merge = bulk.merge_copied if bulk.supports(session) else merge_rows
    # Closed here, while the staging file is open: left to the garbage collector after an
    # interrupt, closing its cursor on a closed database prints a traceback.
    with closing(staging_file.staged_rows(staging, bool(report.duplicates))) as rows:
        counts = merge(
            session,
            rows,
            default_language=options.languages[0],
            now=now,
            on_batch=lambda done: progress("writing", done, total),
        )
    report.created, report.updated = counts.created, counts.updated
    report.unchanged, report.kept_status = counts.unchanged, counts.kept_status
