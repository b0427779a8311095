"""Start-up time of `digest` commands, measured as whole processes.

    python bench/startup_bench.py [--runs 15]

Makes a throwaway folder with `digest init` (SQLite) and times, as separate processes
from fork to exit, `digest --help`, `digest subscribers count` and `digest status` (or
`digest editions list` where this build has no `status` command). Prints the median and
the range of the runs. The targets named by the issue: `--help` under 0.25 s, the other
two under 0.5 s. Figures only: the machine is shared and noisy; nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def digest_executable() -> list[str]:
    found = shutil.which("digest", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "digest"]


def timed(command: list[str], folder: Path, runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) of each run; CPU time (user + system) hardly moves
    with the load of a shared machine, wall time does."""
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - started)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed")
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    digest = digest_executable()
    with tempfile.TemporaryDirectory(prefix="digest-startup-") as name:
        folder = Path(name)
        environment = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
        os.environ.clear()
        os.environ.update(environment)
        subprocess.run([*digest, "init"], cwd=folder, check=True, capture_output=True)
        listing = subprocess.run([*digest, "--help"], cwd=folder, check=True,
                                 capture_output=True, text=True).stdout  # fmt: skip
        has_status = any(line.split()[:1] == ["status"] for line in listing.splitlines())
        cases = [
            ("digest --help", ["--help"], 0.25),
            ("digest subscribers count", ["subscribers", "count"], 0.5),
            (
                "digest status" if has_status else "digest editions list (no status here)",
                ["status"] if has_status else ["editions", "list"],
                0.5,
            ),
        ]
        timed([*digest, "--help"], folder, 2)  # warm the file cache
        print(f"start-up, {args.runs} runs each, whole processes, load {os.getloadavg()[0]:.1f}:")
        for label, arguments, target in cases:
            walls, cpus = timed([*digest, *arguments], folder, args.runs)
            print(
                f"  {label:<40} median {statistics.median(walls):6.3f} s "
                f"(min {min(walls):.3f}), CPU {statistics.median(cpus):.3f} s; target < {target} s"
            )


if __name__ == "__main__":
    main()
