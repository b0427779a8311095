"""Which source the articles of a file record: one file is one source, however named.

A guid is unique within its source, and coverage counts sources, so the same file
ingested as `wire.jsonl`, `./wire.jsonl` and by its absolute path must not be three
sources of three copies of every article (a breaker pass found six rows and every story
"covered by 3 sources"). A file's articles record its absolute path, symlinks resolved
(`os.path.realpath`); a database filled before this records the path as it was typed,
and that spelling is kept where it names the same file from the working directory.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from digest.ingest.records import URL_MAX
from digest.models import Article


class FileSources:
    """`Article.source` for files, from one session (the stored spellings are read once)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._stored: list[str] | None = None

    def source_of(self, path: Path) -> str:
        """What the articles of the file at `path` (relative to the working directory)
        record as their source: an earlier spelling of the same file that articles
        already record, else its absolute path (at most `URL_MAX` characters, as the
        column holds)."""
        absolute = _absolute(path)
        if absolute is None:
            return str(path)[:URL_MAX]
        key = str(absolute)[:URL_MAX]
        if self._session.scalar(select(exists().where(Article.source == key))):
            return key
        for stored in self._stored_paths():
            if _absolute(Path(stored)) == absolute:
                return stored
        return key

    def _stored_paths(self) -> list[str]:
        if self._stored is None:
            query = (
                select(Article.source)
                .where(Article.source != "")
                .where(~or_(Article.source.like("http://%"), Article.source.like("https://%")))
                .distinct()
                .order_by(Article.source)
            )
            self._stored = list(self._session.scalars(query))
        return self._stored


def _absolute(path: Path) -> Path | None:
    """`path` made absolute with symlinks resolved; None where it cannot be (a loop)."""
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError, ValueError):
        return None
