"""Selection time and peak memory: 10,000 articles in the window, 50,000 in the archive.

Generates a SQLite database once (synthetic news: stories of very different sizes
reported by 40 feeds, wire copies, a Zipf-distributed vocabulary, bodies of ~400 words),
with the term cache filled as ingest fills it (`digest.selection.store.fill_terms`,
which ingest calls for every row it stores), then runs `digest.selection.plan_edition`
in a fresh process several times and prints the medians. Each run reports wall time of
the selection (database reads included) and the process's peak RSS growth during it;
one more run reports the peak of Python allocations (tracemalloc, which slows that run,
so its time is not counted). The same runs on a copy without the term cache (an
upgraded database before its articles are ingested again) give the cold figure.

    python bench/select_bench.py [--window 10000] [--archive 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

DAY = date(2025, 6, 4)
SECTIONS = ["World", "Politics", "Business", "Technology", "Sport", "Health", "Science", "Culture"]


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    found: set[str] = set()
    while len(found) < count:
        size = rng.randint(3, 10)
        found.add("".join(rng.choice(vowels if i % 2 else consonants) for i in range(size)))
    words = sorted(found)
    rng.shuffle(words)
    return words


class NewsGenerator:
    """Stories (events) on topics, each reported one or many times."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        words = pseudo_words(self.rng, 40000)
        self.background = words[:20000]
        total = 0.0
        self.cumulative = []
        for rank in range(len(self.background)):
            total += 1.0 / (rank + 1)
            self.cumulative.append(total)
        topic_words = words[20000:26000]
        self.topics = [self.rng.sample(topic_words, 30) for _ in range(400)]
        self.names = words[26000:]
        self.sources = [f"https://feed{n:02d}.example/rss" for n in range(40)]

    def _words(self, count: int) -> list[str]:
        return self.rng.choices(self.background, cum_weights=self.cumulative, k=count)

    def stories(self, count: int, start: datetime, hours: float) -> list[dict]:
        rng = self.rng
        made: list[dict] = []
        while len(made) < count:
            topic_number = rng.randrange(len(self.topics))
            topic = self.topics[topic_number]
            event = rng.sample(self.names, 8)
            size = min(count - len(made), max(1, int(rng.paretovariate(1.3))))
            first_seen = start + timedelta(hours=rng.uniform(0, max(hours - 10, 0.1)))
            original = None
            for _ in range(size):
                if original is not None and rng.random() < 0.3:  # a wire copy, lightly edited
                    title, summary, body = original
                    title = f"{title} {self._words(1)[0]}"
                else:
                    title = " ".join(
                        rng.sample(event, 3) + rng.sample(topic, 2) + self._words(4)
                    ).capitalize()
                    summary = " ".join(
                        rng.sample(event, 4) + rng.sample(topic, 4) + self._words(28)
                    )
                    body = " ".join(rng.sample(event, 6) + rng.sample(topic, 12) + self._words(400))
                    original = original or (title, summary, body)
                made.append(
                    {
                        "title": title,
                        "summary": f"<p>{summary}.</p>",
                        "body": f"{body}.",
                        "section": SECTIONS[topic_number % len(SECTIONS)],
                        "source": rng.choice(self.sources),
                        "published_at": first_seen + timedelta(minutes=rng.uniform(0, 600)),
                        "priority": 2 if rng.random() < 0.01 else 1 if rng.random() < 0.05 else 0,
                        "popularity": int(rng.lognormvariate(6, 1.5))
                        if rng.random() < 0.5
                        else None,
                    }
                )
        return made


def build_database(path: Path, window: int, archive: int) -> None:
    from sqlalchemy import insert

    from digest.config import Settings
    from digest.db import Database
    from digest.models import Article
    from digest.selection.window import edition_window

    settings = Settings()
    end = edition_window(DAY, settings.schedule.at, settings.schedule.timezone, 24).end
    generator = NewsGenerator(seed=20250604)
    rows = generator.stories(window, end - timedelta(hours=24), 24)
    rows += generator.stories(archive, end - timedelta(days=8), 24 * 7)
    now = end
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as session:
        for number, row in enumerate(rows):
            row.update(
                guid=f"https://news.example/a/{number:06d}",
                url=f"https://news.example/a/{number:06d}",
                canonical_url=f"https://news.example/a/{number:06d}",  # as ingest stores it
                language="en",
                content_hash=f"{number:064d}",
                ingested_at=now,
            )
        for offset in range(0, len(rows), 5000):
            session.execute(insert(Article), rows[offset : offset + 5000])
    db.dispose()


def fill_term_cache(path: Path) -> int:
    """Bring the database to the current schema and write the term cache of every
    article without a valid one, as ingest does for the rows it stores; the number
    written (0 for a database filled by this version before)."""
    from digest.db import Database
    from digest.selection.cache import fill_terms

    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.session() as session:
        written = fill_terms(session)
    checkpoint(db)
    return written


def without_term_cache(path: Path, copy: Path) -> None:
    """A copy of the database whose term cache is empty."""
    from digest.db import Database

    shutil.copyfile(path, copy)
    db = Database(f"sqlite:///{copy}")
    with db.session() as session:
        session.connection().exec_driver_sql("DELETE FROM article_terms")
    checkpoint(db)


def checkpoint(db: Any) -> None:
    """Fold the write-ahead log into the file and refresh statistics, as a long-running
    database would be."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.exec_driver_sql("ANALYZE")
    db.dispose()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from
    the parent that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_once(path: Path, trace: bool) -> dict:
    """One selection in this process (called in a child process by `main`)."""
    import tracemalloc

    from sqlalchemy import text

    from digest.config import Settings
    from digest.db import Database
    from digest.selection import plan_edition

    settings = Settings()
    db = Database(f"sqlite:///{path}")
    with db.session() as session:  # open the connection: not part of the selection
        session.execute(text("SELECT 1"))
    before = peak_rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with db.session() as session:
        plan = plan_edition(
            session,
            day=DAY,
            language="en",
            selection=settings.selection,
            schedule=settings.schedule,
        )
        stories = len(plan.stories)
        related = sum(len(story.related) for story in plan.stories)
        chosen = [
            (
                story.article.guid,
                story.score,
                [(r.article.guid, r.similarity) for r in story.related],
            )
            for story in plan.stories
        ]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    traced = tracemalloc.get_traced_memory()[1] if trace else 0
    after = peak_rss_mb()
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rss_growth_mb": after - before,
        "peak_rss_mb": after,
        "traced_peak_mb": traced / 2**20,
        "stories": stories,
        "related": related,
        "plan": hashlib.sha256(json.dumps(chosen).encode()).hexdigest()[:16],
    }


def child(path: Path, trace: bool, tree: Path | None = None) -> dict:
    """One run in a fresh process; with `tree`, of the digest package in that source tree."""
    return run_script(Path(__file__), ["--child", str(path), *(["--trace"] if trace else [])], tree)


def run_script(script: Path, arguments: list[str], tree: Path | None = None) -> Any:
    """The JSON a bench script prints, run with `arguments` in a fresh process; with
    `tree`, of the digest package in that source tree."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(tree), env.get("PYTHONPATH", "")])
    output = subprocess.run(
        [sys.executable, str(script), *arguments],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=10000)
    parser.add_argument("--archive", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--database", type=Path, help="keep the generated database here and reuse it next time"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="source tree of another version (e.g. 'git archive main'): run it on the same "
        "database, alternating with this one, and print the ratio",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.child, args.trace)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.database or Path(folder) / "bench.db"
        if path.exists():
            print(f"database: {path.name}, reused")
        else:
            started = time.perf_counter()
            build_database(path, args.window, args.archive)
            print(
                f"database: {args.window:,} window + {args.archive:,} archive articles "
                f"(built in {time.perf_counter() - started:.0f} s)"
            )
        started = time.perf_counter()
        written = fill_term_cache(path)
        seconds = time.perf_counter() - started
        if written:
            print(f"term cache: {written:,} articles' words written as at ingest ({seconds:.1f} s)")
        else:
            print(f"term cache: every article's words already stored (checked in {seconds:.1f} s)")
        cold_path = Path(folder) / "cold.db"
        without_term_cache(path, cold_path)
        load_before = f"{os.getloadavg()[0]:.2f}"
        runs, cold, baseline = [], [], []
        for _ in range(args.runs):
            runs.append(child(path, trace=False))
            cold.append(child(cold_path, trace=False))
            if args.baseline:
                baseline.append(child(path, trace=False, tree=args.baseline))
        traced = child(path, trace=True)
    seconds = statistics.median(run["seconds"] for run in runs)
    cpu = statistics.median(run["cpu_seconds"] for run in runs)
    growth = statistics.median(run["rss_growth_mb"] for run in runs)
    peak = statistics.median(run["peak_rss_mb"] for run in runs)
    same = {run["plan"] for run in runs + cold} == {runs[0]["plan"]}
    print(
        f"plan: {runs[0]['stories']} top stories, {runs[0]['related']} related items; "
        f"{'identical' if same else 'DIFFERENT'} with and without the term cache"
    )
    fastest, slowest = min(r["seconds"] for r in runs), max(r["seconds"] for r in runs)
    print(
        f"selection time, terms computed at ingest: median {seconds:.2f} s wall, {cpu:.2f} s "
        f"CPU, of {args.runs} runs (wall min {fastest:.2f}, max {slowest:.2f})"
    )
    cold_wall = statistics.median(run["seconds"] for run in cold)
    cold_cpu = statistics.median(run["cpu_seconds"] for run in cold)
    cold_peak = statistics.median(run["peak_rss_mb"] for run in cold)
    print(
        f"selection time, cold (no term cache: every article tokenised): median "
        f"{cold_wall:.2f} s wall, {cold_cpu:.2f} s CPU (process peak RSS {cold_peak:.0f} MB)"
    )
    print(
        f"peak memory: RSS growth during selection median {growth:.0f} MB "
        f"(process peak RSS {peak:.0f} MB); Python allocations peak "
        f"{traced['traced_peak_mb']:.0f} MB"
    )
    if baseline:
        base_wall = statistics.median(run["seconds"] for run in baseline)
        base_cpu = statistics.median(run["cpu_seconds"] for run in baseline)
        print(
            f"baseline ({args.baseline.name}): median {base_wall:.2f} s wall, {base_cpu:.2f} s "
            f"CPU; this version / baseline: {seconds / base_wall:.2f} wall, "
            f"{cpu / base_cpu:.2f} CPU"
        )
    print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.2f} (2 cores)")


if __name__ == "__main__":
    main()
