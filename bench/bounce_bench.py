"""Bounce processing speed and memory: `digest bounces process` on a Maildir of mixed mail.

Builds a site whose one edition went to N subscribers, then a Maildir of N messages:
RFC 3464 DSNs matched by Message-ID (hard and soft), DSNs to VERP addresses, RFC 5965
ARF complaints, mailto: unsubscribe requests and unrelated mail (left in place). Each
measured run is the real command in its own process on a fresh copy, so its peak
resident memory (the kernel's rusage of that child) is the run's alone.

    python bench/bounce_bench.py [--messages 10000] [--small 1000] [--runs 3]

Prints messages per second (median) for N messages, and the peak memory for the small
and the large mailbox (flat memory: they should be close). Target: at least 500
messages/s for 10,000. It prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from digest.bounces.verp import verp_address
from digest.config import load_settings, write_default_config
from digest.db import Database

DOMAIN = "news.example"
BOUNCES = f"bounces@{DOMAIN}"
SECRET = "bench-secret-key-0123456789"


def make_site(folder: Path, count: int) -> list[tuple[int, str, str]]:
    """The database: `count` subscribers, one edition sent to all. (delivery, email, msgid)"""
    write_default_config(folder / "digest.toml")
    settings = load_settings(folder / "digest.toml", env={})
    db = Database(settings.database_url)
    db.upgrade()
    now = datetime(2025, 6, 4, 5, tzinfo=UTC)
    naive = now.replace(tzinfo=None)
    rows: list[tuple[int, str, str]] = []
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "insert into editions (id, date, language, variant, status, subject, preheader,"
                " window_start, window_end, html_template, text_template, created_at)"
                " values (1, :d, 'en', '', 'sent', 'Digest', '', :t, :t, '', '', :t)"
            ),
            {"d": date(2025, 6, 4), "t": naive},
        )
        subscribers = [
            {"id": n, "email": f"reader{n}@mail{n % 50}.example.net", "t": naive}
            for n in range(1, count + 1)
        ]
        connection.execute(
            sa.text(
                "insert into subscribers (id, email, name, language, sections, timezone, status,"
                " smtputf8, bounce_count, created_at, updated_at)"
                " values (:id, :email, '', 'en', '', 'UTC', 'active', false, 0, :t, :t)"
            ),
            subscribers,
        )
        deliveries = [
            {"id": n, "m": f"<2025-06-04.en.bench.{n}@{DOMAIN}>", "t": naive}
            for n in range(1, count + 1)
        ]
        connection.execute(
            sa.text(
                "insert into deliveries (id, edition_id, subscriber_id, status, attempts,"
                " message_id, created_at, updated_at) values (:id, 1, :id, 'sent', 1, :m, :t, :t)"
            ),
            deliveries,
        )
        rows = [
            (n, str(s["email"]), str(d["m"]))
            for n, s, d in zip(range(1, count + 1), subscribers, deliveries, strict=True)
        ]
    db.dispose()
    config = (folder / "digest.toml").read_text()
    config = config.replace('bounce_address = ""', f'bounce_address = "{BOUNCES}"')
    config = config.replace(
        'unsubscribe_mailto = "unsubscribe@arabpress.example"',
        f'unsubscribe_mailto = "unsubscribe@{DOMAIN}"',
    )
    (folder / "digest.toml").write_text(config)
    return rows


DSN = """From: Mail Delivery System <MAILER-DAEMON@mx{n}.example.net>
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.{n}@mx.example.net>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b{n}"

--b{n}
Content-Type: text/plain

Your message to {email} could not be delivered.

--b{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx{n}.example.net

Final-Recipient: rfc822; {email}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status} mailbox problem

--b{n}
Content-Type: text/rfc822-headers

From: Digest <digest@{domain}>
To: {email}
Subject: Today's digest
Message-ID: {message_id}
List-Id: Digest <digest.{domain}>

--b{n}--
"""

ARF = """From: Feedback Loop <fbl@isp.example.net>
To: abuse@{domain}
Subject: Abuse report
Message-ID: <arf.{n}@isp.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="a{n}"

--a{n}
Content-Type: text/plain

This is an email abuse report.

--a{n}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: {email}

--a{n}
Content-Type: message/rfc822

From: Digest <digest@{domain}>
To: {email}
Subject: Today's digest
Message-ID: {message_id}

Today's stories.

--a{n}--
"""

UNSUBSCRIBE = """From: {email}
To: unsubscribe@{domain}
Subject: unsubscribe
Message-ID: <u.{n}@reader.example>

unsubscribe
"""

UNRELATED = (
    """From: colleague{n}@example.org
To: {bounces}
Subject: Meeting notes {n}
Message-ID: <note.{n}@example.org>

Here are the notes from today's meeting, item {n}.
"""
    + "Lorem ipsum dolor sit amet. " * 40
    + "\n"
)


def make_maildir(folder: Path, rows: list[tuple[int, str, str]], seed: int = 7) -> None:
    """One message per delivery, mixed: 45% hard DSN, 10% soft, 15% VERP, 10% ARF,
    5% unsubscribe requests, 15% unrelated mail."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    rng = random.Random(seed)
    for number, (delivery_id, email, message_id) in enumerate(rows):
        roll = rng.random()
        fields = {
            "n": number,
            "email": email,
            "message_id": message_id,
            "domain": DOMAIN,
            "to": BOUNCES,
            "bounces": BOUNCES,
            "action": "failed",
            "status": "5.1.1",
        }
        if roll < 0.45:
            text = DSN.format(**fields)
        elif roll < 0.55:
            text = DSN.format(**{**fields, "action": "delayed", "status": "4.2.2"})
        elif roll < 0.70:
            to = verp_address(BOUNCES, delivery_id, SECRET)
            text = DSN.format(**{**fields, "to": to, "message_id": "<unknown@x>"})
        elif roll < 0.80:
            text = ARF.format(**fields)
        elif roll < 0.85:
            text = UNSUBSCRIBE.format(**fields)
        else:
            text = UNRELATED.format(**fields)
        name = f"{1733000000 + number}.M{number}P1.bench"
        (folder / "new" / name).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))


RUNNER = """
import resource, sys, time
from digest.cli import cli
before = resource.getrusage(resource.RUSAGE_SELF)
cpu_before = before.ru_utime + before.ru_stime
started = time.perf_counter()
try:
    cli(["--config", sys.argv[1], "-q", "bounces", "process", sys.argv[2]], standalone_mode=False)
finally:
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(f"{elapsed} {cpu} {usage.ru_maxrss}", file=sys.stderr)
"""


def measure(template: Path, count: int) -> tuple[float, float, float]:
    """(messages per wall-clock second, per CPU second, peak RSS in MB) of one run on a
    fresh copy of `template`. CPU time is what the run itself used: on a shared machine
    it is the steadier figure."""
    work = Path(tempfile.mkdtemp(prefix="bounce-bench-run-"))
    try:
        shutil.copytree(template, work, dirs_exist_ok=True)
        env = {**os.environ, "DIGEST_SECRET_KEY": SECRET}
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(work / "digest.toml"), str(work / "inbox")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed, cpu, peak = done.stderr.strip().splitlines()[-1].split()
        left = len(os.listdir(work / "inbox" / "new"))
        processed = len(os.listdir(work / "inbox" / ".Processed" / "cur"))
        assert processed + left == count, (processed, left)
        return count / float(elapsed), count / float(cpu), int(peak) / 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prepare(count: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bounce-bench-"))
    rows = make_site(folder, count)
    make_maildir(folder / "inbox", rows)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(f"bounce processing (Maildir, SQLite), medians of {options.runs} runs")
    print("machine: 2 cores, shared with other work; figures vary from run to run")
    for count in (options.small, options.messages):
        template = prepare(count)
        try:
            runs = [measure(template, count) for _ in range(options.runs)]
        finally:
            shutil.rmtree(template, ignore_errors=True)
        rate = statistics.median(r[0] for r in runs)
        cpu_rate = statistics.median(r[1] for r in runs)
        peak = statistics.median(r[2] for r in runs)
        print(
            f"  {count:>7,} messages: {rate:7,.0f} messages/s wall clock,"
            f" {cpu_rate:7,.0f} per CPU second, peak memory {peak:6.1f} MB"
        )


if __name__ == "__main__":
    main()
