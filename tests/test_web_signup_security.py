"""What the sign-up, confirmation and preferences pages refuse: other origins, missing or
foreign CSRF tokens, replayed and expired confirmation links, floods, probing."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from digest import pipeline
from digest.config import load_settings
from digest.db import Database
from subscribers import store
from subscribers.tokens import make_confirm_token, make_token
from tests.conftest import Digest
from tests.selfservice_support import Sink, link, set_keys
from tests.test_web_unsubscribe import serving

PUBLIC = "https://news.example"


@dataclass
class Site:
    folder: Path
    db: Database
    url: str
    sink: Sink

    def client(self, origin: str | None = "self") -> httpx.Client:
        headers = {} if origin is None else {"Origin": self.url if origin == "self" else origin}
        return httpx.Client(base_url=self.url, headers=headers)

    def status(self, email: str) -> str | None:
        with self.db.session() as session:
            found = store.find(session, email)
            return None if found is None else str(found.status)

    def count(self) -> int:
        with self.db.session() as session:
            return store.count(session)


def csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_up(client: httpx.Client, email: str, **extra: str) -> httpx.Response:
    form = client.get("/subscribe")
    data = {"email": email, "language": "en", "csrf_token": csrf(form), **extra}
    return client.post("/subscribe", data=data)


def open_site(folder: Path, sink: Sink, **subscribe: str) -> Iterator[Site]:
    set_keys(folder, "mail", transport=sink.url)
    set_keys(folder, "web", public_url=PUBLIC)
    if subscribe:
        set_keys(folder, "subscribe", **subscribe)
    settings = load_settings(folder / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        with serving(settings, db) as url:
            yield Site(folder, db, url, sink)
    finally:
        db.dispose()


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as server:
        yield server


@pytest.fixture
def site(initialised: Path, sink: Sink) -> Iterator[Site]:
    yield from open_site(initialised, sink, client_rate="1000/hour", address_rate="100/day")


def settle(sink: Sink, expected: int) -> None:
    """Emails go out after the response: wait for the expected ones, then a moment more
    so an unexpected extra one would be seen."""
    if expected:
        sink.wait_for(expected)
    time.sleep(0.5)
    assert len(sink.messages) == expected, [m["Subject"] for m in sink.messages]


def test_a_form_posted_from_another_origin_is_refused(site: Site) -> None:
    with site.client() as ours:
        token = csrf(ours.get("/subscribe"))
        cookies = dict(ours.cookies)
    for origin in ("https://evil.example", "null", f"{site.url}.evil.example"):
        with httpx.Client(base_url=site.url, headers={"Origin": origin}, cookies=cookies) as other:
            refused = other.post("/subscribe", data={"email": "x@example.com", "csrf_token": token})
            assert refused.status_code == 403, origin
            assert "Nothing was changed" in refused.text
    with httpx.Client(
        base_url=site.url, headers={"Referer": "https://evil.example/page"}, cookies=cookies
    ) as referred:
        assert (
            referred.post(
                "/subscribe", data={"email": "x@example.com", "csrf_token": token}
            ).status_code
            == 403
        )
    assert site.count() == 0
    # web.public_url's origin counts as ours (a proxy in front changes the Host).
    with httpx.Client(base_url=site.url, headers={"Origin": PUBLIC}, cookies=cookies) as proxied:
        accepted = proxied.post("/subscribe", data={"email": "x@example.com", "csrf_token": token})
        assert accepted.status_code == 200
    assert site.status("x@example.com") == "pending"
    settle(site.sink, 1)


def old_csrf_token(settings_folder: Path, scope: str, age: timedelta) -> str:
    """A CSRF token for `scope` as the server would have made it `age` ago."""
    settings = load_settings(settings_folder / "digest.toml")
    issued = int(time.time() - age.total_seconds())

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return issued

    serializer = URLSafeTimedSerializer(
        settings.secret_key(), salt="newsletter-digest.csrf.v1", signer=Then
    )
    return str(serializer.dumps(scope))


def subscriber_token(site: Site, email: str) -> str:
    """The signed token of a subscriber's own links (unsubscribe, preferences)."""
    settings = load_settings(site.folder / "digest.toml")
    with site.db.session() as session:
        ident = store.get(session, email).id
    return make_token(settings.secret_key(), ident, pipeline.list_id(settings, site.db), email)


def test_csrf_token_must_be_there_fresh_and_for_this_form(site: Site, digest: Digest) -> None:
    digest.ok("subscribers", "add", "sam@example.com")
    token = subscriber_token(site, "sam@example.com")
    with site.client() as client:
        form = client.get("/subscribe")
        prefs = client.get(f"/p/{token}")
        assert "set-cookie" not in form.headers and "set-cookie" not in prefs.headers
        attempts = {
            "missing": {},
            "forged": {"csrf_token": "x.y.z"},
            "another form's": {"csrf_token": csrf(prefs)},
            "expired": {
                "csrf_token": old_csrf_token(site.folder, "/subscribe", timedelta(hours=5))
            },
        }
        for reason, extra in attempts.items():
            response = client.post("/subscribe", data={"email": "a@example.com", **extra})
            assert response.status_code == 403, reason
        signup_token = csrf(form)
        response = client.post(
            f"/p/{token}", data={"action": "unsubscribe", "csrf_token": signup_token}
        )
        assert response.status_code == 403
        fresh = old_csrf_token(site.folder, "/subscribe", timedelta(hours=3))
        assert (
            client.post(
                "/subscribe", data={"email": "a@example.com", "csrf_token": fresh}
            ).status_code
            == 200
        )
    assert site.status("a@example.com") == "pending"
    assert site.status("sam@example.com") == "active"
    settle(site.sink, 1)


def test_the_answer_is_the_same_whatever_the_address_state(site: Site, digest: Digest) -> None:
    digest.ok("subscribers", "add", "active@example.com")
    digest.ok("subscribers", "add", "left@example.com")
    digest.ok("subscribers", "unsubscribe", "left@example.com")
    answers = []
    with site.client() as client:
        for email in (
            "new@example.com",
            "active@example.com",
            "left@example.com",
            "new@example.com",
        ):
            response = sign_up(client, email)
            answers.append((response.status_code, response.text, sorted(response.headers)))
    assert len(set(map(str, answers))) == 1
    settle(site.sink, 4)
    subjects = {m["To"].addresses[0].addr_spec: [] for m in site.sink.messages}
    for message in site.sink.messages:
        subjects[message["To"].addresses[0].addr_spec].append(str(message["Subject"]))
    assert subjects["active@example.com"] == ["You are already subscribed to Arab Press"]
    assert subjects["left@example.com"] == ["Confirm your subscription to Arab Press"]
    assert subjects["new@example.com"] == ["Confirm your subscription to Arab Press"] * 2
    # The unsubscribed address is not mailed again until it confirms.
    assert site.status("left@example.com") == "unsubscribed"
    assert site.status("active@example.com") == "active"


def test_unsubscribed_address_comes_back_only_by_confirming(site: Site, digest: Digest) -> None:
    digest.ok("subscribers", "add", "left@example.com")
    digest.ok("subscribers", "unsubscribe", "left@example.com")
    with site.client() as client:
        sign_up(client, "left@example.com")
        (message,) = site.sink.wait_for(1)
        confirm = link(message, "/confirm/").replace(PUBLIC, site.url)
        page = client.get(confirm)
        assert site.status("left@example.com") == "unsubscribed"
        assert client.post(confirm, data={"csrf_token": csrf(page)}).status_code == 200
    assert site.status("left@example.com") == "active"


def test_replayed_and_expired_confirm_tokens_change_nothing(site: Site, digest: Digest) -> None:
    with site.client() as client:
        sign_up(client, "reader@example.com")
        (message,) = site.sink.wait_for(1)
        confirm = link(message, "/confirm/").replace(PUBLIC, site.url)
        page = client.get(confirm)
        assert client.post(confirm, data={"csrf_token": csrf(page)}).status_code == 200
        digest.ok("subscribers", "unsubscribe", "reader@example.com")
        # The used link, replayed after the reader left, brings nobody back.
        for method in ("GET", "POST"):
            replay = client.request(method, confirm, data={"csrf_token": csrf(page)})
            assert replay.status_code == 400
            assert "This link is not valid" in replay.text
        assert site.status("reader@example.com") == "unsubscribed"

        sign_up(client, "late@example.com")
        site.sink.wait_for(2)
        settings = load_settings(site.folder / "digest.toml")
        with site.db.session() as session:
            late = store.get(session, "late@example.com")
            ident, nonce = late.id, late.confirm_nonce
        assert nonce
        key, list_id = settings.secret_key(), pipeline.list_id(settings, site.db)
        now = pipeline.utc_now()
        expired = make_confirm_token(
            key, ident, list_id, "late@example.com", nonce, now=now - timedelta(hours=49)
        )
        fresh = make_confirm_token(
            key, ident, list_id, "late@example.com", nonce, now=now - timedelta(hours=47)
        )
        unsubscribe_token = make_token(key, ident, list_id, "late@example.com")
        for token in (expired, unsubscribe_token, fresh[:-3] + "abc"):
            for method in ("GET", "POST"):
                response = client.request(method, f"/confirm/{token}", data={})
                assert response.status_code == 400, (token, method)
        assert site.status("late@example.com") == "pending"
        assert client.get(f"/confirm/{fresh}").status_code == 200


def test_a_flood_of_sign_ups_for_one_address(initialised: Path, sink: Sink) -> None:
    for site in open_site(initialised, sink, client_rate="1000/hour", address_rate="3/day"):
        with site.client() as client:
            answers = {sign_up(client, "target@example.com").text for _ in range(12)}
        assert len(answers) == 1  # the flood cannot tell when the limit is hit
        settle(sink, 3)
        assert site.count() == 1


def test_a_flood_from_one_client_is_cut_off(initialised: Path, sink: Sink) -> None:
    for site in open_site(initialised, sink, client_rate="5/hour", address_rate="100/day"):
        with site.client() as client:
            codes = [sign_up(client, f"r{n}@example.com").status_code for n in range(7)]
            assert codes == [200] * 5 + [429] * 2
            assert "Too many requests" in client.post("/subscribe", data={}).text
        settle(sink, 5)


def test_the_honeypot_catches_robots(site: Site) -> None:
    with site.client() as client:
        robot = sign_up(client, "robot@example.com", website="https://spam.example")
        person = sign_up(client, "person@example.com")
    assert robot.status_code == person.status_code == 200
    assert robot.text == person.text
    assert site.status("robot@example.com") is None
    settle(site.sink, 1)


def test_bad_tokens_get_the_same_400_on_every_token_page(site: Site, digest: Digest) -> None:
    digest.ok("subscribers", "add", "sam@example.com", "--name", "Sam")
    good = subscriber_token(site, "sam@example.com")
    bad_tokens = [good[:-4], good + "x", "x" * 3000, "%0d%0aSet-Cookie:x=1", "<img src=x>"]
    bodies = set()
    with site.client() as client:
        token = csrf(client.get(f"/p/{good}"))
        for bad in bad_tokens:
            for path in (f"/p/{bad}", f"/confirm/{bad}"):
                for method in ("GET", "POST"):
                    response = client.request(
                        method, path, data={"action": "unsubscribe", "csrf_token": token}
                    )
                    assert response.status_code == 400, (path, method)
                    assert "set-cookie" not in response.headers
                    for secret in ("sam@", "Sam", "<img"):
                        assert secret not in response.text
                    bodies.add(response.text)
        assert len(bodies) == 1
        # The good token, posted without the page's CSRF token: refused, nothing changed.
        assert client.post(f"/p/{good}", data={"action": "unsubscribe"}).status_code == 403
    assert site.status("sam@example.com") == "active"


def test_preferences_from_another_origin_are_refused(site: Site, digest: Digest) -> None:
    digest.ok("subscribers", "add", "sam@example.com")
    token = subscriber_token(site, "sam@example.com")
    with site.client() as ours:
        page = ours.get(f"/p/{token}")
        ours.headers["Origin"] = "https://evil.example"
        refused = ours.post(f"/p/{token}", data={"action": "unsubscribe", "csrf_token": csrf(page)})
        assert refused.status_code == 403
        bad = ours.post(
            f"/p/{token}",
            data={"action": "save", "timezone": "Mars/Olympus", "csrf_token": csrf(page)},
        )
        assert bad.status_code == 403
        ours.headers["Origin"] = site.url
        invalid = ours.post(
            f"/p/{token}",
            data={"action": "save", "timezone": "Mars/Olympus", "csrf_token": csrf(page)},
        )
        assert invalid.status_code == 400
    assert site.status("sam@example.com") == "active"


def test_json_api(site: Site) -> None:
    with site.client() as client:
        issued = client.get("/api/subscribe").json()
        assert issued["languages"] == ["en", "ar"]
        headers = {"X-CSRF-Token": issued["csrf_token"]}
        accepted = client.post(
            "/api/subscribe", json={"email": "api@example.com", "language": "ar"}, headers=headers
        )
        assert (accepted.status_code, accepted.json()) == (202, {"status": "check_your_inbox"})
        invalid = client.post("/api/subscribe", json={"email": "nope"}, headers=headers)
        assert invalid.status_code == 400
        assert invalid.json()["field"] == "email"
        assert client.post("/api/subscribe", json={"email": "b@example.com"}).status_code == 403
        text = client.post("/api/subscribe", content=b"email=b@example.com", headers=headers)
        assert text.status_code == 400
        # The same API on /subscribe itself, with a JSON body; sections as one string.
        same = client.post(
            "/subscribe",
            json={"email": "json@example.com", "sections": "World, Sports"},
            headers=headers,
        )
        assert (same.status_code, same.json()) == (202, {"status": "check_your_inbox"})
        described = client.get("/subscribe", headers={"Accept": "application/json"}).json()
        assert set(described) == {"csrf_token", "languages", "sections"}
    assert site.status("api@example.com") == "pending"
    with site.db.session() as session:
        assert store.get(session, "json@example.com").sections == "Sports,World"
    settle(site.sink, 2)


def test_site_language_without_a_catalogue_falls_back_to_english_once(
    initialised: Path, caplog: pytest.LogCaptureFixture
) -> None:
    set_keys(initialised, "site", languages=["fa", "en"])
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="digest.web"), serving(settings, db) as url:
            pages = [httpx.get(f"{url}/subscribe?lang=fa").text for _ in range(3)]
    finally:
        db.dispose()
    assert '<html lang="fa" dir="rtl">' in pages[0]
    assert '<main lang="en" dir="ltr">' in pages[0]
    assert "Get the Arab Press daily digest" in pages[0]
    warnings = [r.getMessage() for r in caplog.records if "'fa'" in r.getMessage()]
    assert len(warnings) == 1, warnings


def test_a_bad_rate_setting_stops_serve_in_one_line(initialised: Path, digest: Digest) -> None:
    set_keys(initialised, "subscribe", client_rate="lots")
    result = digest("serve", "--port", "0")
    assert result.exit_code == 1
    assert result.stderr == (
        f"digest: error: {initialised / 'digest.toml'}: [subscribe] client_rate: expected "
        "N/second, N/minute, N/hour or N/day (e.g. \"10/hour\"), got 'lots'\n"
    )


def test_a_relay_that_is_down_is_logged_and_the_answer_stays_the_same(
    initialised: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Sink() as sink:
        closed = sink.controller.port
    set_keys(initialised, "mail", transport=f"smtp://127.0.0.1:{closed}?tls=off")
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        with caplog.at_level(logging.ERROR, logger="digest.web"), serving(settings, db) as url:
            with httpx.Client(base_url=url, headers={"Origin": url}) as client:
                answer = sign_up(client, "reader@example.com")
            deadline = time.monotonic() + 20
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        db.dispose()
    assert answer.status_code == 200
    assert "Check your inbox" in answer.text
    (record,) = caplog.records
    assert record.getMessage().startswith("sign-up email to r•••@example.com not sent: ")
    assert "reader@example.com" not in record.getMessage()


def test_bodies_no_form_sends_are_400s_not_crashes(site: Site, digest: Digest) -> None:
    digest.ok("subscribers", "add", "sam@example.com")
    token = subscriber_token(site, "sam@example.com")
    deep = "[" * 3000 + "]" * 3000  # 6 KB that Python's json parser cannot recurse through
    with site.client() as client:
        many = {"sections": ["news"] * 201, "email": "a@example.com"}
        signup = client.post(
            "/subscribe", data={**many, "csrf_token": csrf(client.get("/subscribe"))}
        )
        assert signup.status_code == 400 and "send the form again" in signup.text
        page = client.get(f"/p/{token}")
        prefs = client.post(f"/p/{token}", data={**many, "csrf_token": csrf(page)})
        assert prefs.status_code == 400 and "send the form again" in prefs.text
        json_type = {"Content-Type": "application/json"}
        for path in ("/api/subscribe", "/subscribe"):
            answer = client.post(path, content=deep, headers=json_type)
            assert answer.status_code == 400, path
            assert answer.json() == {
                "status": "bad_request",
                "message": "the body is nested too deeply",
            }
    assert site.count() == 1
    assert site.status("sam@example.com") == "active"


def test_a_field_that_is_not_utf8_is_refused_by_name(site: Site) -> None:
    with site.client() as client:
        token = csrf(client.get("/subscribe"))
        form = client.post(
            "/subscribe",
            content=f"email=x%ff%40example.com&language=en&csrf_token={token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 400
        assert "Enter a valid email address." in form.text
        api = client.post(
            "/api/subscribe",
            content='{"email": "x\\udcff@example.com", "csrf_token": "' + token + '"}',
            headers={"Content-Type": "application/json"},
        )
        assert api.status_code == 400
        assert api.json()["field"] == "email"
    assert site.count() == 0
    settle(site.sink, 0)
