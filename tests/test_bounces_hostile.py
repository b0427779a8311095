"""Hostile inbound mail through `digest bounces process`: it is left in place and listed
on one line, the rest of the batch is processed, and nothing reaches the terminal raw."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest

from digest.bounces.report import MAX_MESSAGE_BYTES
from tests.bounces_support import BOUNCES, dsn, keys_in, maildir_with, sent_site, unrelated
from tests.conftest import REPO, Digest

GONE = "gone@example.com"
READER = "reader@example.com"

pytestmark = pytest.mark.usefixtures("database_env")


def nested(depth: int = 5000) -> bytes:
    """`depth` multipart/mixed parts each inside the last (boundaries b0..b<depth-1>)."""
    lines = [
        b"From: deep@attacker.example",
        b"To: " + BOUNCES.encode(),
        b"Subject: deep",
        b"MIME-Version: 1.0",
        b"Content-Type: multipart/mixed; boundary=b0",
        b"",
    ]
    for level in range(1, depth):
        lines += [
            f"--b{level - 1}".encode(),
            f"Content-Type: multipart/mixed; boundary=b{level}".encode(),
            b"",
        ]
    lines += [f"--b{depth - 1}".encode(), b"", b"x"]
    lines += [f"--b{level}--".encode() for level in reversed(range(depth))]
    return b"\r\n".join(lines) + b"\r\n"


def test_a_deeply_nested_message_is_left_and_the_others_processed(
    digest: Digest, tmp_path: Path
) -> None:
    site = sent_site(digest, tmp_path, GONE, READER, bounce_threshold=1)
    inbox = maildir_with(tmp_path / "inbox", nested(), dsn(site.sent(GONE), GONE))
    result = digest("bounces", "process", str(inbox))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert site.status(GONE) == ("bounced", 1)
    [left] = keys_in(inbox)
    assert f"left in place: {left}: unrecognised" in result.stderr
    assert "from deep@attacker.example: deep" in result.stderr
    again = digest("bounces", "process", str(inbox))  # every later run too
    assert again.exit_code == 0 and keys_in(inbox) == [left]


@pytest.mark.parametrize("kind", ["maildir", "mbox"])
def test_a_message_over_the_size_limit_is_not_parsed(
    digest: Digest, tmp_path: Path, kind: str
) -> None:
    site = sent_site(digest, tmp_path, GONE, READER, bounce_threshold=1)
    padding = b"X-Padding: " + b"y" * 70 + b"\r\n"
    huge = dsn(site.sent(READER) + padding * (MAX_MESSAGE_BYTES // len(padding) * 2), READER)
    assert len(huge) > MAX_MESSAGE_BYTES
    messages = (huge, dsn(site.sent(GONE), GONE))
    if kind == "maildir":
        source = maildir_with(tmp_path / "inbox", *messages)
    else:
        source = tmp_path / "bounces.mbox"
        box = mailbox.mbox(source)
        for raw in messages:
            box.add(raw)
        box.close()
    result = digest("bounces", "process", str(source), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unrecognised"] == 1 and report["hard_bounces"] == 1
    [left] = report["left_in_place"]
    assert "too large" in left["reason"] and "Undelivered Mail Returned" in left["reason"]
    assert site.status(READER) == ("active", 0)
    assert site.status(GONE) == ("bounced", 1)
    plain = digest("bounces", "process", str(source))
    assert "too large" in plain.stderr


def test_escape_sequences_from_inbound_mail_never_reach_the_terminal(
    digest: Digest, tmp_path: Path
) -> None:
    sent_site(digest, tmp_path, GONE)
    coloured = unrelated("x").replace(
        b"Subject: x", b"Subject: =?utf-8?b?G1szMW1SRUQbWzBtG10wO3B3bmVkBw==?="
    )
    raw_from = unrelated("plain").replace(
        b"From: colleague@example.org", b"From: \x1b[2Jevil\x07@example.org"
    )
    inbox = maildir_with(tmp_path / "inbox", coloured, raw_from)
    (inbox / "new" / "1733000000.M1P1.\x1b]0;pwned\x07").write_bytes(unrelated("named"))
    plain = digest("bounces", "process", str(inbox))
    as_json = digest("bounces", "process", str(inbox), "--json")
    for shown in (plain.stderr, as_json.stdout):
        assert "\x1b" not in shown and "\x07" not in shown, shown
        assert "\\u001b" not in shown and "\\u0007" not in shown, shown
    assert "RED" in plain.stderr and "plain" in plain.stderr and "named" in plain.stderr


def test_a_detector_exception_is_not_a_traceback(digest: Digest, tmp_path: Path) -> None:
    sent_site(digest, tmp_path, GONE)
    # flufl.bounce's Yale detector indexes the From addresses: none makes it raise.
    hostile = b"To: " + BOUNCES.encode() + b"\r\nSubject: no sender\r\n\r\nhello\r\n"
    inbox = maildir_with(tmp_path / "inbox", hostile)
    # A child process: in this one pytest's log capture would hide what the library prints.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "digest", "bounces", "process", str(inbox)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception in detector" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line] == [
        f"left in place: {keys_in(inbox)[0]}: unrecognised, from ?: no sender"
    ]
