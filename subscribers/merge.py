"""Merging checked, normalised rows into the subscriber table, a batch at a time.

Each row is `ROW_FIELDS`: a new address is inserted, an existing one updated where a
field is given (None leaves the stored value) and its status only moved forward; a row
that changes nothing writes nothing, so merging the same rows twice changes nothing.
Nothing here commits: the caller's transaction holds the whole merge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, column, insert, select, table, update
from sqlalchemy.orm import Session

from subscribers.models import Status, Subscriber
from subscribers.status import STAMPS, moves_forward

#: The layout of a row: the file line it came from, then the normalised fields.
ROW_FIELDS = ("line", "email", "name", "language", "sections", "timezone", "status", "smtputf8")
#: Rows per batch (also keeps the SQL IN list below SQLite's variable limit).
BATCH = 500

_DETAILS = ("name", "language", "sections", "timezone")
_TABLE = cast(Table, Subscriber.__table__)
_COLUMNS = [c for c in _TABLE.c if c.name != "id"]
#: What is read of an existing subscriber to compare (timestamps are only ever written).
_COMPARED = [_TABLE.c[name] for name in ("id", "email", *_DETAILS, "status")]
#: The same table without column types: values go to the driver as they are.
_UNTYPED = table(_TABLE.name, *(column(c.name) for c in _COLUMNS))


@dataclass
class MergeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Rows that asked for a status the address may not move to (e.g. active again).
    kept_status: int = 0


def fold_repeats(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """One row per address from rows where each address's rows are adjacent, in order.

    The merged row is what applying the rows one after another would leave: each field
    its last non-empty value; the status, since it only moves forward, the first
    suppressed one asked for, else the furthest of pending/active.
    """
    merged: list[Any] | None = None
    for row in rows:
        if merged is not None and row[1] == merged[1]:
            for index in range(2, 6):
                if row[index] is not None:
                    merged[index] = row[index]
            current, asked = merged[6], row[6]
            if asked is not None and (current is None or moves_forward(current, asked)):
                merged[6] = asked
            continue
        if merged is not None:
            yield tuple(merged)
        merged = list(row)
    if merged is not None:
        yield tuple(merged)


def merge_rows(
    session: Session,
    rows: Iterable[tuple[Any, ...]],
    *,
    default_language: str,
    now: datetime,
    on_batch: Callable[[int], None] | None = None,
) -> MergeCounts:
    """Merge rows (one per address) in batches; `on_batch(rows done)` after each."""
    merger = _Merger(session, default_language, now)
    batch: list[tuple[Any, ...]] = []
    done = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            merger.write(batch)
            done += len(batch)
            batch.clear()
            if on_batch:
                on_batch(done)
    merger.write(batch)
    if on_batch:
        on_batch(done + len(batch))
    return merger.counts


class _Merger:
    """Writes batches: inserts new addresses, updates changed ones.

    Inserts are the bulk of a first import, so they skip per-row work: every value that
    needs a type conversion (`now`, the smtputf8 flag) is the same for many rows and is
    converted once with the real column type, and the statement, compiled once per set of
    columns, goes to the driver with plain parameter rows. Into a table that was empty
    when the merge began (and with one row per address) there is nothing to look up.
    """

    def __init__(self, session: Session, default_language: str, now: datetime) -> None:
        self.session = session
        self.default_language = default_language
        self.now = now
        self.counts = MergeCounts()
        self.was_empty = session.execute(select(_TABLE.c.id).limit(1)).first() is None
        self.statements: dict[tuple[str, ...], Any] = {}
        dialect = session.get_bind().dialect
        self.dialect = dialect

        def converted(name: str, value: Any) -> Any:
            processor = _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            return processor(value) if processor else value

        self.stored_now = converted("created_at", now)
        self.stored_flag = {flag: converted("smtputf8", flag) for flag in (False, True)}

    def write(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        existing: dict[str, dict[str, Any]] = {}
        if not self.was_empty:
            query = select(*_COMPARED).where(_TABLE.c.email.in_([row[1] for row in batch]))
            existing = {row.email: dict(row._mapping) for row in self.session.execute(query)}
        # Updates are grouped by the set of columns they write, one statement per group;
        # inserts all write the same columns, so one statement keeps the file's order
        # (ids follow it, and so does an export).
        inserts: list[dict[str, Any]] = []
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for _line, email, *fields, smtputf8 in batch:
            current = existing.get(email)
            if current is None:
                record = self._new_record(email, fields, bool(smtputf8))
                inserts.append(record)
                self.counts.created += 1
                continue
            changed, kept = _apply(current, fields, self.now)
            self.counts.kept_status += kept
            if changed:
                self.counts.updated += 1
                values = {k: v for k, v in current.items() if k not in ("id", "email")}
                updates.setdefault(tuple(values), []).append(
                    {"subscriber_id": current["id"], **values}
                )
            else:
                self.counts.unchanged += 1
        if inserts:
            self._insert(inserts)
        for names, params in updates.items():
            statement = (
                update(_TABLE)
                .where(_TABLE.c.id == bindparam("subscriber_id"))
                .values({name: bindparam(name) for name in names})
            )
            self.session.execute(statement, params)

    def _insert(self, records: list[dict[str, Any]]) -> None:
        """One executemany of records that all have the same columns."""
        names = tuple(records[0])
        compiled = self.statements.get(names)
        if compiled is None:
            compiled = insert(_UNTYPED).compile(dialect=self.dialect, column_keys=list(names))
            self.statements[names] = compiled
        order = compiled.positiontup  # set for positional paramstyles (SQLite's "?")
        params = [tuple(r[key] for key in order) for r in records] if order else records
        self.session.connection().exec_driver_sql(compiled.string, params)

    def _new_record(self, email: str, fields: list[Any], smtputf8: bool) -> dict[str, Any]:
        name, language, sections, timezone, status = fields
        record: dict[str, Any] = {
            "email": email,
            "name": name or "",
            "language": language or self.default_language,
            "sections": sections or "",
            # No zone given stays none (the site's schedule.timezone), as `add` stores it:
            # "UTC" would move a local-time delivery and break export -> import.
            "timezone": timezone or "",
            "status": status or Status.ACTIVE.value,
            "smtputf8": self.stored_flag[smtputf8],
            "bounce_count": 0,
            "created_at": self.stored_now,
            "updated_at": self.stored_now,
        }
        # Only the status's own timestamp is set; the others stay NULL.
        stamp = STAMPS.get(Status(record["status"]))
        for stamp_column in STAMPS.values():
            record[stamp_column] = self.stored_now if stamp_column == stamp else None
        return record


def _apply(current: dict[str, Any], fields: list[Any], now: datetime) -> tuple[bool, bool]:
    """Apply one row to a stored record (adding the timestamps it sets). (changed, kept)"""
    *details, status = fields
    changed = False
    for name, value in zip(_DETAILS, details, strict=True):
        if value is not None and current[name] != value:
            current[name] = value
            changed = True
    kept = False
    if status is not None and status != current["status"]:
        if moves_forward(current["status"], status):
            current["status"] = status
            stamp = STAMPS.get(Status(status))
            if stamp:
                current[stamp] = now
            changed = True
        else:
            kept = True
    if changed:
        current["updated_at"] = now
    return changed, kept
