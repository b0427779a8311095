"""The sign-up form and the confirmation button in headless Chromium with page scripts
off: a reader types and presses Enter, as a person would; no JavaScript is needed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.selfservice_support import Browser, Sink, link, serve_process, set_keys
from tests.test_web_signup import status_of

pytestmark = pytest.mark.chromium


def test_sign_up_and_confirm_without_javascript(initialised: Path, tmp_path: Path) -> None:
    with Sink() as sink:
        set_keys(initialised, "mail", transport=sink.url)
        with serve_process(initialised) as base:
            browser = Browser(tmp_path / "profile")
            try:
                browser.open(f"{base}/subscribe?lang=ar")
                assert 'dir="rtl"' in browser.html()
                browser.type_into("#email", "browser@example.com")
                browser.type_into("#name", "ليلى")
                browser.press_enter_on("button[type=submit]")
                assert "تفقّد بريدك" in browser.html()  # "check your inbox"
                assert status_of(initialised, "browser@example.com") == "pending"
                (message,) = sink.wait_for(1)
                confirm = base + urlsplit(link(message, "/confirm/")).path
                browser.open(confirm)
                assert status_of(initialised, "browser@example.com") == "pending"
                browser.press_enter_on("button[type=submit]")
                assert "تم اشتراكك" in browser.html()  # "you are subscribed"
            finally:
                browser.close()
    assert status_of(initialised, "browser@example.com") == "active"
