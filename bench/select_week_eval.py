"""Editions of a small bilingual site's week, against the events a reader would name.

bench/data/labelled_week/ holds five days of news (10-14 March 2025, real events told
in invented words) from five fictional outlets in six feeds of four formats (RSS, Atom,
JSON Feed, JSON Lines), English and Arabic, with summaries and some bodies: 210 reports
of about 110 events, most of them told by two outlets, some by one, at their outlets'
times. `labels.csv` gives each report's event (`guid, outlet, lang, news_day,
published_at, event_id, title`). It was written by a breaker pass that had not seen the
code, to be a thin site's ordinary week: two-report events of one kind on one day (two
central banks, two earthquakes, two fires, three football matches), headlines that
share one word in another sense, and reports of one event in different words.

The feeds are stored with `digest ingest` in a new SQLite database, then `digest select
--date D --lang L --json --explain` gives each edition of 11-15 March in both languages
(default settings: a 24-hour window, 8 top stories). Printed per language and for both:

- same-event top pairs: pairs of top stories whose articles report one event (goal 0);
- grouped reports of another event: of the reports `--explain` groups into the top
  stories, those of an event other than their story's (lower is better);
- distinct events shown, of the slots and of the events in the windows;
- related precision: related items of their story's event (higher is better);

then every failure with its headlines.

    python bench/select_week_eval.py [--data FOLDER]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data" / "labelled_week"
DAYS = ["2025-03-11", "2025-03-12", "2025-03-13", "2025-03-14", "2025-03-15"]


def digest(folder: Path, *args: str) -> str:
    """`digest ARGS` in `folder` with its own database and default settings: stdout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    env["DIGEST_DATABASE_URL"] = f"sqlite:///{folder / 'digest.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "digest", *args],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def score(
    plan: dict, labels: dict[str, dict[str, str]], language: str, tally: Counter, failures: list
) -> None:
    """Add one edition's figures to `tally` and its failures to `failures`."""
    stories = plan["stories"]
    events = [labels[story["article"]["guid"]]["event_id"] for story in stories]
    start, end = plan["window"]["start"], plan["window"]["end"]
    shown = {
        row["event_id"]
        for row in labels.values()
        if row["lang"] == language and start <= row["published_at"] < end
    }
    day = f"{plan['date']} {language}"
    tally["slots"] += len(stories)
    tally["distinct"] += len(set(events))
    tally["in windows"] += len(shown)
    for first, second in combinations(range(len(stories)), 2):
        tally["pairs"] += 1
        if events[first] == events[second]:
            tally["same"] += 1
            titles = (stories[n]["article"]["title"] for n in (first, second))
            failures.append(f"{day} one event twice [{events[first]}]: {' / '.join(titles)}")
    for story, event in zip(stories, events, strict=True):
        title = story["article"]["title"]
        for report in story["explanation"]["reports"]:
            tally["reports"] += 1
            other = labels[report["guid"]]["event_id"]
            if other != event:
                tally["wrong"] += 1
                failures.append(f"{day} grouped [{other}] {report['title']} under {title}")
        for item in story["related"]:
            tally["related"] += 1
            other = labels[item["article"]["guid"]]["event_id"]
            if other == event:
                tally["related right"] += 1
            else:
                failures.append(f"{day} related [{other}] {item['article']['title']} to {title}")


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    data = args.data.resolve()
    with (data / "labels.csv").open(encoding="utf-8", newline="") as file:
        labels = {row["guid"]: row for row in csv.DictReader(file)}
    tallies = {language: Counter() for language in ("en", "ar")}
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        digest(folder, "init")
        digest(folder, "ingest", *map(str, sorted((data / "feeds").iterdir())))
        for language in ("en", "ar"):
            for day in DAYS:
                args = ["select", "--date", day, "--lang", language, "--json", "--explain"]
                plan = json.loads(digest(folder, *args))
                score(plan, labels, language, tallies[language], failures)
    tallies["all"] = tallies["en"] + tallies["ar"]
    print(f"{len(labels)} labelled reports, {len(DAYS)} editions per language")
    for language, tally in tallies.items():
        print(
            f"{language:4} same-event top pairs {share(tally['same'], tally['pairs'])}; "
            f"grouped reports of another event {share(tally['wrong'], tally['reports'])}; "
            f"distinct events {tally['distinct']} of {tally['slots']} slots "
            f"({tally['in windows']} events in the windows); "
            f"related precision {share(tally['related right'], tally['related'])}"
        )
    print()
    print("\n".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
