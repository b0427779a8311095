"""The web archive: index per language, one page per sent edition without personal
parts, an Atom feed, the same files from `digest archive build`, and a real server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import lxml.html
import pytest

with warnings.catch_warnings():  # Starlette asks for httpx2, which we do not use
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from digest import pipeline
from digest.config import load_settings
from digest.web import create_app
from tests.conftest import REPO, SAMPLE_INIT, Digest

DAY = "2025-06-04"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def sent(digest: Digest, tmp_path: Path, database_env: str) -> Path:
    """A site whose 2025-06-04 editions were sent in both languages."""
    digest.ok("init", *SAMPLE_INIT)
    digest.ok("ingest", str(REPO / "digest" / "data" / "sample"))
    digest.ok("subscribers", "add", "layla@example.com", "--name", "Layla Haddad")
    digest.ok("subscribers", "add", "omar@example.com", "--lang", "ar", "--name", "Omar")
    digest.ok("send", "--date", DAY)
    return tmp_path


@pytest.fixture
def client(sent: Path):
    settings = load_settings(sent / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        with TestClient(create_app(settings, db)) as test_client:
            yield test_client
    finally:
        db.dispose()


def test_archive_index_lists_editions_per_language(client: TestClient) -> None:
    page = client.get("/archive/")
    assert page.status_code == 200
    doc = lxml.html.document_fromstring(page.text)
    sections = doc.findall(".//section")
    assert [s.get("lang") for s in sections] == ["en", "ar"]
    assert sections[1].get("dir") == "rtl"
    assert [a.get("href") for a in sections[0].iter("a")] == [f"{DAY}/en/"]
    assert [a.get("href") for a in sections[1].iter("a")] == [f"{DAY}/ar/"]
    assert client.get("/archive", follow_redirects=False).status_code == 308


@pytest.mark.parametrize("language", ["en", "ar"])
def test_archive_page_is_the_edition_without_personal_parts(
    client: TestClient, language: str
) -> None:
    page = client.get(f"/archive/{DAY}/{language}/")
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"]
    text = page.text
    doc = lxml.html.document_fromstring(text)
    assert doc.get("lang") == language
    assert doc.find_class("lead-headline")
    for personal in ("%%DIGEST_", "layla", "Layla", "Omar", "/u/", "/p/"):
        assert personal not in text, personal
    assert doc.find_class("postal-address")
    assert doc.find_class("greeting")[0].text_content().strip() in ("Hello,", "مرحبًا،")
    assert client.get(f"/archive/{DAY}/{language}", follow_redirects=False).status_code == 308


def test_view_in_browser_link_of_the_email_is_the_archive_page(sent: Path) -> None:
    import mailbox

    box = mailbox.Maildir(sent / "outbox", create=False)
    html = next(iter(box)).get_payload()[1].get_payload(decode=True).decode("utf-8")
    first_link = next(lxml.html.document_fromstring(html).iter("a")).get("href")
    assert first_link in (
        f"https://arabpress.example/archive/{DAY}/en/",
        f"https://arabpress.example/archive/{DAY}/ar/",
    )


def test_unknown_or_unsent_editions_are_404(client: TestClient) -> None:
    assert client.get("/archive/2025-06-05/en/").status_code == 404
    assert client.get("/archive/not-a-date/en/").status_code == 404
    assert client.get(f"/archive/{DAY}/fr/").status_code == 404


def test_atom_feed_lists_the_editions(client: TestClient) -> None:
    response = client.get("/archive/feed.xml")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    links = [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")]
    assert sorted(links) == [
        f"https://arabpress.example/archive/{DAY}/ar/",
        f"https://arabpress.example/archive/{DAY}/en/",
    ]
    for entry in feed.iter(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}title").text and entry.find(f"{ATOM}updated").text


def test_archive_build_writes_the_same_pages(digest: Digest, sent: Path, client) -> None:
    result = digest.ok("archive", "build", "public")
    assert "wrote 2 edition pages" in result.stdout
    folder = sent / "public"
    for language in ("en", "ar"):
        served = client.get(f"/archive/{DAY}/{language}/").text
        assert (folder / DAY / language / "index.html").read_text(encoding="utf-8") == served
    assert (folder / "index.html").read_text(encoding="utf-8") == client.get("/archive/").text
    assert ET.parse(folder / "feed.xml").getroot().tag == f"{ATOM}feed"


def test_archive_through_a_real_digest_serve_process(sent: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", "0"],
        cwd=sent, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("serving on http://127.0.0.1:"), first
        base = first.split()[2]
        index = httpx.get(f"{base}/archive/", timeout=30)
        assert index.status_code == 200 and f'href="{DAY}/ar/"' in index.text
        page = httpx.get(f"{base}/archive/{DAY}/ar/", timeout=30)
        assert page.status_code == 200 and 'dir="rtl"' in page.text
        assert "%%DIGEST_" not in page.text
        assert httpx.get(f"{base}/archive/feed.xml", timeout=30).status_code == 200
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
