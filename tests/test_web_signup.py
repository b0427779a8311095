"""Sign-up, confirmation and preferences through a real `digest serve` process, with the
confirmation email delivered to a real aiosmtpd server and its link followed."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from digest import pipeline
from digest.config import load_settings
from subscribers import store
from tests.conftest import Digest
from tests.selfservice_support import Sink, body_text, link, serve_process, set_keys

PUBLIC = "https://news.example"


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def status_of(folder: Path, email: str) -> str:
    settings = load_settings(folder / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        with db.session() as session:
            return str(store.get(session, email).status)
    finally:
        db.dispose()


@pytest.fixture
def sink() -> Sink:
    with Sink() as server:
        yield server


@pytest.fixture
def site(initialised: Path, sink: Sink) -> Path:
    set_keys(initialised, "mail", transport=sink.url)
    set_keys(initialised, "web", public_url=PUBLIC)
    return initialised


def local(url: str, base: str) -> str:
    """A link made for the public address, followed on the server under test."""
    assert url.startswith(PUBLIC + "/"), url
    return base + urlsplit(url).path


def test_sign_up_confirm_and_manage_preferences(site: Path, sink: Sink) -> None:
    with serve_process(site) as base, httpx.Client(headers={"Origin": base}) as browser:
        form = browser.get(f"{base}/subscribe?lang=ar")
        assert form.status_code == 200
        assert '<html lang="ar" dir="rtl">' in form.text
        for field in ('name="email"', 'name="name"', 'name="language"', 'name="website"'):
            assert field in form.text
        assert "<script" not in form.text
        answer = browser.post(
            f"{base}/subscribe",
            data={
                "email": "Reader@Example.com",
                "name": "قارئ",
                "language": "ar",
                "csrf_token": csrf(form),
                "website": "",
            },
        )
        assert answer.status_code == 200
        assert "تفقّد بريدك" in answer.text  # "check your inbox"
        assert status_of(site, "reader@example.com") == "pending"

        (message,) = sink.wait_for(1)
        assert message["To"].addresses[0].addr_spec == "reader@example.com"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "48" in body_text(message)
        confirm = local(link(message, "/confirm/"), base)

        page = browser.get(confirm)  # what a link scanner does: changes nothing
        assert page.status_code == 200
        assert '<form method="post">' in page.text
        assert status_of(site, "reader@example.com") == "pending"
        done = browser.post(confirm, data={"csrf_token": csrf(page)})
        assert done.status_code == 200
        assert "تم اشتراكك" in done.text
        assert status_of(site, "reader@example.com") == "active"
        replay = browser.post(confirm, data={"csrf_token": csrf(page)})
        assert replay.status_code == 400

        # Signing up again: the same answer, and an "already subscribed" email that
        # links to the preferences page.
        form = browser.get(f"{base}/subscribe")
        again = browser.post(
            f"{base}/subscribe",
            data={"email": "reader@example.com", "language": "en", "csrf_token": csrf(form)},
        )
        assert again.status_code == 200
        already = sink.wait_for(2)[1]
        assert "already subscribed" not in answer.text
        preferences = local(link(already, "/p/"), base)

        prefs = browser.get(preferences)
        assert prefs.status_code == 200
        assert '<option value="ar" selected>' in prefs.text  # unchanged by the second form
        saved = browser.post(
            preferences,
            data={
                "action": "save",
                "language": "en",
                "timezone": "asia/riyadh",
                "csrf_token": csrf(prefs),
            },
        )
        assert saved.status_code == 200
        assert "Your preferences are saved." in saved.text
        assert '<html lang="en" dir="ltr">' in saved.text
        out = browser.post(preferences, data={"action": "unsubscribe", "csrf_token": csrf(saved)})
        assert status_of(site, "reader@example.com") == "unsubscribed"
        assert 'value="resubscribe"' in out.text
        back = browser.post(preferences, data={"action": "resubscribe", "csrf_token": csrf(out)})
        assert "Welcome back" in back.text
        assert status_of(site, "reader@example.com") == "active"
    settings = load_settings(site / "digest.toml")
    db = pipeline.open_database(settings)
    with db.session() as session:
        reader = store.get(session, "reader@example.com")
        assert (reader.language, reader.timezone) == ("en", "Asia/Riyadh")
    db.dispose()


def test_subscribers_add_pending_mails_a_confirmation(
    site: Path, sink: Sink, digest: Digest
) -> None:
    result = digest.ok("subscribers", "add", "new@example.com", "--pending", "--lang", "ar")
    assert "pending new@example.com: confirmation link sent" in result.stdout
    assert status_of(site, "new@example.com") == "pending"
    (message,) = sink.wait_for(1)
    assert link(message, "/confirm/").startswith(PUBLIC + "/confirm/")
    digest.ok("subscribers", "add", "plain@example.com")
    assert status_of(site, "plain@example.com") == "active"
    again = digest.ok("subscribers", "add", "plain@example.com", "--pending")
    assert "already active: no confirmation sent" in again.stdout
    assert len(sink.messages) == 1


def test_arabic_pages_and_email_name_the_site_in_arabic(site: Path, sink: Sink) -> None:
    # site.name as a table per language: the Arabic pages and confirmation email said
    # "Arab Press" where the edition says "عرب برس" (a breaker pass).
    config = site / "digest.toml"
    text = re.sub(
        r'(?m)^name = .*$', 'name = {en = "Arab Press", ar = "عرب برس"}',
        config.read_text(encoding="utf-8"), count=1,
    )  # fmt: skip
    config.write_text(text, encoding="utf-8")
    with serve_process(site) as base, httpx.Client(headers={"Origin": base}) as browser:
        form = browser.get(f"{base}/subscribe?lang=ar")
        assert "عرب برس" in form.text and "Arab Press" not in form.text
        assert "Arab Press" in browser.get(f"{base}/subscribe?lang=en").text
        browser.post(
            f"{base}/subscribe",
            data={"email": "q@example.com", "language": "ar", "csrf_token": csrf(form)},
        )
        (message,) = sink.wait_for(1)
    assert "عرب برس" in message["Subject"] and "Arab Press" not in message["Subject"]
