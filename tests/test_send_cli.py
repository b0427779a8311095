"""`digest send` options and output, `digest editions`, and the sender's small parts."""

from __future__ import annotations

import io
import json
import mailbox
import random
from pathlib import Path

import pytest

from digest.cli.send import RateType, _ProgressLine
from digest.send import DrainResult, TokenBucket, backoff_delay
from tests.test_send_support import (
    DAY,
    FaultyHandler,
    SmtpServer,
    add_subscribers,
    copy_site,
    make_template,
    run_digest,
    set_mail,
)

SAMPLE_AR = (
    Path(__file__).resolve().parent.parent / "digest" / "data" / "sample" / "arabpress-ar.xml"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Path:
    folder = make_template(tmp_path_factory.mktemp("template"), backend)
    assert run_digest(folder, "ingest", str(SAMPLE_AR)).exit_code == 0
    return folder


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    folder = copy_site(template, tmp_path)
    set_mail(folder, transport="maildir:outbox")
    return folder


def test_without_lang_every_language_gets_its_edition(site: Path) -> None:
    add_subscribers(site, ["en@example.com"], "en")
    add_subscribers(site, ["ar@example.com"], "ar", names={"ar@example.com": "ليلى"})
    result = run_digest(site, "send", "--date", DAY)
    assert result.exit_code == 0, result.output
    assert f"{DAY}/en: 1 sent" in result.stdout and f"{DAY}/ar: 1 sent" in result.stdout
    box = mailbox.Maildir(site / "outbox", create=False)
    html = {message["To"]: message.get_payload()[1].get_payload(decode=True) for message in box}
    assert set(html) == {"en@example.com", "=?utf-8?b?2YTZitmE2Yk=?= <ar@example.com>"}
    assert b'dir="rtl"' in html["=?utf-8?b?2YTZitmE2Yk=?= <ar@example.com>"]
    assert b'dir="rtl"' not in html["en@example.com"]


def test_editions_list_and_show(site: Path) -> None:
    add_subscribers(site, ["a@example.com", "b@example.com"])
    handler = FaultyHandler(hard={"b@example.com"})
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url)
        assert run_digest(site, "send", "--date", DAY, "--lang", "en").exit_code == 0
    listed = run_digest(site, "editions", "list")
    assert listed.exit_code == 0
    assert f"{DAY}/en" in listed.stdout and "sent" in listed.stdout
    [row] = json.loads(run_digest(site, "editions", "list", "--json").stdout)
    assert row["edition"] == f"{DAY}/en" and row["status"] == "sent"
    assert row["deliveries"]["sent"] == 1 and row["deliveries"]["failed"] == 1
    assert row["deliveries"]["total"] == 2
    shown = run_digest(site, "editions", "show", f"{DAY}/en")
    assert shown.exit_code == 0, shown.output
    assert "failed (address): b@example.com (1 tries): 550 5.1.1" in shown.stdout
    detail = json.loads(run_digest(site, "editions", "show", str(row["id"]), "--json").stdout)
    assert detail["subject"] == row["subject"]
    assert [item["role"] for item in detail["items"]].count("top") >= 1
    assert detail["unsent"] == [
        {
            "email": "b@example.com",
            "status": "failed",
            "failure_kind": "address",
            "attempts": 1,
            "error": "550 5.1.1 <b@example.com>: mailbox unavailable",
            "next_attempt_at": None,
        }
    ]
    for reference in ("999", "99999999999999999999"):  # the second overflowed the column
        missing = run_digest(site, "editions", "show", reference)
        assert missing.exit_code == 1
        assert missing.stderr.startswith(f"digest: error: no edition '{reference}'")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "0"], "--concurrency"),
        (["--rate", "fast"], "is not a rate"),
        (["--rate", "-5"], "must be a positive rate"),
        (["--dry-run", "--to", "a@example.com"], "cannot be combined"),
    ],
)
def test_bad_options_are_usage_errors(site: Path, args: list[str], message: str) -> None:
    result = run_digest(site, "send", "--date", DAY, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_bad_values_name_their_option_or_key(site: Path) -> None:
    result = run_digest(site, "send", "--date", "2025-13-01")
    assert (result.exit_code, result.stderr) == (1, "digest: error: --date: no such day: "
                                                    "'2025-13-01'\n")  # fmt: skip
    result = run_digest(site, "send", "--date", DAY, "--to", "not-an-address")
    assert result.exit_code == 1 and "not-an-address" in result.stderr
    set_mail(site, max_attempts=0)
    result = run_digest(site, "send", "--date", DAY)
    assert result.exit_code == 1 and "[mail] max_attempts: must be at least 1" in result.stderr


def test_options_override_the_config(site: Path) -> None:
    add_subscribers(site, [f"r{n}@example.com" for n in range(3)])
    result = run_digest(site, "send", "--date", DAY, "--lang", "en", "--concurrency", "2",
                        "--rate", "600/min", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["editions"][0]["sent"] == 3


@pytest.mark.parametrize(
    ("text", "rate"), [("50", 50.0), ("50/s", 50.0), ("3000/min", 50.0), ("7200/h", 2.0), ("0", 0)]
)
def test_rates(text: str, rate: float) -> None:
    assert RateType().convert(text, None, None) == rate


def test_token_bucket_spaces_acquisitions_at_the_rate() -> None:
    moment = [100.0]
    bucket = TokenBucket(10.0, clock=lambda: moment[0])
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    moment[0] += 10.0  # idle time refills at most `capacity`
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.1)
    assert TokenBucket(0).reserve() == 0.0


def test_backoff_grows_with_jitter_and_stays_under_the_cap() -> None:
    rng = random.Random(7)
    for tries, low, high in [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (10, 30.0, 60.0)]:
        delays = [backoff_delay(tries, 1.0, 60.0, rng) for _ in range(50)]
        assert low <= min(delays) and max(delays) <= high
        assert len(set(delays)) > 1


def test_progress_line_shows_counts_rate_and_eta() -> None:
    stream = io.StringIO()
    line = _ProgressLine("2025-06-04/en", stream)
    line.update(DrainResult(sent=40, failed=2, deferred=1, total=100), force=True)
    line.close()
    shown = stream.getvalue()
    assert shown.startswith("\r2025-06-04/en [")
    for part in ("43%", "sent 40", "failed 2", "deferred 1", "/s", "ETA "):
        assert part in shown
    assert shown.endswith("\n")


def test_editions_list_counts_uncertain_deliveries(site: Path) -> None:
    """An uncertain delivery (reply lost after the final ".") has its own column."""
    add_subscribers(site, ["a@example.com", "b@example.com", "c@example.com"])
    handler = FaultyHandler(cut_after_dot={"b@example.com"})
    with SmtpServer(handler) as server:
        set_mail(site, transport=server.url)
        assert run_digest(site, "send", "--date", DAY, "--lang", "en").exit_code == 0
    listed = run_digest(site, "editions", "list")
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()[:2]
    columns = dict(zip(header.split()[:7], row.split()[:7], strict=True))
    assert (columns["sent"], columns["failed"], columns["uncertain"]) == ("2", "0", "1")
    [entry] = json.loads(run_digest(site, "editions", "list", "--json").stdout)
    assert entry["deliveries"]["uncertain"] == 1


def test_a_dry_run_says_so_for_every_edition_in_json(site: Path) -> None:
    # A day with no news in either language: nothing to send, and still a dry run.
    result = run_digest(site, "send", "--date", "2025-07-01", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["dry_run"] is True
    assert [(e["edition"], e["status"], e["dry_run"]) for e in shown["editions"]] == [
        ("2025-07-01/en", "nothing_to_send", True),
        ("2025-07-01/ar", "nothing_to_send", True),
    ]
