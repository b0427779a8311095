"""Sender throughput: `digest send` to 20,000 subscribers against baselines, same sink.

    python bench/send_bench.py [--subscribers 20000] [--runs 3]

Builds a site from the bundled English sample feed with N subscribers, starts the SMTP
sink of bench/smtp_sink.py in its own process, and for two relays prints medians of
several runs:

- a 20 ms reply delay (a relay across a network): `digest send` with mail.concurrency
  = 64 against a plain serial smtplib loop (one connection, one message at a time);
- no delay (the sink's ceiling): `digest send` with the default concurrency against the
  cheapest possible client: raw asyncio streams writing the same prebuilt bytes over the
  same number of connections (no parsing beyond the reply code); and, for reference, a
  plain aiosmtplib client (prebuilt bytes, 1..64 connections, best one kept).

`digest send` runs as the real command in its own process, with every piece of
bookkeeping on (leases, batched commits, bounce counting); its rate is the drain phase
from `--json`, its peak memory the process's maximum resident set. Figures only: the
machine is shared and noisy, nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiosmtplib

from digest.config import MailSettings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "digest" / "data" / "sample" / "arabpress-en.xml"
DAY = "2025-06-04"
SENDER = "digest@arabpress.example"


def digest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    return subprocess.run(
        [sys.executable, "-m", "digest", "--config", str(folder / "digest.toml"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def build_site(folder: Path, subscribers: int) -> Path:
    """A config, the sample articles and `subscribers` active English readers."""
    folder.mkdir(parents=True, exist_ok=True)
    digest(folder, "init")
    digest(folder, "ingest", str(SAMPLE))
    now = datetime.now(UTC).replace(tzinfo=None)
    with sqlite3.connect(folder / "digest.db") as db:
        db.executemany(
            "insert into subscribers (email, name, language, sections, timezone, status,"
            " smtputf8, bounce_count, created_at, updated_at)"
            " values (?, ?, 'en', '', 'UTC', 'active', 0, 0, ?, ?)",
            ((f"reader{n:06d}@example.com", f"Reader {n}", now, now) for n in range(subscribers)),
        )
    freeze(folder)
    return folder


def copy_site(site: Path, run: Path) -> None:
    """Config, key and a consistent copy of the database (SQLite's backup, WAL included)."""
    for name in ("digest.toml", "secret.key"):
        shutil.copy2(site / name, run / name)
    with (
        closing(sqlite3.connect(site / "digest.db")) as source,
        closing(sqlite3.connect(run / "digest.db")) as copy,
    ):
        source.backup(copy)


def freeze(folder: Path) -> None:
    """Freeze the edition once, so every run sends the same thing and times sending only."""
    from digest import editions, pipeline
    from digest.compose import composer
    from digest.config import load_settings

    settings = load_settings(folder / "digest.toml", env={})
    db = pipeline.open_database(settings)
    try:
        day = date.fromisoformat(DAY)
        compose = composer(settings, day, "en")
        editions.freeze(db, settings, day, "en", datetime.now(UTC), compose)
    finally:
        db.dispose()


def sample_message(folder: Path) -> bytes:
    """One subscriber's real message (the plain clients send these bytes)."""
    out = folder / "preview"
    digest(folder, "preview", "--date", DAY, "--lang", "en", "--out", str(out))
    return (out / "edition.eml").read_bytes()


@contextmanager
def sink(delay: float) -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), "--delay", str(delay)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        yield int(line.split()[1])
    finally:
        process.terminate()
        process.communicate(timeout=30)


def run_digest_send(site: Path, port: int, concurrency: int) -> tuple[float, float, int, float]:
    """(msgs/s of the drain, seconds end to end, peak RSS in KiB, CPU seconds per message
    of the whole process, start-up included) of one `digest send`."""
    with tempfile.TemporaryDirectory(prefix="send-bench-run-") as scratch:
        run = Path(scratch)
        copy_site(site, run)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        env["DIGEST_TRANSPORT"] = f"smtp://127.0.0.1:{port}"
        started = time.monotonic()
        with open(run / "out.json", "w") as out, open(run / "err.txt", "w") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "digest", "--config", str(run / "digest.toml"), "send",
                 "--date", DAY, "--lang", "en", "--concurrency", str(concurrency), "--json"],
                env=env,
                stdout=out,
                stderr=err,
            )  # fmt: skip
            _pid, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"digest send failed ({process.returncode}): "
                             f"{(run / 'err.txt').read_text()}")  # fmt: skip
        summary = json.loads((run / "out.json").read_text())["editions"][0]
        cpu = (usage.ru_utime + usage.ru_stime) / max(summary["sent"], 1)
        return summary["sent"] / summary["elapsed_seconds"], wall, usage.ru_maxrss, cpu


def serial_smtplib(port: int, message: bytes, count: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for n in range(count):
            smtp.sendmail(SENDER, [f"serial{n}@example.com"], message)
    return count / (time.perf_counter() - started)


def plain_aiosmtplib(port: int, message: bytes, count: int, connections: int) -> float:
    async def worker(share: range) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await smtp.connect()
        for n in share:
            await smtp.sendmail(SENDER, [f"plain{n}@example.com"], message)
        await smtp.quit()

    async def main() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(worker(range(i, count, connections)) for i in range(connections)))
        return count / (time.perf_counter() - started)

    return asyncio.run(main())


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_streams(port: int, message: bytes, count: int, connections: int) -> tuple[float, float]:
    """The cheapest client there is: prebuilt commands and payload, reply codes only.
    Returns (msgs/s, CPU seconds per message of this process)."""
    payload = message if message.endswith(b"\r\n") else message + b"\r\n"
    payload = payload.replace(b"\r\n.", b"\r\n..") + b".\r\n"

    async def reply(reader: asyncio.StreamReader) -> bytes:
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("sink closed the connection")
            if line[3:4] != b"-":
                return line[:3]

    async def worker(share: range) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await reply(reader)
        writer.write(b"EHLO bench.localhost\r\n")
        await reply(reader)
        mail = b"MAIL FROM:<" + SENDER.encode() + b">\r\n"
        for n in share:
            for command in (mail, b"RCPT TO:<raw%d@example.com>\r\n" % n, b"DATA\r\n"):
                writer.write(command)
                await reply(reader)
            writer.write(payload)
            if await reply(reader) != b"250":
                raise RuntimeError("the sink refused a message")
        writer.write(b"QUIT\r\n")
        await reply(reader)
        writer.close()

    async def main() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(worker(range(i, count, connections)) for i in range(connections)))
        return count / (time.perf_counter() - started)

    cpu = cpu_seconds()
    rate = asyncio.run(main())
    return rate, (cpu_seconds() - cpu) / count


def interleaved(runs: int, measures: dict[str, Callable[[], Any]]) -> dict[str, list[Any]]:
    """Each measure `runs` times, taking turns, so a busy spell hits all of them alike."""
    results: dict[str, list[Any]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            results[name].append(measure())
    return results


def describe_ours(label: str, runs: list[tuple[float, float, int, float]]) -> float:
    rate = statistics.median(r for r, _w, _p, _c in runs)
    wall = statistics.median(w for _r, w, _p, _c in runs)
    peak = max(p for _r, _w, p, _c in runs) / 1024
    cpu = statistics.median(c for _r, _w, _p, c in runs) * 1e6
    print(f"  {label:<38} {rate:7,.0f} msg/s  (end to end {wall:.1f} s, peak {peak:.0f} MiB, "
          f"CPU {cpu:,.0f} µs per message, start-up included)")  # fmt: skip
    return rate


def describe_raw(label: str, runs: list[tuple[float, float]]) -> float:
    rate = statistics.median(r for r, _c in runs)
    cpu = statistics.median(c for _r, c in runs) * 1e6
    print(f"  {label:<38} {rate:7,.0f} msg/s  (CPU {cpu:,.0f} µs per message)")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--serial-sample", type=int, default=150, help="messages per serial smtplib run (slow)"
    )
    parser.add_argument(
        "--plain-sample", type=int, default=5_000, help="messages per plain aiosmtplib run"
    )
    args = parser.parse_args()
    default = MailSettings().concurrency
    small_count = max(args.subscribers // 10, 100)
    with tempfile.TemporaryDirectory(prefix="send-bench-") as scratch:
        site = build_site(Path(scratch) / "site", args.subscribers)
        small = build_site(Path(scratch) / "small", small_count)
        message = sample_message(site)
        print(f"one edition to {args.subscribers:,} subscribers, {len(message):,}-byte message, "
              f"medians of {args.runs} interleaved runs, {os.cpu_count()} CPUs")  # fmt: skip

        print("\n20 ms reply delay (MAIL, RCPT and end of DATA each wait 20 ms):")
        with sink(0.02) as port:
            results = interleaved(args.runs, {
                "serial": lambda: serial_smtplib(port, message, args.serial_sample),
                "raw": lambda: raw_streams(port, message, args.plain_sample // 2, 64),
                "ours": lambda: run_digest_send(site, port, 64),
            })  # fmt: skip
        serial = statistics.median(results["serial"])
        print(f"  {'serial smtplib loop':<38} {serial:7,.0f} msg/s")
        raw = describe_raw("raw asyncio streams, 64 connections", results["raw"])
        ours = describe_ours("digest send, mail.concurrency = 64", results["ours"])
        print(f"  => {ours / serial:.1f}x the serial loop (target: at least 40x), "
              f"{ours / raw:.2f}x raw streams")  # fmt: skip

        print("\nno delay (the sink's ceiling):")
        connections = (1, 4, 8, 16, 32, 64)
        with sink(0.0) as port:
            measures: dict[str, Callable[[], Any]] = {
                f"plain {n}": partial(plain_aiosmtplib, port, message, args.plain_sample, n)
                for n in connections
            }
            measures["raw"] = partial(raw_streams, port, message, args.plain_sample, default)
            measures["ours"] = lambda: run_digest_send(site, port, default)
            measures["small"] = lambda: run_digest_send(small, port, default)
            results = interleaved(args.runs, measures)
        plain = {n: statistics.median(results[f"plain {n}"]) for n in connections}
        for n, rate in plain.items():
            print(f"  {f'plain aiosmtplib, {n} connections':<38} {rate:7,.0f} msg/s")
        best = max(plain, key=plain.__getitem__)
        raw = describe_raw(f"raw asyncio streams, {default} connections", results["raw"])
        ours = describe_ours(f"digest send, default concurrency ({default})", results["ours"])
        print(f"  => {ours / raw:.2f}x the raw asyncio client over {default} connections "
              f"(target: at least 0.8x); {100 * ours / plain[best]:.0f}% of the fastest "
              f"plain aiosmtplib client ({best} connections)")  # fmt: skip
        describe_ours(f"  same, {small_count:,} subscribers", results["small"])


if __name__ == "__main__":
    main()
