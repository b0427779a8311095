"""Import speed and memory: `digest subscribers import` of generated CSV files into SQLite.

Each measured import runs as its own process on a fresh database, so its peak resident
memory (from the kernel's rusage of that child) is the import's alone. Prints medians of
several runs for 100,000 rows (first import and re-import of the same file) and the
command's start-up time, then one import of 1,000,000 rows to show that memory stays flat.

    python bench/import_bench.py [--rows 100000] [--runs 3] [--large 1000000] [--large-runs 1]

The targets named by the issue: at least 20,000 rows/s for 100,000 rows, and a peak
under 150 MB for 100,000 and for 1,000,000 rows. This script prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

NAMES_EN = ["Sarah", "James", "Priya", "Omar", "Lucía", "Chen", "Amara", "Noah", "Ivan", "Zoë"]
NAMES_AR = ["ليلى", "عمر", "أميرة", "خالد", "نور", "يوسف", "مريم", "حسن", "سلمى", "طارق"]
ZONES = ["UTC", "Asia/Riyadh", "Africa/Cairo", "Asia/Dubai", "Europe/London", "America/New_York"]
SECTIONS = ["", "", "World", "Politics,World", "Business", "Health,Science"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com"] + [
    f"mail{number}.example.net" for number in range(300)
]


def mailbox_name(name: str) -> str:
    """`Lucía` → `lucia`: how most people's mailbox names are spelt."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def generate(path: Path, rows: int, seed: int = 6) -> None:
    """A realistic list, written row by row: both languages, names, zones, a few statuses."""
    chooser = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "language", "sections", "timezone", "status"])
        for number in range(rows):
            arabic = chooser.random() < 0.4
            name = chooser.choice(NAMES_AR if arabic else NAMES_EN)
            status = "unsubscribed" if chooser.random() < 0.02 else ""
            # About 1 in 100 addresses has a non-ASCII local part (needs SMTPUTF8).
            local = "reader" if arabic else mailbox_name(name)
            if chooser.random() < 0.01:
                local = name
            writer.writerow(
                [
                    f"{local}.{number}@{chooser.choice(DOMAINS)}",
                    f"{name} {number}",
                    "ar" if arabic else "en",
                    chooser.choice(SECTIONS),
                    chooser.choice(ZONES),
                    status,
                ]
            )


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    output: str


def digest(folder: Path, *args: str) -> Run:
    """One `digest` command as a child process: wall time, CPU time and its own peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "digest", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")},
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    output = (process.stdout.read() + process.stderr.read()).decode()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"digest {' '.join(args)} failed:\n{output}")
    # ru_maxrss is in kilobytes on Linux.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output.strip())


def fresh_site(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    digest(folder, "-q", "init")
    return folder


def measure(root: Path, source: Path, rows: int, runs: int) -> tuple[list[Run], list[Run]]:
    first, again = [], []
    for number in range(runs):
        folder = fresh_site(root, f"site-{rows}-{number}")
        first.append(digest(folder, "subscribers", "import", str(source)))
        again.append(digest(folder, "subscribers", "import", str(source)))
    return first, again


def line(label: str, runs: list[Run], rows: int, startup: float) -> str:
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    peak = max(r.peak_mb for r in runs)
    return (
        f"  {label:<14} {wall:6.2f} s wall  {rows / wall:>9,.0f} rows/s"
        f"  ({rows / max(wall - startup, 1e-9):>9,.0f} rows/s without start-up)"
        f"  cpu {cpu:5.2f} s  peak RSS {peak:6.1f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large", type=int, default=1_000_000, help="0 skips the large run")
    parser.add_argument("--large-runs", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as temporary:
        root = Path(temporary)
        source = root / f"subscribers-{options.rows}.csv"
        generate(source, options.rows)
        probe = fresh_site(root, "probe")
        startup = statistics.median(
            digest(probe, "subscribers", "count").wall for _ in range(options.runs)
        )
        print(f"python {sys.version.split()[0]}, SQLite, {os.cpu_count()} CPUs")
        print(f"command start-up (digest subscribers count): {startup:.2f} s (median)")
        first, again = measure(root, source, options.rows, options.runs)
        print(f"{options.rows:,} rows, median of {options.runs} runs, each on a fresh database:")
        print(line("first import", first, options.rows, startup))
        print(line("re-import", again, options.rows, startup))
        print(f"  last output: {first[-1].output.splitlines()[-1]}")
        if options.large:
            large = root / f"subscribers-{options.large}.csv"
            generate(large, options.large, seed=7)
            source.unlink()
            first, again = measure(root, large, options.large, options.large_runs)
            runs = options.large_runs
            print(f"{options.large:,} rows, median of {runs} run{'s' * (runs > 1)}:")
            print(line("first import", first, options.large, startup))
            print(line("re-import", again, options.large, startup))


if __name__ == "__main__":
    main()
