"""Layout in a real browser: headless Chromium loads the preview page, whose script
measures the email in its 600px and 375px frames; nothing may overflow horizontally."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest

from digest import pipeline
from digest.config import load_settings
from digest.web.preview import application
from tests.conftest import REPO
from tests.test_preview_web import serving
from tests.test_render_support import (
    DAY,
    NOW,
    article,
    full_plan,
    plan_of,
    sample_articles,
    store_frozen,
)

pytestmark = pytest.mark.chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_dom(url: str, profile: Path) -> lxml.html.HtmlElement:
    """The page's DOM after load and its scripts, as headless Chromium sees it."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,1000",
        "--virtual-time-budget=5000", "--dump-dom", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return lxml.html.document_fromstring(done.stdout)


def layout(doc: lxml.html.HtmlElement) -> dict[str, tuple[str, str, str]]:
    """{frame width: (overflow flag, measured viewport width, message)}"""
    return {
        output.get("data-width"): (
            output.get("data-overflow"),
            output.get("data-viewport"),
            output.text_content(),
        )
        for output in doc.iter("output")
    }


def awkward_articles(language: str) -> list:
    """Sample stories plus the content that breaks careless layouts."""
    articles = sample_articles(language)
    articles[0].title = articles[0].title + " " + "Unbreakable" * 12
    articles[1].summary = "<p>See https://arabpress.example/" + "segment/" * 40 + " now</p>"
    articles[2].image_url = "http://127.0.0.1:9/unreachable.jpg"
    articles.append(article(99, title="x" * 300, language=language, section="S" * 120))
    return articles


@pytest.fixture
def site(initialised: Path):
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    store_frozen(db, settings, full_plan("en"))
    store_frozen(db, settings, plan_of(awkward_articles("ar"), "ar", stories=5, related=2))
    yield settings, db
    db.dispose()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_nothing_overflows_at_desktop_or_mobile_width(site, tmp_path: Path, language) -> None:
    settings, db = site
    with serving(application(settings, db, clock=lambda: NOW)) as client:
        url = f"{client.base_url}/preview/?date={DAY}&lang={language}"
        doc = chromium_dom(url, tmp_path / "profile")
    results = layout(doc)
    assert set(results) == {"600", "375"}
    for width, (overflow, viewport, message) in results.items():
        assert overflow == "0", f"{language} at {width}px: {message}"
        assert viewport == width, f"the {width}px frame measured {viewport}px"
    assert doc.find(".//body").get("data-layout") == "ok"


def test_an_overflowing_template_is_caught(initialised: Path, tmp_path: Path) -> None:
    """The check can fail: a fixed 700px block overflows both frames."""
    folder = initialised / "mytemplates"
    folder.mkdir()
    source = (REPO / "templates" / "email.html").read_text(encoding="utf-8")
    wide = (
        '<table role="presentation" width="700" style="width:700px"><tr><td>wide</td></tr></table>'
    )
    (folder / "email.html").write_text(source.replace("</body>", wide + "</body>"), "utf-8")
    config = initialised / "digest.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('templates = ""', 'templates = "mytemplates"'),
        encoding="utf-8",
    )
    settings = load_settings(config)
    db = pipeline.open_database(settings)
    try:
        store_frozen(db, settings, full_plan("en"))
        with serving(application(settings, db, clock=lambda: NOW)) as client:
            doc = chromium_dom(f"{client.base_url}/preview/?date={DAY}&lang=en", tmp_path / "p")
    finally:
        db.dispose()
    results = layout(doc)
    assert results["600"][0] == "1" and results["375"][0] == "1"
    assert "700px" in results["375"][2]
    assert doc.find(".//body").get("data-layout") == "overflow"
