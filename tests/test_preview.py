"""`digest preview`: the exact message a subscriber gets, its checks, and clear errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from digest import pipeline
from digest.config import load_settings
from tests.conftest import REPO, Digest
from tests.test_render_support import (
    DAY,
    SAMPLES,
    full_plan,
    parse,
    parts,
    plan_of,
    sample_articles,
    store_frozen,
)


@pytest.fixture
def sample_site(initialised: Path) -> Path:
    """`digest init` plus frozen editions for both languages, built from the sample feeds
    (frozen, so these tests do not depend on what selection would pick)."""
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        store_frozen(db, settings, full_plan("en"))
        store_frozen(db, settings, plan_of(sample_articles("ar"), "ar", stories=4, related=2))
    finally:
        db.dispose()
    return initialised


def preview(digest: Digest, *args: str):
    return digest("preview", "--date", DAY.isoformat(), *args)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_preview_writes_the_exact_message_for_the_sample_reader(
    digest: Digest, sample_site: Path, language: str
) -> None:
    result = preview(digest, "--lang", language, "--out", "out")
    assert result.exit_code == 0, result.stderr
    out = sample_site / "out"
    listed = result.stdout.strip().splitlines()[-3:]
    assert [Path(line).name for line in listed] == ["edition.html", "edition.txt", "edition.eml"]
    assert all(Path(line).resolve().parent == out.resolve() for line in listed)
    assert "[frozen edition" in result.stdout
    assert "warning" not in result.stderr, result.stderr
    raw = (out / "edition.eml").read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line endings only
    message = parse(raw)
    assert message["To"].addresses[0].addr_spec == "reader@example.com"
    html, text = parts(raw)
    assert (out / "edition.html").read_text(encoding="utf-8") == html
    assert (out / "edition.txt").read_text(encoding="utf-8") == text
    assert f'<html lang="{language}"' in html
    assert "%%DIGEST_" not in html + text
    assert not list(out.glob(".edition*"))  # no temporary files left behind


def test_preview_for_one_subscriber(digest: Digest, sample_site: Path) -> None:
    digest.ok("subscribers", "add", "layla@example.com", "--name", "ليلى حداد", "--lang", "ar")
    result = preview(digest, "--lang", "ar", "--subscriber", "layla@example.com", "--out", "p")
    assert result.exit_code == 0, result.stderr
    raw = (sample_site / "p" / "edition.eml").read_bytes()
    message = parse(raw)
    assert message["To"].addresses[0].addr_spec == "layla@example.com"
    assert message["To"].addresses[0].display_name == "ليلى حداد"
    html, text = parts(raw)
    assert "مرحبًا ليلى حداد،" in html and "مرحبًا ليلى حداد،" in text
    unsubscribe = message["List-Unsubscribe"].split("<")[1].split(">")[0]
    assert f'href="{unsubscribe}"' in html and unsubscribe in text
    assert "layla@example.com" in html


def test_unknown_subscriber_is_one_clear_error(digest: Digest, sample_site: Path) -> None:
    result = preview(digest, "--subscriber", "nobody@example.com", "--out", "p")
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: ")
    assert "nobody@example.com" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (sample_site / "p").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lang", "fr"), "'fr' is not one of the site's languages"),
        (("--date", "2025-13-40"), "--date: no such day: '2025-13-40'"),
    ],
)
def test_bad_options_are_one_line_errors(digest: Digest, initialised: Path, args, message) -> None:
    result = digest("preview", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def broken_templates(site: Path) -> None:
    """An override whose tables lack role="presentation" and with a second <h1>."""
    source = (REPO / "templates" / "email.html").read_text(encoding="utf-8")
    folder = site / "mytemplates"
    folder.mkdir()
    broken = source.replace('role="presentation" ', "").replace("</body>", "<h1>x</h1></body>")
    (folder / "email.html").write_text(broken, encoding="utf-8")
    config = site / "digest.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('templates = ""', 'templates = "mytemplates"'), "utf-8")


def test_failed_checks_are_warnings_and_errors_with_strict(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("ingest", str(SAMPLES))
    broken_templates(initialised)
    relaxed = preview(digest, "--lang", "en", "--out", "p")
    assert relaxed.exit_code == 0
    warnings = relaxed.stderr.strip().splitlines()
    assert any(line.startswith("warning: table-role:") for line in warnings), warnings
    assert any(
        line.startswith("warning: h1: expected exactly one <h1>, found 2") for line in warnings
    )
    strict = preview(digest, "--lang", "en", "--out", "p", "--strict")
    assert strict.exit_code == 1
    lines = strict.stderr.strip().splitlines()
    assert any(line.startswith("error: table-role:") for line in lines)
    assert lines[-1].startswith("digest: error: the edition fails 2 email checks (--strict)")
    assert "Traceback" not in strict.stderr
    assert (initialised / "p" / "edition.eml").exists()  # written, so it can be inspected


def test_preview_shows_the_frozen_edition_as_stored(digest: Digest, sample_site: Path) -> None:
    result = digest.ok("preview", "--date", DAY.isoformat(), "--lang", "en", "--out", "p")
    assert "[frozen edition, 8 top stories]" in result.stdout
    html = (sample_site / "p" / "edition.html").read_text(encoding="utf-8")
    first = full_plan("en").stories[0]
    assert first.article.url in html and first.related[0].article.url in html


def test_one_top_story_is_counted_in_the_singular(digest: Digest, initialised: Path) -> None:
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        store_frozen(db, settings, plan_of(sample_articles("en"), "en", stories=1, related=0))
    finally:
        db.dispose()
    result = digest.ok("preview", "--date", DAY.isoformat(), "--lang", "en", "--out", "p")
    assert "[frozen edition, 1 top story]" in result.stdout


def test_preview_of_the_plan_before_freezing(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(SAMPLES))
    for language in ("en", "ar"):
        result = digest.ok("preview", "--date", DAY.isoformat(), "--lang", language, "--strict")
        assert "plan (not frozen yet)" in result.stdout
        html = (initialised / "preview" / "edition.html").read_text(encoding="utf-8")
        assert f'<html lang="{language}"' in html


def test_open_starts_the_browser_on_the_html(digest: Digest, sample_site: Path) -> None:
    opened = sample_site / "opened.txt"
    browser = sample_site / "fake-browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n', encoding="utf-8")
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "BROWSER": str(browser), "DIGEST_CONFIG": str(sample_site / "digest.toml")}
    command = ["preview", "--date", DAY.isoformat(), "--out", "p", "--open"]
    subprocess.run(
        [sys.executable, "-m", "digest", *command],
        cwd=sample_site, env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert (
        opened.read_text(encoding="utf-8").strip() == (sample_site / "p" / "edition.html").as_uri()
    )
