"""The selector against "latest N" on labelled real headlines (UCI News Aggregator).

The UCI News Aggregator data set (newsCorpora.csv: ID, TITLE, URL, PUBLISHER, CATEGORY,
STORY, HOSTNAME, TIMESTAMP in ms, tab-separated) labels every headline with the event
(STORY) it reports. For a sample of days, this script builds the edition each way:

- selector: `digest.selection.selector.choose` with the default `[selection]` settings,
  on that day's window and the archive before it (headlines only: the data set has no
  summaries or bodies); CATEGORY is the section, PUBLISHER the source;
- latest N: the N newest headlines of the window as top stories (what RSS-to-email
  tools send), and as "related" items the next ones in time order, `related_per_story`
  per story.

and prints, for each: the share of top-story pairs that report the same event (lower is
better) and the precision of related items, the share whose event is their top story's
(higher is better).

Honest figures: the events are split in two halves by a hash of their label. The
selector's thresholds were chosen looking only at the "tune" half; the "held-out" half
was never looked at while choosing. Each half is evaluated on its own headlines (as if
only its events had happened), with an edition every `--every` hours (a 24-hour window
each), so three days of data give a dozen editions per half. Labels of the aggregator's
split events (identical normalised headlines under two STORY ids) are merged first, as
the data set's README asks, except through headlines of fewer than four words: two
stories both carrying "Business highlights" are a column, not one event.

    python bench/select_eval.py [--data DIR] [--every 6] [--pairs] [--split tune]
        [--top-stories N] [--window-hours H] [--sample FRAC [--seed S]]

`--split tune` evaluates the tune half only (and not the one-a-day editions, which
mix both halves): what to run while choosing a threshold. Harder editions for it:
`--every 2`, `--top-stories 12` (more slots than most windows have events),
`--window-hours 12`, and `--sample 0.25 [--seed 1]` (a seeded quarter of each half's
headlines: thinner windows, where fewer reports are corroborated).

With `--pairs` it also prints how the event test (`events.Events.same_event`) judges
pairs of window articles that several sources report (the candidates that can fill a
slot): of the pairs labelled one event, the share it finds; of the others, the share it
wrongly calls one event. A seeded sample of pairs per edition: a figure per half, far
less noisy than the few dozen top-story pairs of an edition.

DIR defaults to ../shared/evaldata/uci-news-aggregator beside the repository.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "evaldata" / "uci-news-aggregator"
CORPUS_FILE = "newsCorpora.csv"
COLUMNS = ("ID", "TITLE", "URL", "PUBLISHER", "CATEGORY", "STORY", "HOSTNAME", "TIMESTAMP")


@dataclass(frozen=True, slots=True)
class Headline:
    id: int
    title: str
    publisher: str
    category: str
    story: str
    published_at: datetime


class DatasetError(Exception):
    """The data set is missing or unreadable: one line for the user."""


def read_headlines(path: Path) -> list[Headline]:
    """Rows of newsCorpora.csv, oldest first; a header line is allowed, bad lines skipped."""
    if not path.is_file():
        raise DatasetError(f"{path.name} not found in {path.parent.resolve()}")
    found = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) != len(COLUMNS) or row[0] == "ID":
                continue
            try:
                moment = datetime.fromtimestamp(int(row[7]) / 1000, UTC)
                found.append(Headline(int(row[0]), row[1], row[3], row[4], row[5], moment))
            except ValueError:
                continue
    if not found:
        raise DatasetError(f"no usable rows in {path.resolve()}")
    found.sort(key=lambda h: (h.published_at, h.id))
    return found


@dataclass
class Edition:
    """Top stories and their related items, as event labels; `strays`: per top story,
    whether its headline's label is a likely slip (`stray_labels`)."""

    tops: list[str] = field(default_factory=list)
    related: list[list[str]] = field(default_factory=list)
    strays: list[bool] = field(default_factory=list)


@dataclass
class Score:
    editions: int = 0
    pairs: int = 0
    same_event_pairs: int = 0
    #: Of the same-event pairs, those with a headline whose label is a likely slip.
    stray_pairs: int = 0
    related: int = 0
    related_same_event: int = 0
    stories: int = 0
    stories_with_related: int = 0

    def add(self, edition: Edition) -> None:
        self.editions += 1
        self.stories += len(edition.tops)
        strays = edition.strays or [False] * len(edition.tops)
        tops = zip(edition.tops, strays, strict=True)
        for (first, lost), (second, astray) in combinations(tops, 2):
            self.pairs += 1
            self.same_event_pairs += first == second
            self.stray_pairs += first == second and (lost or astray)
        for top, items in zip(edition.tops, edition.related, strict=True):
            self.related += len(items)
            self.related_same_event += sum(item == top for item in items)
            self.stories_with_related += bool(items)

    @property
    def duplicate_share(self) -> float:
        return self.same_event_pairs / self.pairs if self.pairs else 0.0

    @property
    def related_precision(self) -> float:
        return self.related_same_event / self.related if self.related else 0.0


SPLITS = ("tune", "held-out")
#: Pairs of window articles judged per edition with --pairs.
PAIR_SAMPLES = 3000
#: Shorter identical headlines are a column's name, not one event's.
MERGE_MIN_WORDS = 4


def merge_split_events(headlines: Sequence[Headline]) -> list[Headline]:
    """Headlines with one label per event: STORY ids that share a normalised headline
    (the aggregator split one event over them) become the smallest of those ids."""
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            label = parent[label]
        return label

    first_label: dict[str, str] = {}
    for headline in headlines:
        words = re.findall(r"[^\W_]+", headline.title.casefold())
        if len(words) < MERGE_MIN_WORDS:
            continue  # a column name ("Business highlights") is not an event
        key = " ".join(words)
        other = first_label.setdefault(key, headline.story)
        low, high = sorted((root(other), root(headline.story)))
        parent[high] = low
    return [replace(h, story=root(h.story)) for h in headlines]


def stray_labels(headlines: Sequence[Headline]) -> frozenset[int]:
    """Ids of headlines that share no word (matching terms: stop words out, stemmed)
    with any other headline of their labelled event: likely labelling slips of the
    aggregator ("Oil falls to around $101 after China data" in the Chiquita-Fyffes
    merger's story). Reported beside the same-event pairs, never taken out of them."""
    from digest.selection.text import terms

    words = {h.id: frozenset(terms(h.title)) for h in headlines}
    counts: dict[str, Counter[str]] = {}
    for headline in headlines:
        counts.setdefault(headline.story, Counter()).update(words[headline.id])
    return frozenset(
        h.id for h in headlines if all(counts[h.story][word] < 2 for word in words[h.id])
    )


def split_of(story: str) -> str:
    """Which half an event belongs to: a stable hash of its label, never its content."""
    return SPLITS[hashlib.sha256(story.encode()).digest()[0] % 2]


def edition_ends(
    headlines: Sequence[Headline], every_hours: int, settings: object
) -> list[datetime]:
    """Send times every `every_hours` (from the schedule's send time) while the window
    holds at least `top_stories` headlines."""
    if not headlines:
        return []
    first_day = headlines[0].published_at.date()
    _, end = window_of(first_day, settings)
    last = headlines[-1].published_at + timedelta(hours=every_hours)
    minimum = settings.selection.top_stories  # type: ignore[attr-defined]
    hours = settings.selection.window_hours  # type: ignore[attr-defined]
    ends = []
    while end <= last:
        if len(between(headlines, end - timedelta(hours=hours), end)) >= minimum:
            ends.append(end)
        end += timedelta(hours=every_hours)
    return ends


def window_of(day: date | datetime, settings: object) -> tuple[datetime, datetime]:
    if isinstance(day, datetime):
        hours = settings.selection.window_hours  # type: ignore[attr-defined]
        return day - timedelta(hours=hours), day
    from digest.selection.window import edition_window

    window = edition_window(
        day,
        settings.schedule.at,  # type: ignore[attr-defined]
        settings.schedule.timezone,  # type: ignore[attr-defined]
        settings.selection.window_hours,  # type: ignore[attr-defined]
    )
    return window.start, window.end


def pick_days(headlines: Sequence[Headline], count: int, settings: object) -> list[date]:
    """`count` days spread evenly over the data, each with enough headlines to choose from."""
    by_day: dict[date, int] = {}
    for headline in headlines:
        by_day[headline.published_at.date()] = by_day.get(headline.published_at.date(), 0) + 1
    minimum = settings.selection.top_stories  # type: ignore[attr-defined]
    usable = sorted(day + timedelta(days=1) for day, n in by_day.items() if n >= minimum)
    if len(usable) <= count:
        return usable
    step = len(usable) / count
    return [usable[int(i * step)] for i in range(count)]


def between(headlines: Sequence[Headline], start: datetime, end: datetime) -> list[Headline]:
    from bisect import bisect_left

    stamps = [h.published_at for h in headlines]
    return list(headlines[bisect_left(stamps, start) : bisect_left(stamps, end)])


def _corpus(window: Sequence[Headline], archive: Sequence[Headline]) -> tuple:
    """The similarity corpus of a window and its archive, and the window's documents."""
    from digest.selection.corpus import FULL_ARCHIVE, Corpus, Doc

    def doc(headline: Headline) -> Doc:
        return Doc(
            id=headline.id,
            guid=str(headline.id),
            title=headline.title,
            section=headline.category,
            source=headline.publisher,
            published_at=headline.published_at,
        )

    window_docs = [doc(h) for h in window]
    archive_docs = [doc(h) for h in archive]
    split = max(len(archive_docs) - FULL_ARCHIVE, 0)
    by_id = {d.id: d for d in archive_docs}
    corpus = Corpus(
        [(d, "") for d in window_docs + archive_docs[split:]],
        [(d.id, d.title) for d in archive_docs[:split]],
        fetch=lambda ids: [(by_id[i], "") for i in ids],
    )
    return corpus, window_docs


def selector_edition(
    window: Sequence[Headline],
    archive: Sequence[Headline],
    end: datetime,
    settings: object,
    strays: frozenset[int] = frozenset(),
) -> Edition:
    from digest.selection.selector import choose

    corpus, window_docs = _corpus(window, archive)
    story_of = {h.id: h.story for h in (*window, *archive)}
    edition = Edition()
    selection = settings.selection  # type: ignore[attr-defined]
    for choice in choose(corpus, window_docs, end, selection, language="en"):
        edition.tops.append(story_of[choice.doc.id])
        edition.strays.append(choice.doc.id in strays)
        edition.related.append([story_of[m.doc.id] for m in choice.related])
    return edition


def event_pairs(
    window: Sequence[Headline], archive: Sequence[Headline], settings: object, samples: int
) -> tuple[int, int, int, int]:
    """(same-event pairs, of them found, different-event pairs, of them called one event)
    over `samples` random pairs of the window's corroborated articles."""
    import random

    from digest.selection.events import Events
    from digest.selection.graph import KeyGraph
    from digest.selection.identity import reporters
    from digest.selection.names import headline_names

    corpus, window_docs = _corpus(window, archive)
    vectors = [doc.vector for doc in window_docs]
    events = Events(
        vectors,
        KeyGraph(vectors),
        settings.selection.related_floor,  # type: ignore[attr-defined]
        reporters([(doc.source, doc.url) for doc in window_docs]),
        lambda number: corpus.vocabulary.headline_terms(window_docs[number].title),
        lambda number: headline_names(corpus.vocabulary, window_docs[number].title, "en"),
    )
    covered = [n for n, count in enumerate(events.coverage_sources()) if count >= 2]
    rng = random.Random(len(window))
    same = found = different = wrong = 0
    for _ in range(samples if len(covered) >= 2 else 0):
        first, second = rng.sample(covered, 2)
        judged = events.same_event(first, second)
        if window[first].story == window[second].story:
            same, found = same + 1, found + judged
        else:
            different, wrong = different + 1, wrong + judged
    return same, found, different, wrong


def latest_edition(window: Sequence[Headline], settings: object) -> Edition:
    selection = settings.selection  # type: ignore[attr-defined]
    newest = sorted(window, key=lambda h: (h.published_at, h.id), reverse=True)
    count, per_story = selection.top_stories, selection.related_per_story
    edition = Edition(tops=[h.story for h in newest[:count]])
    for number in range(len(edition.tops)):
        start = count + number * per_story
        edition.related.append([h.story for h in newest[start : start + per_story]])
    return edition


def evaluate(
    headlines: Sequence[Headline],
    days: Iterable[date | datetime],
    settings: object,
    strays: frozenset[int] = frozenset(),
) -> dict:
    """Both ways over the given edition days (or send times): {"selector": Score,
    "latest": Score}; `strays` as `stray_labels` gives them."""
    archive_days = settings.selection.no_repeat_days  # type: ignore[attr-defined]
    scores = {"selector": Score(), "latest": Score()}
    for day in days:
        start, end = window_of(day, settings)
        window = between(headlines, start, end)
        if not window:
            continue
        archive = between(headlines, start - timedelta(days=archive_days), start)
        scores["selector"].add(selector_edition(window, archive, end, settings, strays))
        scores["latest"].add(latest_edition(window, settings))
    return scores


def report(scores: dict, settings: object, title: str = "") -> list[str]:
    selection = settings.selection  # type: ignore[attr-defined]
    lines = [
        f"{title}{scores['selector'].editions} editions, {selection.top_stories} top stories "
        f"and up to {selection.related_per_story} related items each",
        f"{'':24}{'same-event top pairs':>22}{'related precision':>20}{'related items':>15}",
    ]
    names = {"selector": "selector", "latest": f"latest {selection.top_stories} (baseline)"}
    for key, name in names.items():
        score = scores[key]
        pairs = f"{score.duplicate_share:.1%} ({score.same_event_pairs}/{score.pairs})"
        related = f"{score.related_precision:.1%} ({score.related_same_event}/{score.related})"
        lines.append(f"{name:24}{pairs:>22}{related:>20}{score.related:>15}")
    strays = scores["selector"].stray_pairs
    if strays:
        lines.append(
            f"(of the selector's same-event pairs, {strays} {'has' if strays == 1 else 'have'} "
            "a headline that shares no word with the rest of its labelled event: a likely "
            "labelling slip)"
        )
    lines.append("(same-event top pairs: lower is better; related precision: higher is better)")
    return lines


def pair_report(headlines: Sequence[Headline], ends: Iterable[datetime], settings: object) -> str:
    """One line: the event test on sampled pairs of corroborated window articles."""
    archive_days = settings.selection.no_repeat_days  # type: ignore[attr-defined]
    same = found = different = wrong = 0
    for end in ends:
        start, end = window_of(end, settings)
        window = between(headlines, start, end)
        archive = between(headlines, start - timedelta(days=archive_days), start)
        counts = event_pairs(window, archive, settings, PAIR_SAMPLES)
        same, found = same + counts[0], found + counts[1]
        different, wrong = different + counts[2], wrong + counts[3]
    return (
        f"event test on {same + different:,} sampled pairs of corroborated window articles: "
        f"same event found {found / max(same, 1):.1%} ({found:,}/{same:,}), "
        f"different events called one {wrong / max(different, 1):.2%} ({wrong:,}/{different:,})"
    )


def positive(text: str) -> int:
    """An argument that must be a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def share(text: str) -> float:
    """An argument that must be a share above 0, at most 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share above 0, at most 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the data set")
    parser.add_argument(
        "--every", type=int, default=6, help="hours between two editions (24-hour windows)"
    )
    parser.add_argument(
        "--pairs", action="store_true", help="also judge sampled pairs with the event test"
    )
    parser.add_argument(
        "--split",
        choices=(*SPLITS, "all"),
        default="all",
        help="evaluate one half only (while tuning: 'tune', so the other stays unseen)",
    )
    parser.add_argument("--top-stories", type=positive, help="top stories per edition")
    parser.add_argument("--window-hours", type=positive, help="hours each edition looks back")
    parser.add_argument(
        "--sample", type=share, default=1.0, help="keep this share of the headlines (0..1]"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of --sample")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from digest.config import Settings

    settings = Settings()
    changed = {
        name: value
        for name, value in (("top_stories", args.top_stories), ("window_hours", args.window_hours))
        if value is not None
    }
    settings = replace(settings, selection=replace(settings.selection, **changed))
    try:
        headlines = read_headlines(args.data / CORPUS_FILE)
    except DatasetError as e:
        print(f"select_eval: {e} (the UCI News Aggregator data set; see --data)", file=sys.stderr)
        return 1
    headlines = merge_split_events(headlines)
    if args.sample < 1.0:
        import random

        chance = random.Random(args.seed)
        headlines = [h for h in headlines if chance.random() < args.sample]
    events = {h.story for h in headlines}
    strays = stray_labels(headlines)
    print(f"{len(headlines):,} labelled headlines of {len(events)} events from {args.data.name}")
    for split in SPLITS if args.split == "all" else (args.split,):
        part = [h for h in headlines if split_of(h.story) == split]
        stories = len({h.story for h in part})
        scores = evaluate(part, edition_ends(part, args.every, settings), settings, strays)
        title = f"\n[{split}: {stories} events, {len(part):,} headlines] "
        print("\n".join(report(scores, settings, title)))
        if args.pairs:
            print(pair_report(part, edition_ends(part, args.every, settings), settings))
    if args.split != "all":
        return 0
    scores = evaluate(headlines, pick_days(headlines, 30, settings), settings, strays)
    title = f"\n[all {len(events)} events, one edition a day at the send time] "
    print("\n".join(report(scores, settings, title)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
