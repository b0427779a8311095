"""Ingest over HTTP, against a real http.server on 127.0.0.1 (port 0) in a thread.

Conditional GET (ETag / Last-Modified -> 304), redirects, a 500 retried a bounded number
of times, a timeout, registered feeds, and one failing feed not stopping the others.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Digest

INGEST = FIXTURES / "ingest"
ETAG = '"v1-arabic"'
LAST_MODIFIED = "Wed, 04 Jun 2025 03:30:00 GMT"


@dataclass
class Site:
    """What the server serves and what it saw."""

    base: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    fail_times: dict[str, int] = field(default_factory=dict)
    #: (ETag, body) served by /changing: the first, then the next one for each full fetch.
    versions: list[tuple[str, bytes]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen == path]


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, dict(self.headers.items())))
            route = getattr(
                self, "route_" + self.path.strip("/").replace(".", "_").replace("-", "_"), None
            )
            if route is None:
                self.send_error(404)
            else:
                route()

        def reply(self, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def route_arabic_xml(self) -> None:
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
                return
            body = (INGEST / "arabic.xml").read_bytes()
            self.reply(body, "application/rss+xml", ETag=ETAG)

        def route_atom_xml(self) -> None:
            if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                self.send_response(304)
                self.end_headers()
                return
            body = (INGEST / "atom.xml").read_bytes()
            # Served as text/html, as many servers do: still detected from content.
            self.reply(body, "text/html; charset=utf-8", Last_Modified=LAST_MODIFIED)

        def route_moved(self) -> None:
            self.send_response(301)
            self.send_header("Location", f"{site.base}/hop")
            self.end_headers()

        def route_hop(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/articles.jsonl")
            self.end_headers()

        def route_loop(self) -> None:
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()

        def route_articles_jsonl(self) -> None:
            self.reply((INGEST / "articles.jsonl").read_bytes(), "application/x-ndjson")

        def route_page(self) -> None:
            body = (INGEST / "arabpress-article.html").read_bytes()
            self.reply(body, "text/html; charset=utf-8")

        def route_broken(self) -> None:
            self.send_error(500, "Internal Server Error")

        def route_flaky(self) -> None:
            left = site.fail_times.get("flaky", 0)
            if left:
                site.fail_times["flaky"] = left - 1
                self.send_error(503, "Service Unavailable")
                return
            self.reply((INGEST / "rss1.rdf").read_bytes(), "application/rdf+xml")

        def route_slow(self) -> None:
            site.release.wait(30)  # longer than the client's timeout; released at teardown
            self.reply(b"<rss version='2.0'><channel/></rss>", "application/rss+xml")

        def route_changing(self) -> None:
            etag, body = site.versions[0]
            if self.headers.get("If-None-Match") == etag:
                # Changed since: serve the next version (once there is one).
                if len(site.versions) > 1:
                    site.versions.pop(0)
                    etag, body = site.versions[0]
                else:
                    self.send_response(304)
                    self.end_headers()
                    return
            self.reply(body, "application/rss+xml", ETag=etag)

        def route_busy(self) -> None:
            self.send_response(503)
            self.send_header("Retry-After", "3600")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def route_junk(self) -> None:
            self.reply(b"\x89PNG\r\n\x1a\n not a feed", "application/octet-stream")

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def set_ingest(config: Path, **values: object) -> None:
    """Change keys of the [ingest] table of the digest.toml written by `digest init`."""
    lines, section = [], ""
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        key = line.split("=", 1)[0].strip()
        if section == "ingest" and key in values:
            line = f"{key} = {values[key]!r}"
        lines.append(line)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def fast(initialised: Path) -> Path:
    """No waiting between retries, and a short timeout, so failures are quick to test."""
    set_ingest(initialised / "digest.toml", retry_backoff=0.0, timeout=1.0)
    return initialised


def articles(digest: Digest) -> list[dict[str, object]]:
    return json.loads(digest.ok("articles", "list", "--json").stdout)


def test_conditional_get_makes_an_unchanged_feed_cost_a_304(
    digest: Digest, fast: Path, site: Site
) -> None:
    url = f"{site.base}/arabic.xml"
    first = digest.ok("ingest", url)
    assert f"{url}: 2 new" in first.stdout
    assert "If-None-Match" not in site.hits("/arabic.xml")[0]
    before = articles(digest)

    digest.ok("feeds", "add", url)  # registered: its validators are remembered from now on
    digest.ok("ingest")
    assert "If-None-Match" not in site.hits("/arabic.xml")[1]
    again = digest.ok("ingest")
    assert site.hits("/arabic.xml")[2]["If-None-Match"] == ETAG
    assert f"{url}: not modified" in again.stdout
    assert "total: 0 new, 0 updated, 0 unchanged, 0 skipped, 0 failed" in again.stdout
    assert articles(digest) == before


def test_last_modified_is_sent_back_and_content_type_does_not_decide_the_format(
    digest: Digest, fast: Path, site: Site
) -> None:
    url = f"{site.base}/atom.xml"
    digest.ok("feeds", "add", url, "--section", "Economy")
    assert "2 new" in digest.ok("ingest").stdout
    assert "not modified" in digest.ok("ingest").stdout
    assert site.hits("/atom.xml")[1]["If-Modified-Since"] == LAST_MODIFIED
    stored = articles(digest)
    assert {a["section"] for a in stored} == {"Economy"}  # the registration's section
    assert {a["source"] for a in stored} == {url}


def test_user_agent_names_the_tool_and_the_site(digest: Digest, fast: Path, site: Site) -> None:
    digest.ok("ingest", f"{site.base}/arabic.xml")
    agent = site.hits("/arabic.xml")[0]["User-Agent"]
    assert agent.startswith("newsletter-digest/")
    assert "(+https://arabpress.example)" in agent


def test_redirects_are_followed_and_links_resolve_against_the_final_url(
    digest: Digest, fast: Path, site: Site
) -> None:
    result = digest.ok("ingest", f"{site.base}/moved")
    assert "3 new" in result.stdout
    assert [path for path, _ in site.requests] == ["/moved", "/hop", "/articles.jsonl"]
    titles = {a["title"] for a in articles(digest)}
    assert "UAE Offers Free ChatGPT Plus Subscriptions" in titles


def test_a_redirect_loop_is_reported(digest: Digest, fast: Path, site: Site) -> None:
    result = digest("ingest", f"{site.base}/loop")
    assert result.exit_code == 1
    assert f"error: {site.base}/loop: too many redirects" in result.stderr


def test_a_500_is_retried_a_bounded_number_of_times_then_reported(
    digest: Digest, fast: Path, site: Site
) -> None:
    set_ingest(fast / "digest.toml", retries=2)
    result = digest("ingest", f"{site.base}/broken")
    assert result.exit_code == 1
    assert len(site.hits("/broken")) == 3
    assert f"error: {site.base}/broken: HTTP 500 Internal Server Error (after 3 attempts)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_transient_failure_that_passes_is_ingested(
    digest: Digest, fast: Path, site: Site
) -> None:
    site.fail_times["flaky"] = 2
    result = digest.ok("ingest", f"{site.base}/flaky")
    assert "1 new" in result.stdout
    assert len(site.hits("/flaky")) == 3


def test_a_long_retry_after_is_not_waited_for(digest: Digest, fast: Path, site: Site) -> None:
    result = digest("ingest", f"{site.base}/busy")
    assert result.exit_code == 1
    assert "HTTP 503 Service Unavailable (server asks to retry after 3600 s)" in result.stderr
    assert len(site.hits("/busy")) == 1


def test_a_response_over_the_size_limit_is_refused(digest: Digest, fast: Path, site: Site) -> None:
    set_ingest(fast / "digest.toml", max_bytes=1000)
    result = digest("ingest", f"{site.base}/arabic.xml")
    assert result.exit_code == 1
    assert "arabic.xml: response too large" in result.stderr
    assert digest.ok("articles", "list", "--json").stdout.strip() == "[]"


def test_a_timeout_is_reported_and_does_not_stop_other_feeds(
    digest: Digest, fast: Path, site: Site
) -> None:
    set_ingest(fast / "digest.toml", retries=0, timeout=0.5)
    result = digest("ingest", f"{site.base}/slow", f"{site.base}/arabic.xml")
    assert result.exit_code == 1
    assert f"error: {site.base}/slow: timed out after 0.5 s (no retries)" in result.stderr
    assert f"{site.base}/arabic.xml: 2 new" in result.stdout
    assert "1 failed" in result.stdout


def test_one_failing_registered_feed_does_not_stop_the_others(
    digest: Digest, fast: Path, site: Site
) -> None:
    for path in ("/broken", "/arabic.xml", "/junk", "/page"):
        digest.ok("feeds", "add", site.base + path)
    result = digest("ingest")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "/broken: HTTP 500" in errors[0]
    assert "/junk: not a feed, JSON or HTML page" in errors[1]
    assert "total: 3 new, 0 updated, 0 unchanged, 0 skipped, 2 failed" in result.stdout
    feeds = {f["url"]: f for f in json.loads(digest.ok("feeds", "list", "--json").stdout)}
    assert "HTTP 500" in feeds[f"{site.base}/broken"]["last_error"]
    assert feeds[f"{site.base}/arabic.xml"]["last_error"] is None
    assert feeds[f"{site.base}/arabic.xml"]["name"] == "عرب برس"  # the feed's own title
    assert feeds[f"{site.base}/page"]["last_fetched_at"]


def test_a_failed_parse_keeps_the_old_validators_so_the_next_run_fetches_in_full(
    digest: Digest, fast: Path, site: Site
) -> None:
    url = f"{site.base}/changing"
    digest.ok("feeds", "add", url)
    site.versions = [
        ('"good"', (INGEST / "rss1.rdf").read_bytes()),
        ('"broken"', b"<rss version='2.0'><channel><item><title>Cut off"),
    ]
    assert "1 new" in digest.ok("ingest").stdout
    failed = digest("ingest")
    assert failed.exit_code == 1
    assert "malformed feed, nothing recoverable" in failed.stderr
    assert site.hits("/changing")[1]["If-None-Match"] == '"good"'
    digest("ingest")
    # The broken version's ETag was not kept: the server gets a chance to serve it in full.
    assert site.hits("/changing")[2]["If-None-Match"] == '"good"'
    [feed] = json.loads(digest.ok("feeds", "list", "--json").stdout)
    assert "malformed feed" in feed["last_error"]


def test_an_article_page_over_http_uses_its_canonical_url(
    digest: Digest, fast: Path, site: Site
) -> None:
    digest.ok("ingest", f"{site.base}/page")
    [article] = articles(digest)
    assert article["url"].startswith("https://arabpress.example/world/russia-expresses")
    assert article["published_at"] == "2025-06-04T03:40:00Z"
    assert article["source"] == f"{site.base}/page"


def test_unreachable_host_is_one_clear_line(digest: Digest, fast: Path, site: Site) -> None:
    set_ingest(fast / "digest.toml", retries=1)
    # A port nothing listens on: bind one, note it, close it.
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = digest("ingest", f"http://127.0.0.1:{port}/feed.xml")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: http://127.0.0.1:{port}/feed.xml: cannot connect")
    assert line.endswith("(after 2 attempts)")


def test_a_password_in_a_feed_url_is_never_printed(digest: Digest, fast: Path, site: Site) -> None:
    host = site.base.removeprefix("http://")
    url = f"http://reader:s3cret@{host}/arabic.xml"
    added = digest.ok("feeds", "add", url)
    result = digest.ok("ingest")
    listed = digest.ok("feeds", "list")
    stored = digest.ok("articles", "list", "--json")
    for output in (added.stdout, result.stdout, result.stderr, listed.stdout, stored.stdout):
        assert "s3cret" not in output
    assert "Authorization" in site.hits("/arabic.xml")[0]  # the credentials were used
