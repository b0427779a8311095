"""The email itself in headless Chromium: no sideways scrolling on a phone, and the lead
picture and headline above the fold on a desktop preview pane, in both languages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest.render import browser
from tests.test_render_support import full_plan, make_settings, message_bytes, parts, render

pytestmark = pytest.mark.chromium

#: A desktop preview pane shows about this many CSS pixels of the email.
FOLD = 700


@pytest.fixture(scope="module", params=["en", "ar"])
def email_html(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
    settings = make_settings(tmp_path_factory.mktemp("chromium"))
    plan = full_plan(request.param)
    plan.stories[0].article.title += " " + "Unbreakable" * 8  # a headline that must wrap
    return parts(message_bytes(settings, render(settings, plan)))[0]


def test_no_horizontal_scroll_on_a_phone(email_html: str) -> None:
    layout = browser.measure(email_html, 375)
    assert layout.viewport == 375
    assert not layout.scrolls_sideways, f"document is {layout.scroll_width}px wide at 375px"


def test_lead_picture_and_headline_above_the_fold_on_desktop(email_html: str) -> None:
    layout = browser.measure(email_html, 600)
    assert layout.viewport == 600 and not layout.scrolls_sideways
    assert layout.image is not None and layout.headline is not None
    # The picture keeps its box even though it cannot load here (images blocked).
    assert (layout.image["width"], layout.image["height"]) == (552, 310)
    assert layout.image["bottom"] <= layout.headline["top"]
    assert layout.headline["bottom"] <= FOLD


def test_a_too_wide_email_is_caught(tmp_path: Path, email_html: str) -> None:
    """The check can fail: a fixed 700px block makes the phone view scroll sideways."""
    wide = '<table role="presentation" style="width:700px"><tr><td>x</td></tr></table>'
    assert browser.measure(email_html.replace("</body>", wide + "</body>"), 375).scrolls_sideways
