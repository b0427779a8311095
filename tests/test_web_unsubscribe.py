"""One-click unsubscribe over real HTTP: uvicorn on 127.0.0.1, port 0, driven with httpx."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from digest import pipeline
from digest.config import Settings, load_settings
from digest.db import Database
from digest.web import create_app, open_server
from digest.web.server import bind
from subscribers import store
from subscribers.models import Subscriber
from subscribers.tokens import make_token
from tests.conftest import REPO, Digest

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@dataclass
class Site:
    settings: Settings
    db: Database
    url: str

    def token(self, email: str) -> str:
        with self.db.session() as session:
            subscriber = store.get(session, email)
            return make_token(
                self.settings.secret_key(),
                subscriber.id,
                pipeline.list_id(self.settings),
                subscriber.email,
            )

    def subscriber(self, email: str) -> Subscriber:
        with self.db.session() as session:
            return store.get(session, email)


@contextmanager
def serving(settings: Settings, db: Database) -> Iterator[str]:
    """The real server in a thread; yields its base URL, stops it afterwards."""
    server = open_server(settings, db, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _attempt in range(500):
        if server.server.started or not thread.is_alive():
            break
        time.sleep(0.01)
    assert server.server.started, "the server did not start"
    try:
        yield server.url
    finally:
        server.stop()
        thread.join(10)


@pytest.fixture
def site(digest: Digest, initialised: Path) -> Iterator[Site]:
    digest.ok("subscribers", "add", "layla@example.com", "--name", "ليلى", "--lang", "ar")
    digest.ok("subscribers", "add", "sam@example.com", "--name", "Sam", "--lang", "en")
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        with serving(settings, db) as url:
            yield Site(settings, db, url)
    finally:
        db.dispose()


def test_get_shows_a_localised_confirm_page_and_changes_nothing(site: Site) -> None:
    token = site.token("layla@example.com")
    page = httpx.get(f"{site.url}/u/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in page.headers
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "إلغاء الاشتراك" in page.text
    assert '<form method="post">' in page.text
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in page.text
    assert "<script" not in page.text
    assert "layla@example.com" not in page.text  # shown masked: l•••@example.com
    assert "l•••@example.com" in page.text
    english = httpx.get(f"{site.url}/u/{site.token('sam@example.com')}")
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Unsubscribe from the Arab Press daily digest?" in english.text
    httpx.head(f"{site.url}/u/{token}")
    assert site.subscriber("layla@example.com").status == "active"


def test_one_click_post_unsubscribes_and_repeating_is_harmless(site: Site) -> None:
    token = site.token("sam@example.com")
    response = httpx.post(f"{site.url}/u/{token}", data=ONE_CLICK)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.text
    assert "set-cookie" not in response.headers
    first = site.subscriber("sam@example.com")
    assert first.status == "unsubscribed" and first.unsubscribed_at is not None
    again = httpx.post(f"{site.url}/u/{token}", data=ONE_CLICK)
    assert again.status_code == 200
    assert site.subscriber("sam@example.com").unsubscribed_at == first.unsubscribed_at
    page = httpx.get(f"{site.url}/u/{token}")
    assert page.status_code == 200 and "You are already unsubscribed" in page.text
    assert "<form" not in page.text
    assert site.subscriber("layla@example.com").status == "active"


def test_multipart_one_click_body_also_works(site: Site) -> None:
    token = site.token("layla@example.com")
    response = httpx.post(f"{site.url}/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert "تم إلغاء اشتراكك" in response.text
    assert site.subscriber("layla@example.com").status == "unsubscribed"


@pytest.mark.parametrize(
    "body",
    [{}, {"List-Unsubscribe": "Maybe"}, {"unsubscribe": "One-Click"}, {"x": "y" * 20000}],
)
def test_post_without_the_one_click_body_changes_nothing(site: Site, body: dict) -> None:
    response = httpx.post(f"{site.url}/u/{site.token('sam@example.com')}", data=body)
    assert response.status_code == 400
    assert "Nothing was changed" in response.text
    assert site.subscriber("sam@example.com").status == "active"


def test_bad_tokens_get_400_and_a_page_that_reveals_nothing(site: Site) -> None:
    token = site.token("sam@example.com")
    signature_tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    payload, signature = token.split(".")
    foreign = make_token("not-our-key-" * 3, 2, pipeline.list_id(site.settings), "sam@example.com")
    other_list = make_token(
        site.settings.secret_key(), 2, "digest.other.example", "sam@example.com"
    )
    bad_tokens = [
        token[:-5],
        token[: len(token) // 2],
        signature_tampered,
        f"{payload[:-1]}A.{signature}",
        foreign,
        other_list,
        "%00%0d%0aSet-Cookie:x=1",
        '"><img src=x onerror=alert(1)>',
        "x" * 3000,
    ]
    bodies = set()
    for bad in bad_tokens:
        for method in ("GET", "POST"):
            response = httpx.request(method, f"{site.url}/u/{bad}", data=ONE_CLICK)
            assert response.status_code == 400, (bad, method)
            assert "This link is not valid" in response.text
            assert "set-cookie" not in response.headers
            for secret in ("sam", "Sam", bad[:12], "<img"):
                assert secret not in response.text
            bodies.add(response.text)
    assert len(bodies) == 1  # every kind of bad token looks the same
    assert site.subscriber("sam@example.com").status == "active"
    arabic = httpx.get(f"{site.url}/u/{token[:-5]}", headers={"Accept-Language": "ar, en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in arabic.text


def test_token_of_a_removed_subscriber_is_harmless(site: Site, digest: Digest) -> None:
    token = site.token("sam@example.com")
    digest.ok("subscribers", "remove", "sam@example.com")
    response = httpx.post(f"{site.url}/u/{token}", data=ONE_CLICK)
    assert response.status_code == 200
    assert "This address is not on our list" in response.text
    assert httpx.get(f"{site.url}/u/").status_code == 404


@pytest.mark.sqlite_only("a message of digest demo, which keeps its own SQLite database")
def test_link_in_a_sent_message_unsubscribes(tmp_path: Path) -> None:
    """End to end: the List-Unsubscribe URL of a delivered demo message works."""
    Digest().ok("demo", str(tmp_path / "demo"))
    settings = load_settings(tmp_path / "demo" / "digest.toml", env={})
    message_file = sorted((tmp_path / "demo" / "outbox" / "new").iterdir())[0]
    message = message_from_bytes(message_file.read_bytes())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https = [
        part.strip()[1:-1]
        for part in message["List-Unsubscribe"].split(",")
        if part.strip().startswith("<https:")
    ]
    path = urlsplit(https[0]).path
    recipient = message["To"].rsplit("<", 1)[-1].rstrip(">")
    db = pipeline.open_database(settings)
    try:
        with serving(settings, db) as url:
            assert httpx.post(url + path, data=ONE_CLICK).status_code == 200
        with db.session() as session:
            assert store.get(session, recipient).status == "unsubscribed"
    finally:
        db.dispose()


def test_configured_unsubscribe_path_is_served_too(initialised: Path) -> None:
    config = initialised / "digest.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("https://arabpress.example/u/{token}", "https://x.example/news/out/{token}"),
        encoding="utf-8",
    )
    settings = load_settings(config)
    db = pipeline.open_database(settings)
    try:
        paths = {route.path for route in create_app(settings, db).routes}  # type: ignore[attr-defined]
    finally:
        db.dispose()
    assert {
        "/u/{token}",
        "/news/out/{token}",
        "/preview",
        "/subscribe",
        "/api/subscribe",
        "/confirm/{token}",
        "/p/{token}",
        "/hooks/ses",
        "/hooks/postmark",
    } <= paths  # and the archive's


def test_serve_reports_a_busy_port_in_one_line(digest: Digest, initialised: Path) -> None:
    busy = bind("127.0.0.1", 0)
    try:
        port = busy.getsockname()[1]
        result = digest("serve", "--port", str(port))
        assert result.exit_code == 1
        assert result.stderr == (
            f"digest: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
        )
    finally:
        busy.close()


def test_serve_command_serves_until_interrupted(initialised: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", "0"],
        cwd=initialised,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("serving on http://127.0.0.1:"), process.stderr.read()  # type: ignore[union-attr]
        base = first.split()[2]
        assert httpx.get(f"{base}/u/not-a-token").status_code == 400
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out.strip() == "stopped"
    assert "not-a-token" not in err  # no access log with tokens by default


def test_digest_serve_also_shows_the_preview(site: Site, digest: Digest) -> None:
    digest.ok("ingest", str(REPO / "digest" / "data" / "sample"))
    page = httpx.get(f"{site.url}/preview/?date=2025-06-04&lang=ar", timeout=30)
    assert page.status_code == 200
    html = httpx.get(f"{site.url}/preview/edition.html?date=2025-06-04&lang=ar", timeout=30)
    assert html.status_code == 200
    assert 'dir="rtl"' in html.text


def test_an_unsubscribe_by_mistake_is_undone_from_the_page_it_lands_on(site: Site) -> None:
    token = site.token("sam@example.com")
    done = httpx.post(f"{site.url}/u/{token}", data=ONE_CLICK)
    found = re.search(r'<a href="([^"]+)">Unsubscribed by mistake\?', done.text)
    assert found, done.text
    assert found.group(1) == f"{site.settings.public_url}/p/{token}"
    with httpx.Client(base_url=site.url, headers={"Origin": site.url}) as browser:
        page = browser.get(f"/p/{token}")
        assert 'value="resubscribe"' in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        back = browser.post(
            f"/p/{token}", data={"action": "resubscribe", "csrf_token": csrf.group(1)}
        )
    assert back.status_code == 200
    assert site.subscriber("sam@example.com").status == "active"
    confirm_page = httpx.get(f"{site.url}/u/{token}")
    assert "Unsubscribed by mistake" not in confirm_page.text


def test_trailing_slash_redirects_are_relative_whatever_the_host(site: Site) -> None:
    token = site.token("sam@example.com")
    expected = {
        "/subscribe/": "/subscribe",
        "/subscribe/?lang=ar": "/subscribe?lang=ar",
        f"/p/{token}/": f"/p/{token}",
        "/preview": "/preview/",
        "/preview/edition.html/?date=2025-06-04": "/preview/edition.html?date=2025-06-04",
    }
    with httpx.Client(base_url=site.url, headers={"Host": "evil.example"}) as client:
        for path, location in expected.items():
            answer = client.get(path)
            assert answer.status_code == 307, path
            assert answer.headers["location"] == location, path
        assert client.get("/nothing/").status_code == 404
        assert client.get("//subscribe/").status_code == 404
