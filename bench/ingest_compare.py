"""Ingest throughput of this tree against an earlier revision, on the same generated feeds.

Runs `bench/ingest_bench.py`'s single-process measurement (10,000 items in 5 feed files,
a first ingest into a new SQLite database, then a re-ingest) alternately with the
current tree and with REV (exported with `git archive`, imported through PYTHONPATH, so
both use this environment's packages), each run in a fresh process, and prints medians
and the ratio current / REV. Items per CPU-second are the steadier figure on a shared
machine; both runs see the same noise because they alternate.

    python bench/ingest_compare.py --base REV [--runs 5] [--items 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import ingest_bench  # noqa: E402  (the generator and the measurement live there)

FIGURES = (
    ("first", "first ingest (all new), items/s"),
    ("first_cpu", "first ingest (all new), items/CPU-s"),
    ("again", "re-ingest (unchanged), items/s"),
    ("again_cpu", "re-ingest (unchanged), items/CPU-s"),
)


def export(revision: str, folder: Path) -> None:
    """The tree of `revision` unpacked into `folder` (git archive: no checkout needed)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", revision],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")


def measure(tree: Path, feeds: Path) -> dict[str, float]:
    """One single-process run of `tree`'s ingest over `feeds`, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [
        sys.executable,
        str(tree / "bench" / "ingest_bench.py"),
        "--worker",
        str(feeds),
        "one",
    ]
    output = subprocess.run(command, env=env, cwd=tree, check=True, capture_output=True, text=True)
    return dict(json.loads(output.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git revision to compare against")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-compare-") as work:
        base, feeds = Path(work) / "base", Path(work) / "feeds"
        base.mkdir()
        feeds.mkdir()
        export(args.base, base)
        ingest_bench.write_feeds(feeds, args.items, args.feeds)
        runs: dict[str, list[dict[str, float]]] = {"base": [], "current": []}
        for _ in range(args.runs):
            runs["base"].append(measure(base, feeds))
            runs["current"].append(measure(REPO, feeds))
    print(f"ingest of {args.items} items in {args.feeds} feed files, one process, SQLite")
    print(f"medians of {args.runs} alternating runs; base = {args.base}")
    print(f"  {'':<38} {'base':>8} {'current':>8} {'ratio':>7}")
    for key, label in FIGURES:
        before = statistics.median(run[key] for run in runs["base"])
        after = statistics.median(run[key] for run in runs["current"])
        print(f"  {label:<38} {before:8.0f} {after:8.0f} {after / before:7.2f}")


if __name__ == "__main__":
    main()
