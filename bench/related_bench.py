"""`digest articles related` time on the selection benchmark's database.

Uses bench/select_bench.py's synthetic database (10,000 window and 50,000 archive
articles with bodies of ~400 words, term cache filled as ingest fills it), builds it
unless `--database` names one already built, then asks `related_articles` (what
`digest articles related GUID --limit 10` runs) for `--articles` window articles spread
over the window, each in a fresh process, and prints the median wall time (corpus
build included) and how many related articles were listed. The synthetic articles are
written in lower case, so no names are read (selection/names.py): the cost of reading
them is printed apart, on the labelled pairs' real-language bodies
(bench/data/related_pairs*.jsonl), per language, as the time to read the names of 1,000
articles (a lookup reads those of every candidate whose cosine reaches the floor
squared, at most `NEAREST` + `CANDIDATES` of them).

    python bench/related_bench.py [--database FILE] [--articles 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


def run_once(path: Path, guid: str) -> dict[str, float]:
    """One lookup in this process (called in a child process by `main`)."""
    from sqlalchemy import text

    from digest.config import Settings
    from digest.db import Database
    from digest.selection import related_articles

    settings = Settings()
    db = Database(f"sqlite:///{path}")
    with db.session() as session:  # open the connection: not part of the lookup
        session.execute(text("SELECT 1"))
    started = time.perf_counter()
    with db.session() as session:
        report = related_articles(
            session, guid, limit=10, selection=settings.selection, schedule=settings.schedule
        )
        listed = len(report.related)
    return {"seconds": time.perf_counter() - started, "listed": listed}


def window_guids(path: Path, count: int) -> list[str]:
    """`count` guids spread evenly over the window's articles (newest 10,000)."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT guid FROM articles ORDER BY published_at DESC, id LIMIT 10000"
        ).fetchall()
    step = max(len(rows) // max(count, 1), 1)
    return [row[0] for row in rows[::step][:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, help="a database select_bench.py built")
    parser.add_argument("--articles", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(Path(args.child[0]), args.child[1])))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.database or Path(folder) / "bench.db"
        if not path.exists():
            from select_bench import build_database, fill_term_cache

            build_database(path, 10000, 50000)
            fill_term_cache(path)
            print("database: 10,000 window + 50,000 archive articles, term cache filled")
        load_before = f"{os.getloadavg()[0]:.2f}"
        runs = []
        for guid in window_guids(path, args.articles):
            output = subprocess.run(
                [sys.executable, __file__, "--child", str(path), guid],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs.append(json.loads(output))
        seconds = [run["seconds"] for run in runs]
        print(
            f"articles related: median {statistics.median(seconds):.2f} s wall over "
            f"{len(runs)} articles (min {min(seconds):.2f}, max {max(seconds):.2f}); "
            f"listed {sum(int(run['listed']) for run in runs)} related in all"
        )
        print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.2f} (2 cores)")
    names_cost()


def names_cost(repeats: int = 7) -> None:
    """Print the median time `names` takes per 1,000 labelled bodies of each language, as
    they are and repeated to a long report's length."""
    bodies: dict[str, list[str]] = {}
    for path in sorted((REPO / "bench" / "data").glob("related_pairs*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            for side in (item["a"], item["b"]):
                if side.get("body"):
                    bodies.setdefault(item["language"], []).append(side["body"])
    for language, short in sorted(bodies.items()):
        short = list(dict.fromkeys(short))
        # and each body repeated to 14,000 characters: a long report
        long = [(text + "\n\n") * (14_000 // (len(text) + 2) + 1) for text in short]
        for texts in (short, long):
            _time_names(language, texts, repeats)


def _time_names(language: str, texts: list[str], repeats: int) -> None:
    from digest.selection.names import by_capitals, names
    from digest.selection.similarity import Vocabulary

    capitals = by_capitals(language, texts[0])
    names(Vocabulary(), texts[0], language, capitals)  # CLDR tables loaded once
    times = []
    for _ in range(repeats):
        vocabulary = Vocabulary()
        start = time.perf_counter()
        for text in texts:
            names(vocabulary, text, language, capitals)
        times.append((time.perf_counter() - start) / len(texts) * 1000)
    size = sum(map(len, texts)) // len(texts)
    print(
        f"names read ({language}, {len(texts)} bodies of {size:,} characters on "
        f"average): median {statistics.median(times):.2f} s per 1,000 articles"
    )


if __name__ == "__main__":
    main()
