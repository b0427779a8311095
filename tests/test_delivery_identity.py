"""The token scope is stored once: changing mail.from never breaks the links already sent."""

from __future__ import annotations

import mailbox
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import httpx
import pytest

from digest import pipeline
from digest.config import load_settings
from digest.errors import ConfigError
from subscribers.tokens import make_token
from tests.conftest import Digest
from tests.test_send_support import DAY, SAMPLE_EN, set_mail
from tests.test_web_unsubscribe import ONE_CLICK, serving


def sent_messages(folder: Path) -> list[object]:
    box = mailbox.Maildir(folder / "outbox", create=False)
    return [message_from_bytes(message.as_bytes(), policy=default) for message in box]


def test_a_link_sent_before_a_change_of_from_still_unsubscribes(
    digest: Digest, initialised: Path
) -> None:
    digest.ok("ingest", str(SAMPLE_EN))
    digest.ok("subscribers", "add", "sam@example.com", "--lang", "en")
    digest.ok("send", "--date", DAY, "--lang", "en")
    [before] = sent_messages(initialised)
    assert before["List-Id"] == '"Arab Press" <digest.arabpress.example>'  # type: ignore[index]
    https = str(before["List-Unsubscribe"]).split(",")[0].strip()[1:-1]  # type: ignore[index]
    token = https.rsplit("/", 1)[1]

    set_mail(initialised, **{"from": "Arab Press News <news@mail.other.example>"})
    settings = load_settings(initialised / "digest.toml")
    # Derived afresh from the new From, the scope would differ: the stored one must win.
    assert pipeline.list_id(settings) == "digest.mail.other.example"
    db = pipeline.open_database(settings)
    try:
        assert pipeline.list_id(settings, db) == "digest.arabpress.example"
        with serving(settings, db) as url:
            response = httpx.post(f"{url}/u/{token}", data=ONE_CLICK)
        assert response.status_code == 200, response.text
        assert "You are unsubscribed" in response.text
    finally:
        db.dispose()
    shown = digest.ok("subscribers", "show", "sam@example.com", "--json")
    assert '"status": "unsubscribed"' in shown.stdout


def test_a_token_made_before_the_first_send_survives_a_change_of_from(
    digest: Digest, initialised: Path
) -> None:
    """A sign-up's confirmation or a preferences email can carry a token before any
    edition is sent: the list id it is scoped to is stored at that first use."""
    digest.ok("subscribers", "add", "sam@example.com", "--lang", "en")
    settings = load_settings(initialised / "digest.toml")
    db = pipeline.open_database(settings)
    try:
        first = pipeline.list_id(settings, db)  # as the sign-up mailer does
        [(subscriber_id,)] = (
            db.engine.connect().exec_driver_sql("select id from subscribers").fetchall()
        )
        token = make_token(settings.secret_key(), subscriber_id, first, "sam@example.com")
        set_mail(initialised, **{"from": "Arab Press News <news@mail.other.example>"})
        changed = load_settings(initialised / "digest.toml")
        assert pipeline.list_id(changed) != first  # derived afresh it would differ
        assert pipeline.list_id(changed, db) == first
        with serving(changed, db) as url:
            response = httpx.post(f"{url}/u/{token}", data=ONE_CLICK)
        assert response.status_code == 200, response.text
    finally:
        db.dispose()


def test_the_stored_list_id_also_names_later_editions(digest: Digest, initialised: Path) -> None:
    digest.ok("ingest", str(SAMPLE_EN))
    digest.ok("subscribers", "add", "sam@example.com", "--lang", "en")
    digest.ok("send", "--date", DAY, "--lang", "en", "--dry-run")  # stores nothing
    set_mail(initialised, **{"from": "News <news@first.example>"})
    digest.ok("send", "--date", DAY, "--lang", "en")
    set_mail(initialised, **{"from": "News <news@second.example>"})
    digest.ok("subscribers", "add", "kim@example.com", "--lang", "en")
    digest.ok("send", "--date", DAY, "--lang", "en")
    ids = {str(message["List-Id"]) for message in sent_messages(initialised)}  # type: ignore[index]
    assert ids == {'"Arab Press" <digest.first.example>'}


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("mail", "from", "not an address", "[mail] from"),
        ("mail", "transport", "smtp://relay.example?tls=off", "[mail] transport"),
        ("mail", "data_timeout", 0.0, "[mail] data_timeout"),
        ("mail", "data_timeout", 5.0, "[mail] data_timeout: must be at least [mail] timeout"),
        ("mail", "timeout", 0.0, "[mail] timeout: must be more than 0"),
        ("mail", "transport", "smtp://[::1", "[mail] transport: not a URL"),
        ("mail", "transport", "smtp://127.0.0.1:0", "[mail] transport: port 0"),
        ("site", "list_id", "has spaces in it", "[site] list_id"),
    ],
)
def test_a_bad_mail_section_fails_when_the_settings_load(
    initialised: Path, section: str, key: str, value: object, message: str
) -> None:
    path = initialised / "digest.toml"
    text = path.read_text(encoding="utf-8")
    quoted = f'"{value}"' if isinstance(value, str) else repr(value)
    start = text.index(f"[{section}]")
    line_start = text.index(f"\n{key} = ", start) + 1
    line_end = text.index("\n", line_start)
    path.write_text(text[:line_start] + f"{key} = {quoted}" + text[line_end:], encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path)
