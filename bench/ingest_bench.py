"""Ingest throughput: 10,000 generated items in several feed files already on disk.

Prints, as medians of several runs (each in a fresh process, so peak memory is per run):
items per second (wall clock) for a first ingest into an empty SQLite database and for a
re-ingest of the same files (everything unchanged), the same per second of CPU time
(all processes; steadier when the machine is shared), and the peak resident memory of
the main process and of the largest worker process that parsed files.

The baseline ("one process") parses every file in the ingesting process; "+ workers"
has two worker processes parse them. `digest ingest` uses workers only when a core is
idle (load average), so on a busy machine it behaves like the baseline.

    python bench/ingest_bench.py [--items 10000] [--feeds 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

NOW = datetime(2025, 6, 4, 4, 0, tzinfo=UTC)

WORDS_EN = (
    "minister talks nuclear agreement region security council economy markets oil output "
    "election voters parliament coalition ceasefire aid border trade tariffs technology "
    "startup investment climate summit energy transition football league final"
).split()
WORDS_AR = (
    "وزير محادثات اتفاق المنطقة الأمن مجلس الاقتصاد الأسواق النفط الإنتاج الانتخابات "
    "الناخبين البرلمان الائتلاف وقف إطلاق النار المساعدات الحدود التجارة الرسوم التقنية"
).split()


def _words(words: list[str], seed: int, count: int) -> str:
    return " ".join(words[(seed * 7 + i * 13) % len(words)] for i in range(count))


def rss_feed(feed: int, start: int, count: int, arabic: bool) -> str:
    words = WORDS_AR if arabic else WORDS_EN
    items = []
    for n in range(start, start + count):
        published = (NOW - timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        summary = (
            f"<p>{escape(_words(words, n, 30))} <a href='/story/{n}'>more</a> "
            f"<img src='/img/{n}.jpg' alt=''></p>"
        )
        items.append(
            f"<item><title>{escape(_words(words, n, 9))} #{n}</title>"
            f"<link>https://news.example/{feed}/story/{n}</link>"
            f"<guid isPermaLink='false'>bench-{n}</guid><category>Section {n % 7}</category>"
            f"<pubDate>{published}</pubDate>"
            f"<description>{escape(summary)}</description></item>"
        )
    language = "ar" if arabic else "en"
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {feed}</title><link>https://news.example/{feed}/</link>"
        f"<language>{language}</language>{''.join(items)}</channel></rss>"
    )


def atom_feed(feed: int, start: int, count: int) -> str:
    entries = []
    for n in range(start, start + count):
        stamp = (NOW - timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries.append(
            f"<entry><id>urn:bench:{n}</id><title>{escape(_words(WORDS_EN, n, 9))} #{n}</title>"
            f'<link href="/{feed}/story/{n}"/><updated>{stamp}</updated>'
            f"<published>{stamp}</published>"
            f'<summary type="html">{escape(_words(WORDS_EN, n, 30))}</summary>'
            f'<category term="Section {n % 7}"/></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="en" xml:base="https://news.example/"><title>Bench atom {feed}</title>'
        f"<id>urn:bench:feed:{feed}</id><updated>{NOW:%Y-%m-%dT%H:%M:%SZ}</updated>"
        f"{''.join(entries)}</feed>"
    )


def write_feeds(folder: Path, items: int, feeds: int) -> None:
    per_feed = items // feeds
    for feed in range(feeds):
        start, count = feed * per_feed, per_feed if feed < feeds - 1 else items - feed * per_feed
        if feed % 3 == 2:
            text = atom_feed(feed, start, count)
        else:
            text = rss_feed(feed, start, count, arabic=feed % 3 == 1)
        (folder / f"feed-{feed}.xml").write_text(text, encoding="utf-8")


def one_run(folder: Path, mode: str) -> dict[str, float]:
    """Ingest the folder twice into a new database; runs in its own process.

    `one`: everything in this one process (the baseline); `workers`: two worker
    processes parse the files while this one stores them.
    """
    from digest import pipeline
    from digest.config import load_settings, write_default_config
    from digest.ingest.records import SourceDefaults
    from digest.ingest.sources import IngestOptions, ingest_sources

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    config = work / "digest.toml"
    write_default_config(config)
    settings = load_settings(config, env={})
    pipeline.initialise(config)
    db = pipeline.open_database(settings)
    options = IngestOptions(
        defaults=SourceDefaults(languages=settings.site.languages),
        processes=1 if mode == "one" else 2,
    )
    figures = {}
    for label in ("first", "again"):
        started, cpu_started = time.perf_counter(), cpu_seconds()
        report = ingest_sources(db.session, [str(folder)], now=NOW, options=options)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        totals = report.totals()
        if report.failed:
            raise SystemExit(f"ingest failed: {report.failed}")
        items = totals.new + totals.updated + totals.unchanged
        figures[label] = items / elapsed
        figures[label + "_cpu"] = items / cpu
    db.dispose()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return figures


def cpu_seconds() -> float:
    """CPU time of this process and its (finished) worker processes."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", nargs=2, metavar=("FOLDER", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one_run(Path(args.worker[0]), args.worker[1])))
        return
    runs: dict[str, list[dict[str, float]]] = {"one": [], "workers": []}
    with tempfile.TemporaryDirectory(prefix="ingest-bench-feeds-") as folder:
        write_feeds(Path(folder), args.items, args.feeds)
        for _ in range(args.runs):
            for mode in runs:  # alternate, so both modes see the same machine noise
                command = [sys.executable, __file__, "--worker", folder, mode]
                output = subprocess.run(command, check=True, capture_output=True, text=True)
                runs[mode].append(json.loads(output.stdout))

    def median(mode: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[mode])

    print(f"ingest of {args.items} items in {args.feeds} feed files (RSS 2.0 en/ar, Atom), SQLite")
    print(f"medians of {args.runs} runs, each in a fresh process")
    print(f"  {'':<34} {'one process':>12} {'+ 2 workers':>12}")
    for key, label in (("first", "first ingest (all new)"), ("again", "re-ingest (unchanged)")):
        print(f"  {label + ', items/s':<34} {median('one', key):12.0f} "
              f"{median('workers', key):12.0f}")  # fmt: skip
        print(f"  {label + ', items/CPU-s':<34} {median('one', key + '_cpu'):12.0f} "
              f"{median('workers', key + '_cpu'):12.0f}")  # fmt: skip
    print(f"  {'peak memory, main process (MB)':<34} {median('one', 'peak_rss_mb'):12.0f} "
          f"{median('workers', 'peak_rss_mb'):12.0f}")  # fmt: skip
    print(f"  {'peak memory, largest worker (MB)':<34} {'-':>12} "
          f"{median('workers', 'worker_rss_mb'):12.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
