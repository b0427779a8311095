"""Where articles come from: files and folders today, each stored in its own transaction.

One bad source never stops the others and never leaves half its items behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from digest.errors import IngestError
from digest.ingest.feeds import SourceDefaults, parse_feed
from digest.ingest.store import IngestCounts, store_records

FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".feed"}
FORMATS = ("auto", "rss", "atom")


@dataclass
class SourceResult:
    source: str
    counts: IngestCounts = field(default_factory=IngestCounts)
    error: str | None = None


@dataclass
class IngestReport:
    results: list[SourceResult] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceResult]:
        return [result for result in self.results if result.error]

    def totals(self) -> IngestCounts:
        total = IngestCounts()
        for result in self.results:
            total.add(result.counts)
        return total


def expand_sources(sources: Iterable[str]) -> list[str]:
    """Files stay, folders become their feed files (sorted, so runs are repeatable)."""
    expanded: list[str] = []
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in FEED_SUFFIXES)
            if not files:
                raise IngestError(
                    f"{source}: folder holds no feed files ({', '.join(sorted(FEED_SUFFIXES))})"
                )
            expanded.extend(str(p) for p in files)
        else:
            expanded.append(source)
    return expanded


def read_source(source: str) -> bytes:
    path = Path(source).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise IngestError(f"{source}: is a folder") from None
    except OSError as e:
        raise IngestError(f"{source}: cannot read: {e.strerror}") from e


def ingest_sources(
    open_session: Callable[[], AbstractContextManager[Session]],
    sources: Iterable[str],
    *,
    now: datetime,
    defaults: SourceDefaults,
    on_source: Callable[[SourceResult], None] | None = None,
) -> IngestReport:
    """Ingest each source in its own transaction; failures are reported, not raised."""
    report = IngestReport()
    for source in expand_sources(sources):
        result = SourceResult(source)
        try:
            content = read_source(source)
            parsed = parse_feed(content, source=source, now=now, defaults=defaults)
            with open_session() as session:
                result.counts = store_records(session, parsed.records, now)
            if parsed.warning:
                result.counts.warnings.append(parsed.warning)
        except IngestError as e:
            result.error = str(e)
        report.results.append(result)
        if on_source:
            on_source(result)
    return report
