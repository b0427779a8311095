"""Selection time by step, in fresh processes: where a selection's second goes.

Runs `digest.selection.plan_edition` on a database `bench/select_bench.py` built (its
`--database` file) in a new process each time, with a perf counter around each step
(the functions named in `STEPS`, wrapped in the child process only), and prints each
step's median over the runs, for this source tree and any other trees given (run in
turn, so that a noisy machine weighs on each alike). Steps nest: `choose` holds the
key-term graph, picking and related items; `build_corpus` holds the reads and the
vectors.

    python bench/select_steps.py --database FILE [--runs 7] [--tree OTHER ...]
        [--step MODULE:FUNCTION ...]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from select_bench import DAY, run_script

HERE = Path(__file__).resolve().parent

#: (module, attribute) of each step timed: attributes of classes as "Class.method".
STEPS = [
    ("digest.selection.selector", "build_corpus"),
    ("digest.selection.selector", "choose"),
    ("digest.selection.store", "window_docs"),
    ("digest.selection.store", "archive_docs"),
    ("digest.selection.corpus", "Corpus.__init__"),
    ("digest.selection.corpus", "Corpus.search"),
    ("digest.selection.selector", "reporters"),
    ("digest.selection.selector", "KeyGraph"),
    ("digest.selection.selector", "Events"),
    ("digest.selection.selector", "score_parts"),
    ("digest.selection.selector", "representatives"),
    ("digest.selection.selector", "pick_top_stories"),
    ("digest.selection.events", "Events.reports_among"),
    ("digest.selection.selector", "attach_related"),
]


def _timed(totals: dict[str, float], label: str, function: Any) -> Any:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - started

    return timed


def run_once(path: Path, also: list[tuple[str, str]]) -> dict[str, float]:
    """One selection in this process, each step's seconds (a step the tree lacks: 0)."""
    import importlib

    from sqlalchemy import text

    from digest.config import Settings
    from digest.db import Database

    totals: dict[str, float] = {}
    for module_name, attribute in [*STEPS, *also]:
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:  # an older tree without this module
            continue
        *path_to, name = attribute.split(".")
        for part in path_to:
            owner = getattr(owner, part, None)
        if owner is not None and getattr(owner, name, None) is not None:
            setattr(owner, name, _timed(totals, attribute, getattr(owner, name)))
    from digest.selection import selector

    settings = Settings()
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        session.execute(text("SELECT 1"))
    started = time.perf_counter()
    with db.session() as session:
        selector.plan_edition(
            session,
            day=DAY,
            language="en",
            selection=settings.selection,
            schedule=settings.schedule,
        )
    totals["total"] = time.perf_counter() - started
    return totals


def child(path: Path, tree: Path, also: list[str]) -> dict[str, float]:
    """One run in a fresh process of the digest package in source tree `tree`."""
    arguments = ["--child", str(path), *(f"--step={step}" for step in also)]
    return dict(run_script(Path(__file__), arguments, tree))


def _step(value: str) -> tuple[str, str]:
    """MODULE:ATTRIBUTE (a function, or "Class.method") as a `STEPS` entry."""
    module_name, _, attribute = value.partition(":")
    if not module_name or not attribute:
        raise argparse.ArgumentTypeError(f"{value!r}: expected MODULE:FUNCTION")
    return module_name, attribute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, help="the database select_bench.py built")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another tree")
    parser.add_argument(
        "--step",
        type=_step,
        action="append",
        default=[],
        help="time this function too, as MODULE:FUNCTION (where the module looks it up)",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once(args.child, args.step)))
        return
    if args.database is None:
        parser.error("--database is required (the file select_bench.py --database built)")
    if not args.database.exists():
        parser.error(f"{args.database}: no such database (build it with select_bench.py)")
    trees = [HERE.parent, *args.tree]
    runs: dict[Path, list[dict[str, float]]] = {tree: [] for tree in trees}
    for _ in range(args.runs):
        for tree in trees:
            also = [f"{module}:{attribute}" for module, attribute in args.step]
            runs[tree].append(child(args.database, tree, also))
    steps = ["total"] + [attribute for _, attribute in [*STEPS, *args.step]]
    names = ["this tree", *(tree.name for tree in args.tree)]
    print(f"median seconds of {args.runs} runs, load average {os.getloadavg()[0]:.2f}")
    print(f"{'step':24}" + "".join(f"{name:>14}" for name in names))
    for step in steps:
        medians = [statistics.median(run.get(step, 0.0) for run in runs[tree]) for tree in trees]
        print(f"{step:24}" + "".join(f"{median:14.3f}" for median in medians))


if __name__ == "__main__":
    main()
