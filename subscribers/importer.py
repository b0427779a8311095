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
import io
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from subscribers import bulk
from subscribers.addresses import AddressValidator, shown
from subscribers.errors import ImportFailed, InvalidSubscriber, RowProblem, SubscriberError
from subscribers.export import CSV_COLUMNS, unescape_cell
from subscribers.merge import ROW_FIELDS, fold_repeats, merge_rows
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


@dataclass
class ImportReport:
    source: str
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
    with _open_source(path) as (stream, size), _staging() as staging:
        _check_file(stream, size, options, staging, report, progress)
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


@contextmanager
def _open_source(path: str | Path) -> Iterator[tuple[IO[bytes], int]]:
    """The file as bytes and its size (0 when unknown, e.g. a pipe)."""
    if str(path) == "-":
        yield sys.stdin.buffer, 0
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise SubscriberError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SubscriberError(f"{path}: is a folder, not a CSV file") from None
    except OSError as e:
        raise SubscriberError(f"{path}: cannot read: {e.strerror}") from None
    with stream:
        try:
            size = Path(path).stat().st_size
        except OSError:
            size = 0
        yield stream, size


@contextmanager
def _staging() -> Iterator[sqlite3.Connection]:
    """A private SQLite database on disk, deleted when closed ("" asks SQLite for one)."""
    with closing(sqlite3.connect("")) as connection:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(
            "CREATE TABLE staged (line INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, "
            "language TEXT, sections TEXT, timezone TEXT, status TEXT, smtputf8 INTEGER)"
        )
        yield connection


# --- pass one: read and check --------------------------------------------------------


def _header(source: str, line: int, cells: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Column positions by name, and the names of columns that are ignored."""
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        column = unescape_cell(cell).strip().lower()
        if not column:
            continue
        if column in columns:
            raise SubscriberError(f"{source}: line {line}: column {column!r} appears twice")
        if column in CSV_COLUMNS:
            columns[column] = index
        else:
            ignored.append(cell.strip())
    if "email" not in columns:
        found = shown(",".join(c.strip() for c in cells), 120) if any(cells) else "nothing"
        raise SubscriberError(
            f"{source}: line {line}: the header row has no 'email' column (found {found}); "
            f"the first line must name the columns: {','.join(CSV_COLUMNS)} (only email is "
            "required)"
        )
    return columns, tuple(ignored)


def _check_file(
    stream: IO[bytes],
    size: int,
    options: ImportOptions,
    staging: sqlite3.Connection,
    report: ImportReport,
    progress: Progress,
) -> None:
    # Undecodable bytes are kept as lone surrogates, so the error can name its row's line.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    records = _records(reader, report.source)
    try:
        start, header = next(records)
    except StopIteration:
        raise SubscriberError(
            f"{report.source}: the file is empty; the first line must be a header row "
            f"naming the columns ({','.join(CSV_COLUMNS)}; only email is required)"
        ) from None
    if isinstance(header, str):
        raise SubscriberError(f"{report.source}: line {start}: header row: {header}")
    columns, report.ignored_columns = _header(report.source, start, header)
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
            _stage(staging, batch)
            progress("checking", _position(stream), size)
    _stage(staging, batch)
    progress("checking", size, size)


def _records(reader: Any, source: str) -> Iterator[tuple[int, list[str] | str]]:
    """(first line number, cells) per CSV record; cells is a message for an unreadable one."""
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield start, f"unreadable CSV: {e}"
            continue
        if not _is_text(cells):
            raise SubscriberError(
                f"{source}: line {start}: not UTF-8 text; save the file as CSV in UTF-8 "
                "and import it again (nothing imported)"
            )
        yield start, cells


def _is_text(cells: list[str]) -> bool:
    """False if a cell holds bytes that were not UTF-8 (see surrogateescape above)."""
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


def _stage(staging: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> None:
    if batch:
        staging.executemany("INSERT INTO staged VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
        batch.clear()


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

    def __init__(self, columns: dict[str, int], width: int, options: ImportOptions) -> None:
        languages, sections = options.languages, options.sections
        self.width = width
        self.validator = AddressValidator(check_deliverability=options.check_deliverability)
        self.email_index = columns["email"]
        #: (position, check) of the optional fields, in staging order.
        self.fields: list[tuple[int | None, Callable[[str], Any]]] = [
            (columns.get("name"), clean_name),
            (columns.get("language"), _memoised(lambda v: check_language(v, languages))),
            (columns.get("sections"), _memoised(lambda v: check_sections(v, sections))),
            (columns.get("timezone"), _memoised(check_timezone)),
            (columns.get("status"), _memoised(lambda v: str(check_status(v)))),
        ]

    def check(self, cells: list[str]) -> tuple[Any, ...]:
        """(email, name, language, sections, timezone, status, smtputf8); None where a cell
        is empty. Raises _RowInvalid naming every bad field."""
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            raise _RowInvalid(
                f"{len(cells)} fields but the header has {self.width} "
                "(an unquoted comma in a name?)"
            )
        errors: list[str] = []
        try:
            address = self.validator.check(_cell(cells, self.email_index))
        except InvalidSubscriber as e:
            errors.append(str(e))
        values: list[Any] = []
        for index, check in self.fields:
            raw = _cell(cells, index)
            try:
                values.append(check(raw) if raw else None)
            except InvalidSubscriber as e:
                errors.append(str(e))
        if errors:
            raise _RowInvalid("; ".join(errors))
        return (address.email, *values, address.smtputf8)


def _note_duplicates(staging: sqlite3.Connection, report: ImportReport) -> None:
    staging.execute("CREATE INDEX staged_email ON staged (email, line)")
    (report.duplicates,) = staging.execute(
        "SELECT count(*) - count(DISTINCT email) FROM staged"
    ).fetchone()
    if not report.duplicates:
        return
    (report.repeated_addresses,) = staging.execute(
        "SELECT count(*) FROM (SELECT email FROM staged GROUP BY email HAVING count(*) > 1)"
    ).fetchone()
    rows = staging.execute(
        "SELECT email, min(line), max(line), count(*) FROM staged GROUP BY email "
        "HAVING count(*) > 1 ORDER BY min(line) LIMIT ?",
        (MAX_PROBLEMS,),
    )
    for email, first, last, times in rows:
        report.duplicate_notes.append(
            RowProblem(
                last,
                f"{email} is on {times} lines (first on line {first}); they count as one "
                "subscriber: the last non-empty value of each field wins",
            )
        )


# --- pass two: write -----------------------------------------------------------------


def _staged_rows(staging: sqlite3.Connection, duplicates: bool) -> Iterator[tuple[Any, ...]]:
    """Staged rows, one per address, in the order of each address's first line."""
    columns = ", ".join(f"s.{name}" for name in ROW_FIELDS)
    if not duplicates:
        yield from staging.execute(f"SELECT {columns} FROM staged s ORDER BY s.line")
        return
    yield from fold_repeats(
        staging.execute(
            f"SELECT {columns} FROM staged s JOIN (SELECT email, min(line) AS first "
            "FROM staged GROUP BY email) f ON f.email = s.email ORDER BY f.first, s.line"
        )
    )


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
    counts = merge(
        session,
        _staged_rows(staging, bool(report.duplicates)),
        default_language=options.languages[0],
        now=now,
        on_batch=lambda done: progress("writing", done, total),
    )
    report.created, report.updated = counts.created, counts.updated
    report.unchanged, report.kept_status = counts.unchanged, counts.kept_status
