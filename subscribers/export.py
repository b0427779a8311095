"""Subscribers out: the JSON shape, CSV that `import` reads back, and whole-list export.

CSV cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR)
get a leading apostrophe, the usual defence; `import` removes exactly one such
apostrophe again, so an export reads back to the identical set.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from subscribers.errors import SubscriberError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: The columns `export` writes and `import` reads (only email is required on import).
CSV_COLUMNS = ("email", "name", "language", "sections", "timezone", "status")
FORMATS = ("csv", "json")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """Defuse spreadsheet formulas: one extra leading apostrophe before a trigger."""
    if value.lstrip("'").startswith(_FORMULA_START):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """Undo `escape_cell` (also reads files from tools that escape the same way)."""
    if value.startswith("'") and value.lstrip("'").startswith(_FORMULA_START):
        return value[1:]
    return value


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def subscriber_dict(record: Any) -> dict[str, Any]:
    """The stable JSON shape of one subscriber (ORM object or row), documented in README."""
    return {
        "email": record.email,
        "name": record.name,
        "language": record.language,
        "sections": [s for s in record.sections.split(",") if s],
        "timezone": record.timezone,
        "status": str(record.status),
        "smtputf8": bool(record.smtputf8),
        "bounce_count": record.bounce_count,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "confirmed_at": iso(record.confirmed_at),
        "unsubscribed_at": iso(record.unsubscribed_at),
        "bounced_at": iso(record.bounced_at),
        "complained_at": iso(record.complained_at),
    }


def write_csv(records: Iterable[Any], out: TextIO) -> int:
    """A header and one line per subscriber; returns how many were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    written = 0
    for record in records:
        writer.writerow([escape_cell(str(getattr(record, column))) for column in CSV_COLUMNS])
        written += 1
    return written


def write_json(records: Iterable[Any], out: TextIO) -> int:
    """A JSON array written object by object, so memory stays flat."""
    out.write("[")
    written = 0
    for record in records:
        out.write(",\n  " if written else "\n  ")
        out.write(json.dumps(subscriber_dict(record), ensure_ascii=False))
        written += 1
    out.write("\n]\n" if written else "]\n")
    return written


def export(
    session: Session,
    out: TextIO,
    *,
    output_format: str = "csv",
    status: str | None = None,
    language: str | None = None,
) -> int:
    """Write every subscriber (or those of one status/language) to a text stream."""
    from subscribers.store import iter_records

    records = iter_records(session, status=status, language=language)
    if output_format == "json":
        return write_json(records, out)
    return write_csv(records, out)


def export_to_path(
    session: Session,
    path: Path,
    *,
    output_format: str = "csv",
    status: str | None = None,
    language: str | None = None,
) -> int:
    """Export into a file atomically: readers see the old file or the whole new one.

    The file is created readable by its owner only: it is personal data.
    """
    if path.is_dir():
        raise SubscriberError(f"{path}: is a folder; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as e:
        raise SubscriberError(f"{path}: cannot write: {e.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            written = export(
                session, out, output_format=output_format, status=status, language=language
            )
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written
