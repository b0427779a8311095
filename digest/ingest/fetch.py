"""HTTP fetching for feeds and pages: polite, conditional, bounded.

A descriptive User-Agent, conditional GET (an unchanged feed costs a 304), redirects
followed (a few), a timeout on every attempt, a cap on the response size, and a bounded
number of retries for failures that may pass (timeouts, dropped connections, 429, 5xx).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from digest.errors import IngestError

if TYPE_CHECKING:
    import httpx

#: Statuses worth another try: the server may be restarting, overloaded or rate-limiting.
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
#: A Retry-After longer than this is not waited for (the run would stall): it fails instead.
MAX_RETRY_AFTER = 60.0
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@]*@")
_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@:]*):[^/?#@]*@")
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/json, "
    "application/x-ndjson, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)


def default_user_agent(site_url: str = "") -> str:
    """'newsletter-digest/0.1.0 (+https://site.example)': says who fetches, and for whom."""
    try:
        release = version("newsletter-digest")
    except PackageNotFoundError:
        release = "0"
    # A header is ASCII: an internationalised site address is left out rather than mangled.
    readable = site_url and site_url.isascii() and site_url.isprintable()
    contact = f" (+{site_url})" if readable else ""
    return f"newsletter-digest/{release}{contact}"


def without_credentials(url: str) -> str:
    """The URL without user info: what article links may be resolved against."""
    return _USERINFO.sub(r"\1", url, count=1)


def display_url(url: str) -> str:
    """The URL without a password in it, for messages and the stored `source`."""
    return _PASSWORD.sub(r"\1:***@", url, count=1)


@dataclass(frozen=True)
class FetchOptions:
    timeout: float = 20.0
    retries: int = 2
    backoff: float = 1.0
    max_bytes: int = 20_000_000
    max_redirects: int = 5
    #: Empty: default_user_agent().
    user_agent: str = ""


@dataclass(frozen=True)
class Validators:
    """What the server said last time, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    #: Where the content came from after redirects: the base for relative links.
    url: str
    #: None when the server answered 304 Not Modified.
    content: bytes | None
    content_type: str
    validators: Validators
    attempts: int

    @property
    def not_modified(self) -> bool:
        return self.content is None


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class FetchStopped(IngestError):
    """The run was asked to stop (`stop` set): the fetch gave up; nothing of it is kept."""


class Fetcher:
    """One HTTP client shared by every fetch of a run (thread-safe); close it when done.

    With `stop`, a fetch gives up (FetchStopped) at its next step once the event is set:
    before an attempt, between retries (the wait is cut short) and between chunks."""

    def __init__(
        self,
        options: FetchOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
    ) -> None:
        import httpx  # here, not at the top: only fetching needs it (faster CLI start)

        agent = options.user_agent or default_user_agent()
        if not agent.isprintable() or not agent.isascii():
            raise IngestError(f"[ingest] user_agent: must be one line of ASCII text, got {agent!r}")
        self.options = options
        self._sleep = sleep
        self._stop = stop
        self._client = httpx.Client(
            follow_redirects=True,
            max_redirects=options.max_redirects,
            timeout=httpx.Timeout(options.timeout),
            headers={"User-Agent": agent, "Accept": ACCEPT},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, validators: Validators = Validators()) -> Fetched:
        """GET with retries; IngestError (naming the URL and why) when it cannot be had."""
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        attempts = self.options.retries + 1
        for attempt in range(1, attempts + 1):
            self._check_stop(url)
            try:
                return self._attempt(url, headers, attempt)
            except _Transient as e:
                if attempt == attempts:
                    tries = f"after {attempts} attempts" if attempts > 1 else "no retries"
                    raise IngestError(f"{display_url(url)}: {e} ({tries})") from None
                if e.retry_after is not None and e.retry_after > MAX_RETRY_AFTER:
                    raise IngestError(
                        f"{display_url(url)}: {e} (server asks to retry after "
                        f"{e.retry_after:.0f} s)"
                    ) from None
                delay = max(self.options.backoff * 2 ** (attempt - 1), e.retry_after or 0)
                if self._stop is None:
                    self._sleep(delay)
                else:
                    self._stop.wait(delay)
        raise AssertionError("unreachable")

    def _check_stop(self, url: str) -> None:
        if self._stop is not None and self._stop.is_set():
            raise FetchStopped(f"{display_url(url)}: fetch abandoned: the run is stopping")

    def _attempt(self, url: str, headers: dict[str, str], attempt: int) -> Fetched:
        import httpx

        shown = display_url(url)
        # httpx times each network step; this bounds the whole attempt, so a server that
        # trickles a byte at a time cannot hold the run.
        deadline = time.monotonic() + self.options.timeout
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status == 304:
                    return self._result(response, None, attempt)
                if status in TRANSIENT_STATUSES:
                    raise _Transient(_status_text(response), _retry_after(response))
                if status >= 400:
                    raise IngestError(f"{shown}: {_status_text(response)}")
                if status >= 300:
                    raise IngestError(f"{shown}: {_status_text(response)} without a Location")
                return self._result(response, self._read(response, shown, deadline), attempt)
        except httpx.TimeoutException:
            raise _Transient(f"timed out after {self.options.timeout:g} s") from None
        except httpx.TooManyRedirects:
            raise IngestError(
                f"{shown}: too many redirects (more than {self.options.max_redirects})"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
            raise IngestError(f"{shown}: cannot fetch: {e}") from None
        except httpx.TransportError as e:
            raise _Transient(f"cannot connect: {_reason(e)}") from None

    def _read(self, response: httpx.Response, shown: str, deadline: float) -> bytes:
        limit = self.options.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise IngestError(f"{shown}: response too large ({declared} bytes, limit {limit})")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise IngestError(f"{shown}: response too large (over {limit} bytes)")
            chunks.append(chunk)
            self._check_stop(shown)
            if time.monotonic() > deadline:
                raise _Transient(f"timed out after {self.options.timeout:g} s")
        return b"".join(chunks)

    @staticmethod
    def _result(response: httpx.Response, content: bytes | None, attempt: int) -> Fetched:
        return Fetched(
            url=str(response.url),
            content=content,
            content_type=response.headers.get("Content-Type", ""),
            validators=Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            ),
            attempts=attempt,
        )


def _status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:200]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    sent = response.headers.get("Date")
    if not sent:
        return None  # an HTTP-date needs the server's clock to mean a delay
    try:
        moment = parsedate_to_datetime(value)
        date = parsedate_to_datetime(sent)
    except (TypeError, ValueError, IndexError):
        return None
    return max((moment - date).total_seconds(), 0.0)
