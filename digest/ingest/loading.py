"""Getting each source's content and parsing it, ahead of the store where it helps.

URLs are fetched in threads (network waits overlap), many megabytes of files are parsed
in worker processes; the caller stores the results in the given order, one at a time.

A run may be stopped (`stop`, e.g. SIGTERM to `digest schedule`): waiting for a source
then ends at once (SourceAbandoned) and the fetch in flight is abandoned. Fetch threads
are daemon threads for that reason: the interpreter joins a ThreadPoolExecutor's workers
at exit, so one fetch hanging on a silent server would hold the process for its timeouts.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from digest.errors import IngestError
from digest.ingest.detect import FEED, FORMATS, HTML, JSON, JSONL, detect_format
from digest.ingest.feeds import parse_feed
from digest.ingest.fetch import Fetcher, Validators, without_credentials
from digest.ingest.jsonitems import parse_json
from digest.ingest.pages import parse_page
from digest.ingest.records import ParsedSource, SourceDefaults
from digest.ingest.workers import parsing_pool


@dataclass(frozen=True)
class Source:
    """One thing to ingest; `name` is what messages show and articles record as source."""

    name: str
    path: Path | None = None
    url: str | None = None
    feed_id: int | None = None
    validators: Validators = field(default_factory=Validators)
    defaults: SourceDefaults = field(default_factory=SourceDefaults)
    #: Known to fail before loading (no such file, empty folder).
    problem: str | None = None
    #: What its articles record as source, where not `name` (a file: `file_sources`).
    records_as: str | None = None


@dataclass(frozen=True)
class Loaded:
    """A source ready to store: parsed, or unchanged since last time (HTTP 304)."""

    parsed: ParsedSource
    not_modified: bool = False
    #: The server's new ETag/Last-Modified (URLs only).
    validators: Validators | None = None


class SourceAbandoned(Exception):
    """The run was stopped while this source was still being fetched or parsed."""


def loaded_in_order(
    sources: list[Source],
    fetcher: Fetcher | None,
    *,
    now: datetime,
    source_format: str,
    concurrency: int,
    processes: int | None = None,
    stop: threading.Event | None = None,
) -> Generator[tuple[Source, Callable[[], Loaded]], None, None]:
    """Each source with a callable giving its Loaded, in the given order.

    URLs are fetched (and parsed) in threads a few sources ahead. Files are parsed in
    worker processes when that pays (see `workers`; `processes` as there), else here
    when their turn comes. Once `stop` is set, a callable still waiting raises
    SourceAbandoned at once (within `STOP_POLL` seconds).
    """
    files = [source.path for source in sources if source.path and not source.problem]
    # Workers fork before any fetch thread exists, and never beside URL fetches.
    pool = None if any(source.url for source in sources) else parsing_pool(files, processes)
    threads = FetchThreads(max(concurrency, 1))
    ahead = max(concurrency, 1) * 2
    try:
        window: deque[tuple[Source, Callable[[], Loaded]]] = deque()
        for source in sources:
            scheduled = _schedule(source, threads, pool, fetcher, now, source_format, stop)
            window.append((source, scheduled))
            if len(window) >= ahead:
                yield window.popleft()
        while window:
            yield window.popleft()
    finally:
        # Interrupted (a stop, Ctrl+C, an error): do not start the work still queued; a
        # fetch in flight is left to its daemon thread (its result is never stored).
        threads.shutdown()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


#: How often a wait for a source looks at the stop event, in seconds.
STOP_POLL = 0.1


class FetchThreads:
    """At most `workers` fetches at once, each in a daemon thread (see the module's
    docstring for why not ThreadPoolExecutor); `shutdown` cancels those not started."""

    def __init__(self, workers: int) -> None:
        self._slots = threading.BoundedSemaphore(workers)
        self._futures: list[Future[Loaded]] = []

    def submit(self, fn: Callable[..., Loaded], *args: object) -> Future[Loaded]:
        future: Future[Loaded] = Future()

        def run() -> None:
            with self._slots:
                if not future.set_running_or_notify_cancel():
                    return
                try:
                    future.set_result(fn(*args))
                except BaseException as e:  # handed to whoever waits for the source
                    future.set_exception(e)

        self._futures.append(future)
        threading.Thread(target=run, name="fetch", daemon=True).start()
        return future

    def shutdown(self) -> None:
        for future in self._futures:
            future.cancel()


def _schedule(
    source: Source,
    threads: FetchThreads,
    pool: Executor | None,
    fetcher: Fetcher | None,
    now: datetime,
    source_format: str,
    stop: threading.Event | None,
) -> Callable[[], Loaded]:
    if source.problem:
        return partial(_fail, source.problem)
    if source.url is not None:
        assert fetcher is not None, "a URL source needs a fetcher"
        future = threads.submit(_fetch, source, fetcher, now, source_format)
        return partial(_result, future, stop)
    if pool is not None:
        return partial(_result, pool.submit(load_file, source, now, source_format), stop)
    return partial(load_file, source, now, source_format)


def _result(future: Future[Loaded], stop: threading.Event | None) -> Loaded:
    """The source's Loaded; SourceAbandoned as soon as `stop` is set while waiting."""
    while stop is not None and not future.done():
        if stop.is_set():
            raise SourceAbandoned
        wait([future], timeout=STOP_POLL, return_when=FIRST_COMPLETED)
    return future.result()


def _fail(problem: str) -> Loaded:
    raise IngestError(problem)


def _fetch(source: Source, fetcher: Fetcher, now: datetime, source_format: str) -> Loaded:
    assert source.url is not None
    fetched = fetcher.fetch(source.url, source.validators)
    if fetched.content is None:
        # No validators: a 304 may omit them, and the stored ones are what earned it.
        return Loaded(ParsedSource(), not_modified=True)
    parsed = parse_content(
        fetched.content,
        source,
        now,
        source_format,
        base_url=without_credentials(fetched.url),
        content_type=fetched.content_type,
    )
    return Loaded(parsed, validators=fetched.validators)


def load_file(source: Source, now: datetime, source_format: str) -> Loaded:
    """Read and parse a file (in a worker process too: arguments and result pickle)."""
    assert source.path is not None
    return Loaded(parse_content(_read_file(source.name, source.path), source, now, source_format))


def _read_file(name: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{name}: no such file or folder") from None
    except IsADirectoryError:
        raise IngestError(f"{name}: is a folder") from None
    except OSError as e:
        raise IngestError(f"{name}: cannot read: {e.strerror}") from e


def parse_content(
    content: bytes,
    source: Source,
    now: datetime,
    source_format: str = "auto",
    *,
    base_url: str = "",
    content_type: str = "",
) -> ParsedSource:
    """Parse with the forced format, or the one the content shows (not its name)."""
    if not content.strip():
        raise IngestError(f"{source.name}: empty")
    kind = FORMATS[source_format] if source_format != "auto" else detect_format(content)
    if kind == FEED:
        return parse_feed(
            content,
            source=source.name,
            now=now,
            defaults=source.defaults,
            base_url=base_url,
            content_type=content_type,
        )
    if kind in (JSON, JSONL):
        return parse_json(
            content,
            source=source.name,
            now=now,
            defaults=source.defaults,
            lines=kind == JSONL,
            base_url=base_url,
        )
    if kind == HTML:
        return parse_page(
            content, source=source.name, now=now, defaults=source.defaults, base_url=base_url
        )
    raise IngestError(
        f"{source.name}: not a feed, JSON or HTML page (content not recognised; "
        "name the source's format: rss, atom, json, jsonl or html)"
    )
