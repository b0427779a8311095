"""`digest demo`: the whole pipeline on sample data, delivered once to a Maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest

from digest.demo import SAMPLE_SUBSCRIBERS
from tests.conftest import Digest

pytestmark = pytest.mark.sqlite_only(
    "digest demo makes its own SQLite database in its folder, whatever the environment says"
)


def read_maildir(path: Path) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(path, create=False)
    return [
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)  # type: ignore[misc]
        for key in sorted(box.keys())
    ]


def test_demo_delivers_one_message_per_sample_subscriber(digest: Digest, tmp_path: Path) -> None:
    target = tmp_path / "try"
    result = digest.ok("demo", str(target))
    assert "top stories" in result.stdout
    messages = read_maildir(target / "outbox")
    recipients = sorted(str(m["To"].addresses[0].addr_spec) for m in messages)
    assert recipients == sorted(s.email for s in SAMPLE_SUBSCRIBERS)
    for message in messages:
        assert message.get_content_type() == "multipart/alternative"
        parts = list(message.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        assert all(p.get_content_charset() == "utf-8" for p in parts)
        text, html = (p.get_content() for p in parts)
        assert "https://arabpress.example/u/" in text and "https://arabpress.example/u/" in html
        assert "%%DIGEST_" not in text + html
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Message-ID"].endswith("@arabpress.example>")
    arabic = [m for m in messages if "ليلى" in str(m["To"])]
    assert arabic and 'dir="rtl"' in arabic[0].get_body(("html",)).get_content()
    for language in ("en", "ar"):
        for name in ("edition.html", "edition.txt", "edition.eml"):
            assert (target / "preview" / language / name).stat().st_size > 500


def test_second_demo_run_sends_nothing_again(digest: Digest, tmp_path: Path) -> None:
    target = tmp_path / "again"
    digest.ok("demo", str(target))
    first = len(read_maildir(target / "outbox"))
    result = digest.ok("demo", str(target))
    assert "already sent" in result.stdout
    assert len(read_maildir(target / "outbox")) == first


def test_demo_ignores_the_callers_environment(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.db"
    digest = Digest({"DIGEST_DATABASE_URL": f"sqlite:///{other}", "DIGEST_TRANSPORT": "smtp://x"})
    digest.ok("demo", str(tmp_path / "d"))
    assert not other.exists()
    assert (tmp_path / "d" / "digest.db").exists()


def test_demo_default_folder(digest: Digest, tmp_path: Path) -> None:
    digest.ok("demo")
    assert (tmp_path / "digest-demo" / "outbox" / "new").is_dir()
