"""The preview page: routes for `digest serve`, and `digest preview --serve` on loopback."""

from __future__ import annotations

import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import lxml.html
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from digest import pipeline
from digest.config import load_settings
from digest.web.preview import application, fingerprint, routes
from digest.web.server import WebServer, bind
from tests.conftest import Digest
from tests.test_render_support import (
    DAY,
    NOW,
    full_plan,
    parse,
    plan_of,
    sample_articles,
    store_frozen,
)


@pytest.fixture
def site(initialised: Path):
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    store_frozen(db, settings, full_plan("en"))
    store_frozen(db, settings, plan_of(sample_articles("ar"), "ar", stories=4, related=2))
    yield initialised, settings, db
    db.dispose()


@contextmanager
def serving(app) -> Iterator[httpx.Client]:
    """A real uvicorn server on 127.0.0.1 (port 0) in a thread, and a client for it."""
    server = WebServer(app, bind("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()
        thread.join(timeout=10)


def client_for(settings, db, **options):
    return serving(application(settings, db, clock=lambda: NOW, **options))


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("ar", "rtl")])
def test_page_has_both_frames_text_and_source(site, language: str, direction: str) -> None:
    _folder, settings, db = site
    with client_for(settings, db) as client:
        response = client.get(f"/preview/?date={DAY}&lang={language}")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    doc = lxml.html.document_fromstring(response.text)
    frames = doc.findall(".//iframe")
    assert [f.get("width") for f in frames] == ["600", "375"]
    for frame in frames:
        assert "allow-scripts" not in frame.get("sandbox")
        assert f'<html lang="{language}" dir="{direction}"' in frame.get("srcdoc")
    texts = doc.findall(".//pre")
    assert "%%DIGEST_" not in texts[0].text_content()
    assert texts[0].text_content().startswith("Arab Press")
    assert "Content-Type: multipart/alternative" in texts[1].text_content()
    assert doc.find(".//body").get("data-layout") == "pending"
    assert "All email checks pass." in response.text


def test_parts_are_served_as_sent(site) -> None:
    _folder, settings, db = site
    with client_for(settings, db) as client:
        html = client.get(f"/preview/edition.html?date={DAY}&lang=ar")
        text = client.get(f"/preview/edition.txt?date={DAY}&lang=ar")
        eml = client.get(f"/preview/edition.eml?date={DAY}&lang=ar")
    assert html.headers["content-security-policy"].startswith("default-src 'none'")
    assert html.headers["content-type"].startswith("text/html")
    assert eml.headers["content-type"] == "message/rfc822"
    assert b"\n" not in eml.content.replace(b"\r\n", b"")
    message = parse(eml.content)
    assert message.get_body(("html",)).get_content() == html.text
    assert message.get_body(("plain",)).get_content() == text.text


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("lang=fr", 400, "language: &#39;fr&#39; is not one of the site&#39;s languages"),
        ("date=junk", 400, "date: expected YYYY-MM-DD"),
    ],
)
def test_bad_queries_are_reported_in_the_page(site, query, status, message) -> None:
    _folder, settings, db = site
    with client_for(settings, db) as client:
        response = client.get(f"/preview/?{query}")
        raw = client.get(f"/preview/edition.txt?{query}")
    assert response.status_code == status and message in response.text
    assert "--date" not in response.text and "--lang" not in response.text  # fields, not flags
    assert raw.status_code == status and "Traceback" not in raw.text


def test_routes_mount_under_preview_of_another_app(site) -> None:
    """What `digest serve` does: its own app, the preview routes under /preview."""
    _folder, settings, db = site
    app = Starlette(routes=[Mount("/preview", routes=routes(settings, db, clock=lambda: NOW))])
    with serving(app) as client:
        page = client.get(f"/preview/?date={DAY}&lang=en")
        base = str(client.base_url).rstrip("/")
        script = client.get("/preview/preview.js")
        version = client.get("/preview/version")
    assert page.status_code == 200
    assert f'src="{base}/preview/preview.js"' in page.text
    assert f'href="{base}/preview/edition.eml?date=2025-06-04&amp;lang=en"' in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert "data-overflow" in script.text.replace("dataset.overflow", "data-overflow")
    assert version.text == fingerprint(settings)


def test_public_preview_never_shows_a_subscriber(site) -> None:
    _folder, settings, db = site
    with client_for(settings, db) as client:
        response = client.get(f"/preview/?date={DAY}&lang=en&subscriber=layla@example.com")
    assert "reader@example.com" in response.text and "layla" not in response.text


def test_fingerprint_changes_when_a_template_is_saved(tmp_path: Path) -> None:
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    (folder / "email.txt").write_text("one\n", encoding="utf-8")
    (tmp_path / "digest.toml").write_text('[site]\ntemplates = "mytemplates"\n', "utf-8")
    settings = load_settings(tmp_path / "digest.toml", env={})
    before = fingerprint(settings)
    assert fingerprint(settings) == before
    (folder / "email.txt").write_text("one, edited\n", encoding="utf-8")
    assert fingerprint(settings) != before
    changed = fingerprint(settings)
    (folder / "locale").mkdir()
    (folder / "locale" / "fr.toml").write_text("", encoding="utf-8")
    assert fingerprint(settings) != changed


def read_line(process: subprocess.Popen, timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            return process.stdout.readline()
        if process.poll() is not None:
            break
    raise AssertionError(
        f"no line from the server: {process.stderr.read() if process.stderr else ''}"
    )


def test_preview_serve_reloads_when_templates_change(site) -> None:
    folder, _settings, _db = site
    templates = folder / "mytemplates"
    templates.mkdir()
    (templates / "email.txt").write_text("Version one {{ UNSUBSCRIBE_URL }}\n", encoding="utf-8")
    config = folder / "digest.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('templates = ""', 'templates = "mytemplates"'),
        encoding="utf-8",
    )
    env = {**os.environ, "DIGEST_CONFIG": str(config)}
    command = [sys.executable, "-m", "digest", "preview", "--serve", "--port", "0",
               "--date", "2001-01-01", "--lang", "en"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = read_line(process, 30)
        assert line.startswith("Preview at http://127.0.0.1:") and "(Ctrl+C to stop)" in line
        url = line.split()[2]
        base = url.split("?")[0]
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "Version one" in page.text
        version = httpx.get(base + "version", timeout=10).text
        (templates / "email.txt").write_text("Version two {{ UNSUBSCRIBE_URL }}\n", "utf-8")
        assert httpx.get(base + "version", timeout=10).text != version
        assert "Version two" in httpx.get(url, timeout=30).text
        assert httpx.get(
            base.rsplit("/preview/", 1)[0] + "/", follow_redirects=False, timeout=10
        ).status_code in (302, 307)
        # another name pointed at this address (DNS rebinding) is refused
        rebound = httpx.get(url, headers={"Host": "evil.example"}, timeout=10)
        assert rebound.status_code == 400 and "Version" not in rebound.text
        port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
        local = httpx.get(url, headers={"Host": f"localhost:{port}"}, timeout=30)
        assert local.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode in (0, -15)


def test_preview_serve_reports_a_busy_port(digest: Digest, initialised: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = digest("preview", "--serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"digest: error: cannot listen on 127.0.0.1:{port}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_preview_serve_refuses_an_unknown_subscriber(digest: Digest, initialised: Path) -> None:
    result = digest("preview", "--serve", "--port", "0", "--subscriber", "nobody@example.com")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: ") and "nobody@example.com" in result.stderr
    assert "Preview at" not in result.stdout
