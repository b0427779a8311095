"""Merging checked rows into the subscriber table on PostgreSQL: `COPY` and set-based SQL.

The row-at-a-time merge (`subscribers.merge`) runs about 2,500 rows/s on PostgreSQL,
where every batch is a network round trip. Here the rows (one per address, already
checked and folded by the importer) stream into a temporary table with `COPY ... FROM
STDIN`, and three statements merge them in the database: count what will change, update
the addresses that exist, insert the others. The rules are those of `merge._apply`: an
empty field (NULL) keeps the stored value, a status only moves forward (pending <
active < the suppressed ones) and stamps its time, `updated_at` moves only when something
changed. Nothing commits here: the caller's transaction holds the whole import, so a
failure leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from subscribers.errors import SubscriberError
from subscribers.merge import ROW_FIELDS, MergeCounts

#: Rows between two progress reports while copying.
PROGRESS_EVERY = 20_000
_STAGED = "digest_import_rows"


def supports(session: Session) -> bool:
    """True where this module applies (PostgreSQL through psycopg 3)."""
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def merge_copied(
    session: Session,
    rows: Iterable[tuple[Any, ...]],
    *,
    default_language: str,
    now: datetime,
    on_batch: Callable[[int], None] | None = None,
) -> MergeCounts:
    """Merge `rows` (`merge.ROW_FIELDS`, one per address) in the session's transaction.

    Returns the same counts as `merge.merge_rows`. Raises SubscriberError when the
    server refuses the rows (the transaction is then unusable: roll it back).
    """
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_STAGED}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_STAGED} (line integer, email text NOT NULL, name text, "
        "language text, sections text, timezone text, status text, smtputf8 boolean) "
        "ON COMMIT DROP"
    )
    _copy(connection.connection.driver_connection, rows, on_batch)
    connection.exec_driver_sql(f"ANALYZE {_STAGED}")
    stamp = {"now": now.astimezone(UTC).replace(tzinfo=None)}  # stored as naive UTC
    counts = MergeCounts()
    total, existing, changed, kept = connection.execute(text(_COUNTS)).one()
    counts.updated, counts.kept_status = int(changed or 0), int(kept or 0)
    counts.unchanged = int(existing or 0) - counts.updated
    connection.execute(text(_UPDATE), stamp)
    inserted = connection.execute(text(_INSERT), {**stamp, "language": default_language})
    counts.created = max(inserted.rowcount or 0, 0)
    if counts.created + int(existing or 0) != int(total or 0):
        raise SubscriberError("the import merge lost rows; nothing imported")  # a bug guard
    connection.exec_driver_sql(f"DROP TABLE {_STAGED}")
    return counts


def _copy(
    driver_connection: Any,
    rows: Iterable[tuple[Any, ...]],
    on_batch: Callable[[int], None] | None,
) -> None:
    import psycopg

    done = 0
    try:
        with (
            driver_connection.cursor() as cursor,
            cursor.copy(f"COPY {_STAGED} ({', '.join(ROW_FIELDS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                done += 1
                if on_batch and done % PROGRESS_EVERY == 0:
                    on_batch(done)
    except psycopg.Error as e:
        raise SubscriberError(f"database refused the rows, nothing imported: {e}") from e
    if on_batch:
        on_batch(done)


def _rank(column: str) -> str:
    """`status.moves_forward` in SQL: pending 0, active 1, every suppressed status 2."""
    return f"(CASE {column} WHEN 'pending' THEN 0 WHEN 'active' THEN 1 ELSE 2 END)"


_MOVES = f"(s.status IS NOT NULL AND {_rank('s.status')} > {_rank('t.status')})"
_KEPT = f"(s.status IS NOT NULL AND s.status <> t.status AND NOT {_MOVES})"
_DETAILS_DIFFER = " OR ".join(
    f"(s.{name} IS NOT NULL AND s.{name} <> t.{name})"
    for name in ("name", "language", "sections", "timezone")
)
_CHANGES = f"({_DETAILS_DIFFER} OR {_MOVES})"

_COUNTS = f"""
SELECT (SELECT count(*) FROM {_STAGED}),
       count(t.id),
       count(*) FILTER (WHERE {_CHANGES}),
       count(*) FILTER (WHERE {_KEPT})
FROM {_STAGED} s JOIN subscribers t ON t.email = s.email
"""

_STAMPS = {
    "active": "confirmed_at",
    "unsubscribed": "unsubscribed_at",
    "bounced": "bounced_at",
    "complained": "complained_at",
}


def _stamp_update(status: str, column: str) -> str:
    return f"{column} = CASE WHEN {_MOVES} AND s.status = '{status}' THEN :now ELSE t.{column} END"


_UPDATE = f"""
UPDATE subscribers t SET
    name = coalesce(s.name, t.name),
    language = coalesce(s.language, t.language),
    sections = coalesce(s.sections, t.sections),
    timezone = coalesce(s.timezone, t.timezone),
    status = CASE WHEN {_MOVES} THEN s.status ELSE t.status END,
    {", ".join(_stamp_update(status, column) for status, column in _STAMPS.items())},
    updated_at = :now
FROM {_STAGED} s
WHERE t.email = s.email AND {_CHANGES}
"""

_INSERT = f"""
INSERT INTO subscribers (email, name, language, sections, timezone, status, smtputf8,
    bounce_count, created_at, updated_at, {", ".join(_STAMPS.values())})
SELECT s.email, coalesce(s.name, ''), coalesce(s.language, :language),
    coalesce(s.sections, ''), coalesce(s.timezone, ''), coalesce(s.status, 'active'),
    coalesce(s.smtputf8, false), 0, :now, :now,
    {
    ", ".join(
        f"CASE WHEN coalesce(s.status, 'active') = '{status}' THEN CAST(:now AS timestamp) END"
        for status in _STAMPS
    )
}
FROM {_STAGED} s
WHERE NOT EXISTS (SELECT 1 FROM subscribers t WHERE t.email = s.email)
ORDER BY s.line
"""
