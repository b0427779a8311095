"""Where articles come from (files, folders, URLs, registered feeds) and how each lands.

Every source is loaded and parsed completely (see `loading`), then stored in its own
transaction: one bad source never stops the others and never leaves half its items
behind. A registered feed's HTTP validators are saved only with its articles, so a
feed whose content failed is fetched in full next time.

A run can be stopped (`stop`): it is looked at between sources, and a source still being
fetched is abandoned at once (see `loading`). An abandoned source stores nothing and is
not recorded as failing: it is simply fetched again by the next run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from digest.characters import escaped
from digest.errors import IngestError
from digest.ingest import registry
from digest.ingest.clean import plain_text
from digest.ingest.detect import FORMATS
from digest.ingest.fetch import Fetcher, FetchOptions, FetchStopped, display_url
from digest.ingest.file_sources import SCHEME, file_source
from digest.ingest.loading import Loaded, Source, SourceAbandoned, loaded_in_order
from digest.ingest.records import SourceDefaults
from digest.ingest.store import IngestCounts, OnStored, store_records
from digest.models import Feed

#: File name endings a folder is searched for (a named file is read whatever its name).
SUPPORTED_SUFFIXES = (
    ".xml", ".rss", ".atom", ".rdf", ".feed", ".json", ".jsonl", ".ndjson", ".html", ".htm",
)  # fmt: skip

OpenSession = Callable[[], AbstractContextManager[Session]]


@dataclass
class SourceResult:
    source: str
    counts: IngestCounts = field(default_factory=IngestCounts)
    error: str | None = None
    not_modified: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    results: list[SourceResult] = field(default_factory=list)
    #: Sources left unstored because the run was stopped (fetched again next run).
    abandoned: list[str] = field(default_factory=list)

    @property
    def stopped(self) -> bool:
        return bool(self.abandoned)

    @property
    def failed(self) -> list[SourceResult]:
        return [result for result in self.results if result.error]

    def totals(self) -> IngestCounts:
        total = IngestCounts()
        for result in self.results:
            total.add(result.counts)
        return total


@dataclass(frozen=True)
class IngestOptions:
    source_format: str = "auto"
    defaults: SourceDefaults = field(default_factory=SourceDefaults)
    fetch: FetchOptions = field(default_factory=FetchOptions)
    #: URLs fetched at the same time.
    concurrency: int = 4
    #: Worker processes parsing files: None decides by size and idle cores (see workers).
    processes: int | None = None
    #: Given the rows each source stored, in its transaction (`store.store_records`).
    on_stored: OnStored | None = None


def ingest_sources(
    open_session: OpenSession,
    given: Iterable[str],
    *,
    now: datetime,
    options: IngestOptions = IngestOptions(),
    on_start: Callable[[int], None] | None = None,
    on_source: Callable[[SourceResult], None] | None = None,
    stop: threading.Event | None = None,
) -> IngestReport:
    """Ingest the given sources (every registered feed if none); failures are reported.

    Once `stop` is set, the sources not yet stored are left (`IngestReport.abandoned`)."""
    if options.source_format != "auto" and options.source_format not in FORMATS:
        raise IngestError(f"unknown format {options.source_format!r}", field="format")
    # The operator's --section is text like any other: it reaches Subject lines too.
    defaults = replace(options.defaults, section=plain_text(options.defaults.section) or None)
    with open_session() as session:
        sources = resolve_sources(session, list(given), defaults)
    if on_start:
        on_start(len(sources))
    report = IngestReport()
    # Files only: no HTTP client (nor its import) is needed.
    needs_http = any(source.url and not source.problem for source in sources)
    fetcher = Fetcher(options.fetch, stop=stop) if needs_http else None
    try:
        loading_all = loaded_in_order(
            sources,
            fetcher,
            now=now,
            source_format=options.source_format,
            concurrency=options.concurrency,
            processes=options.processes,
            stop=stop,
        )
        with closing(loading_all):
            for number, (source, loading) in enumerate(loading_all):
                result = None
                if stop is None or not stop.is_set():
                    result = _store_source(open_session, source, loading, now, options.on_stored)
                if result is None:
                    report.abandoned = [s.name for s in sources[number:]]
                    break
                report.results.append(result)
                if on_source:
                    on_source(result)
    finally:
        # A fetch abandoned mid-flight may still use the client: its thread ends with it.
        if fetcher is not None and not report.stopped:
            fetcher.close()
    return report


def _store_source(
    open_session: OpenSession,
    source: Source,
    loading: Callable[[], Loaded],
    now: datetime,
    on_stored: OnStored | None = None,
) -> SourceResult | None:
    """Store one loaded source in its own transaction; any failure leaves nothing of it.
    None: the run stopped before the source was loaded (nothing stored, nothing noted)."""
    result = SourceResult(source.name)
    try:
        try:
            loaded = loading()
        except (SourceAbandoned, FetchStopped):
            return None
        parsed = loaded.parsed
        result.not_modified = loaded.not_modified
        if source.records_as is not None:
            for record in parsed.records:
                record.source = source.records_as
        for attempt in (1, 2):
            try:
                with open_session() as session:
                    result.counts = store_records(session, parsed.records, now, on_stored)
                    result.counts.skipped += parsed.skipped
                    if source.feed_id is not None:
                        registry.record_success(
                            session, source.feed_id, loaded.validators, parsed.title, now
                        )
                break
            except IntegrityError:
                # Another ingest stored some of these articles between our reads and our
                # writes (a manual run beside the scheduler's): once more, they are ours
                # to update or leave unchanged now (a breaker pass saw a false "database
                # error" for the source the other run stored).
                if attempt == 2:
                    raise
        result.warnings = parsed.warnings
    except IngestError as e:
        result.error = str(e)
    except SQLAlchemyError as e:
        result.error = f"{source.name}: database error: {_first_line(e)}"
    if result.error and source.feed_id is not None:
        _note_failure(open_session, source.feed_id, result.error, now)
    return result


def _note_failure(open_session: OpenSession, feed_id: int, error: str, now: datetime) -> None:
    try:
        with open_session() as session:
            registry.record_failure(session, feed_id, error, now)
    except SQLAlchemyError:
        pass  # the failure is already in the report; the database is the problem here


def _first_line(error: Exception) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).splitlines() or [type(original).__name__])[0][:200]


def resolve_sources(session: Session, given: list[str], defaults: SourceDefaults) -> list[Source]:
    """Files stay, folders become their supported files, URLs are matched to registrations."""
    if not given:
        feeds = registry.list_feeds(session)
        if not feeds:
            raise IngestError(
                "no sources given and no feeds registered",
                hint="name files, folders or URLs, or register a feed: digest feeds add URL",
            )
        return [_feed_source(feed.url, feed, defaults) for feed in feeds]
    sources: list[Source] = []
    for text in given:
        scheme = SCHEME.match(text.strip())
        if scheme and scheme.group(1).lower() in ("http", "https"):
            try:
                url = registry.normalise_feed_url(text)
            except IngestError as e:
                sources.append(Source(escaped(display_url(text)), problem=str(e)))
                continue
            sources.append(_feed_source(url, registry.find_feed(session, url), defaults))
        elif scheme:
            shown = escaped(text)
            sources.append(Source(shown, problem=f"{shown}: only http(s) URLs can be fetched"))
        else:
            sources.extend(_path_sources(text, defaults))
    return sources


def _feed_source(url: str, feed: Feed | None, defaults: SourceDefaults) -> Source:
    """A URL; a registered one brings its conditional-GET state and default section/lang,
    and its address as registered (one registered before its address was normalised as
    now keeps the spelling its articles record)."""
    if feed is None:
        return Source(display_url(url), url=url, defaults=defaults)
    url = feed.url
    merged = replace(
        defaults,
        section=defaults.section or feed.section or None,
        language=defaults.language or feed.language or None,
    )
    return Source(
        display_url(url),
        url=url,
        feed_id=feed.id,
        validators=registry.validators_of(feed),
        defaults=merged,
    )


def _path_sources(text: str, defaults: SourceDefaults) -> list[Source]:
    """The file, or a folder's supported files; named escaped in messages (the records
    name their file by `file_source`)."""
    path = Path(text).expanduser()
    shown = escaped(text)
    if not path.is_dir():
        return [Source(shown, path=path, defaults=defaults, records_as=file_source(path))]
    children = sorted(
        child
        for child in path.iterdir()
        if child.suffix.lower() in SUPPORTED_SUFFIXES
        and not child.name.startswith(".")
        and child.is_file()
    )
    if not children:
        problem = f"{shown}: folder holds no supported files ({', '.join(SUPPORTED_SUFFIXES)})"
        return [Source(shown, problem=problem)]
    return [
        Source(escaped(str(child)), path=child, defaults=defaults, records_as=file_source(child))
        for child in children
    ]
