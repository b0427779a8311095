"""Arabic editions on labelled days: one top story per event, and no event merged into another.

`bench/select_eval.py` measures the selector on English aggregator headlines. The
files of bench/data/arabic_days/ hold days of Arabic news items (headline and a
sentence or two), each labelled with the real event it reports (`"event"`), written
by someone who had not seen the code: 12-18 events a day from five outlets, most told
two or three times, with the hard cases on purpose (events of one kind in several
countries, unrelated events of one country or city, countries named by name, adjective
or capital). Each day is stored in a database of its own and its edition planned as
`digest select --json --explain` plans it, twice: as the outlets wrote it, and as one
publication (every address on one host, so no report is corroborated by another
source). Printed per day, and in all:

- same-event top pairs: top-story pairs that report one event (lower is better; an
  event told twice);
- grouped reports of another event: of the reports `--explain` groups into a story,
  the share whose event is not the story's (lower is better; an event merged into
  another, and lost from the edition if it was not a top story itself);
- events shown: distinct events among the top stories, against the slots and the
  events of the day;
- related precision: the share of related items whose event is their story's.

Latest N (the newest `top_stories` items) is printed beside it for the first figure.

    python bench/select_eval_arabic.py [--days FILE ...]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

from select_week_eval import digest

REPO = Path(__file__).resolve().parent.parent
DAYS = sorted((REPO / "bench" / "data" / "arabic_days").glob("day*.jsonl"))
TOP_STORIES = 8
_HOST = re.compile(r"^https?://[^/]+")


def read_day(path: Path) -> list[dict]:
    """The labelled items of one day file, each with "guid", "url", "event" and the
    feed fields."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def one_publication(items: Sequence[dict]) -> list[dict]:
    """The same items with every address on one host."""
    return [{**item, "url": _HOST.sub("https://paper.example", item["url"])} for item in items]


def plan(items: Sequence[dict]) -> dict:
    """`digest select --json --explain` for the day after the first item's date, in a
    fresh database holding `items` only."""
    first = min(datetime.fromisoformat(item["published_at"]) for item in items)
    day = (first + timedelta(days=1)).date().isoformat()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        feed = folder / "day.jsonl"
        feed.write_text("\n".join(json.dumps(item, ensure_ascii=False) for item in items))
        digest(folder, "init")
        digest(folder, "ingest", str(feed))
        select = ["select", "--date", day, "--lang", "ar", "--json", "--explain"]
        return json.loads(digest(folder, *select))


def figures(items: Sequence[dict], edition: dict) -> dict[str, int]:
    """Counts for one edition (module docstring)."""
    event = {item["guid"]: item["event"] for item in items}
    tops = [event[story["article"]["guid"]] for story in edition["stories"]]
    grouped = [
        (event[story["article"]["guid"]], event[report["guid"]])
        for story in edition["stories"]
        for report in story["explanation"]["reports"]
    ]
    related = [
        (event[story["article"]["guid"]], event[item["article"]["guid"]])
        for story in edition["stories"]
        for item in story["related"]
    ]
    newest = sorted(items, key=lambda item: (item["published_at"], item["guid"]))[-TOP_STORIES:]
    return {
        "tops": len(tops),
        "pairs": len(tops) * (len(tops) - 1) // 2,
        "same": sum(a == b for a, b in combinations(tops, 2)),
        "latest pairs": TOP_STORIES * (TOP_STORIES - 1) // 2,
        "latest same": sum(a["event"] == b["event"] for a, b in combinations(newest, 2)),
        "grouped": len(grouped),
        "grouped wrong": sum(a != b for a, b in grouped),
        "events shown": len(set(tops)),
        "events": len(set(event.values())),
        "related": len(related),
        "related right": sum(a == b for a, b in related),
    }


def line(name: str, counts: dict[str, int]) -> str:
    def share(part: int, whole: int) -> str:
        return f"{100 * part / whole:.0f}% ({part}/{whole})" if whole else "-"

    return (
        f"{name:<26} {share(counts['same'], counts['pairs']):>14} "
        f"{share(counts['latest same'], counts['latest pairs']):>14} "
        f"{share(counts['grouped wrong'], counts['grouped']):>14} "
        f"{counts['events shown']:>3} of {counts['tops']} slots, {counts['events']} events "
        f"{share(counts['related right'], counts['related']):>14}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=Path, nargs="+", default=DAYS)
    args = parser.parse_args(argv)
    if not args.days:
        print("no labelled days found (bench/data/arabic_days/day*.jsonl)", file=sys.stderr)
        return 2
    print(
        f"{'':<26} {'same-event':>14} {'latest N':>14} {'grouped, other':>14} "
        f"{'events shown':<30} {'related':>8}"
    )
    for variant in ("outlets", "one publication"):
        total: dict[str, int] = {}
        for path in args.days:
            items = read_day(path)
            if variant == "one publication":
                items = one_publication(items)
            counts = figures(items, plan(items))
            for key, value in counts.items():
                total[key] = total.get(key, 0) + value
            print(line(f"{path.stem}, {variant}", counts))
        print(line(f"all, {variant}", total))
    print(
        "(same-event top pairs and grouped reports of another event: lower is better; "
        "related precision: higher)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
