"""The staging file of `import`: the rows pass one has checked, normalised, in a private
SQLite file on disk, so that pass two can replay them in order with memory flat
whatever the size of the import, and nothing reaches the subscriber table before every
row is known to be good.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from typing import Any

from subscribers.merge import ROW_FIELDS, fold_repeats


@contextmanager
def opened() -> Iterator[sqlite3.Connection]:
    """A private SQLite database on disk, deleted when closed ("" asks SQLite for one),
    with the empty table `staged` (one row per line of the file: line, then `ROW_FIELDS`)."""
    with closing(sqlite3.connect("")) as connection:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute(
            "CREATE TABLE staged (line INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, "
            "language TEXT, sections TEXT, timezone TEXT, status TEXT, smtputf8 INTEGER)"
        )
        yield connection


def stage(staging: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> None:
    """Insert `batch` (rows of `staged`'s columns) and empty it."""
    if batch:
        staging.executemany("INSERT INTO staged VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
        batch.clear()


def repeats(
    staging: sqlite3.Connection, limit: int
) -> tuple[int, int, list[tuple[str, int, int, int]]]:
    """(lines that repeat an earlier line's address, addresses on several lines, and the
    first `limit` of those as (address, first line, last line, lines)). Indexes the
    addresses, which `staged_rows` then uses; call it once, after the last `stage`."""
    staging.execute("CREATE INDEX staged_email ON staged (email, line)")
    (duplicates,) = staging.execute(
        "SELECT count(*) - count(DISTINCT email) FROM staged"
    ).fetchone()
    if not duplicates:
        return 0, 0, []
    (repeated,) = staging.execute(
        "SELECT count(*) FROM (SELECT email FROM staged GROUP BY email HAVING count(*) > 1)"
    ).fetchone()
    rows = staging.execute(
        "SELECT email, min(line), max(line), count(*) FROM staged GROUP BY email "
        "HAVING count(*) > 1 ORDER BY min(line) LIMIT ?",
        (limit,),
    )
    return duplicates, repeated, list(rows)


def staged_rows(
    staging: sqlite3.Connection, duplicates: bool
) -> Generator[tuple[Any, ...], None, None]:
    """Staged rows, one per address (`duplicates`: some address is on several lines, whose
    rows are folded into one, `merge.fold_repeats`), in the order of each address's first
    line."""
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
