"""Editions of thin days written against the event tests, against their labels.

bench/data/thin_days/ holds seven days of news (10-16 reports each, English or Arabic,
a headline and a sentence of summary, most events told by two to four outlets), one
JSON Lines file per day: `{"outlet", "event", "lang", "title", "summary", "at"}` (`at`:
HH:MM UTC on 3 June 2025). A breaker pass wrote them, without changing anything after
its first run, against the rule that one headline of a two-report event may name
another event's keyword only as a name (`events.Events.naming_share`): common words in
another sense ("Arsenal fire past PSV"; انهيار of a truce and of buildings), headlines in
title case, capitals after a label's colon, years, and events told in synonyms whose one
common headline word is lower case ("Precious metal sets fresh record"; "Gold rises to
record").

Each day is written as one feed per outlet, stored with `digest ingest` in a new SQLite
database, and `digest select --date 2025-06-04 --json --explain` is scored as
`select_week_eval.py` scores the week: same-event top pairs (an event split in two),
reports grouped under another event's story, distinct events shown, related precision;
then every failure with its headlines.

    python bench/select_days_eval.py [--data FOLDER]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from select_week_eval import digest, score, share

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / "data" / "thin_days"


def write_feeds(folder: Path, rows: Sequence[dict]) -> dict[str, dict[str, str]]:
    """One JSON Lines feed per outlet in `folder`; the labels `score` reads, by guid."""
    labels: dict[str, dict[str, str]] = {}
    feeds: dict[str, list[str]] = {}
    for number, row in enumerate(rows):
        guid = f"{row['event']}-{number}"
        published = f"2025-06-03T{row['at']}:00Z"
        labels[guid] = {"event_id": row["event"], "lang": row["lang"], "published_at": published}
        item = {
            "guid": guid,
            "url": f"https://www.{row['outlet']}.example/news/{guid}",
            "title": row["title"],
            "summary": row["summary"],
            "published_at": published,
            "section": "World",
            "language": row["lang"],
        }
        feeds.setdefault(row["outlet"], []).append(json.dumps(item, ensure_ascii=False))
    for outlet, lines in feeds.items():
        (folder / f"{outlet}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return labels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    total: Counter[str] = Counter()
    failures: list[str] = []
    for path in sorted(args.data.resolve().glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        language = rows[0]["lang"]
        tally: Counter[str] = Counter()
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            labels = write_feeds(folder, rows)
            digest(folder, "init")
            digest(folder, "ingest", *map(str, sorted(folder.glob("*.jsonl"))))
            select = ["select", "--date", "2025-06-04", "--lang", language, "--json", "--explain"]
            plan = json.loads(digest(folder, *select))
        found: list[str] = []
        score(plan, labels, language, tally, found)
        failures += [f"{path.stem}: {line}" for line in found]
        total += tally
        print(
            f"{path.stem:18} {len(rows):3} reports, {len({r['event'] for r in rows})} events: "
            f"same-event top pairs {tally['same']}, grouped reports of another event "
            f"{tally['wrong']} of {tally['reports']}, distinct events {tally['distinct']}"
        )
    print(
        f"all: same-event top pairs {share(total['same'], total['pairs'])}; grouped reports "
        f"of another event {share(total['wrong'], total['reports'])}; related precision "
        f"{share(total['related right'], total['related'])}\n"
    )
    print("\n".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
