"""The edition's top stories and their related items (DESIGN.md, Selection).

1. Corpus: the window's articles in the edition's language, plus the archive of the
   `no_repeat_days` before it (`corpus`, `similarity`).
2. Candidates: window articles that did not lead an edition sent in the last
   `no_repeat_days`, nor are near-duplicates of one that did, nor a second fetch of an
   address already in the window (`identity`).
3. Near-duplicate groups over the window (`groups`, plus every fetch of one address);
   each group's best-scoring article is its candidate. Scores (`scoring`) count the
   distinct sources reporting the article's event (`events`) as coverage.
4. Top stories: best first, sections diverse, one per event (`picking`, `events`).
5. Related items: for each top story, by similarity, from the whole corpus: at least
   `related_floor` and below `duplicate_threshold` (a copy of the same report is not
   further reading), never a top story, never twice, never two copies of one report
   (`related_items`).

`choose` is the whole judgement on documents already in memory, with no database; the
evaluation script runs it on labelled headlines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from digest.config import ScheduleSettings, SelectionSettings
from digest.selection import store
from digest.selection.apart import places_apart
from digest.selection.candidates import date_tier, join_same_address, representatives
from digest.selection.corpus import FULL_ARCHIVE, Corpus, Doc, DocText, Match, rows_of_docs
from digest.selection.corroboration import uncorroborated
from digest.selection.events import Events
from digest.selection.graph import KeyGraph
from digest.selection.groups import near_duplicate_groups
from digest.selection.held_copies import held_copies
from digest.selection.identity import reporters
from digest.selection.labels import is_label
from digest.selection.names import headline_names
from digest.selection.one_story import OneStory, TextReader
from digest.selection.pauses import without_cycle_collection
from digest.selection.picking import Picking, pick_top_stories
from digest.selection.places import headline_places
from digest.selection.plan import EditionPlan, Explanation, RelatedItem, Report, Story, Window
from digest.selection.postings import postings
from digest.selection.related_items import attach_related
from digest.selection.repeats import (
    PostingReader,
    dated_by_earlier_copies,
    recent_leads,
    repeats_of,
)
from digest.selection.scoring import (
    ScoreParts,
    dated_by_first_copy,
    recounted,
    score_parts,
    trusted_date,
)
from digest.selection.similarity import Vector
from digest.selection.window import edition_window


@dataclass
class Choice:
    """One top story as chosen: the document, its score (and its parts), its related
    matches, the window reports grouped into it, the candidates it beat on section."""

    doc: Doc
    score: float
    related: list[Match] = field(default_factory=list)
    parts: ScoreParts | None = None
    reports: list[Doc] = field(default_factory=list)
    beaten: list[tuple[Doc, float]] = field(default_factory=list)


class Choices(list[Choice]):
    """The top stories, best first; `set_aside`: the window reports left out as
    uncorroborated (`corroboration.uncorroborated`) that no story shows, so that an
    editor told the edition is short is told of them too."""

    def __init__(self, choices: list[Choice], set_aside: list[Doc]) -> None:
        super().__init__(choices)
        self.set_aside = set_aside


def choose(
    corpus: Corpus,
    window_docs: Sequence[Doc],
    end: datetime,
    selection: SelectionSettings,
    *,
    excluded: frozenset[int] = frozenset(),
    past_tops: Sequence[Vector] = (),
    apart: Callable[[Doc, Doc], bool] | None = None,
    language: str = "",
    texts: TextReader | None = None,
    postings: PostingReader | None = None,
) -> Choices:
    """Top stories and related items from documents in memory (window in publication order).

    `excluded` articles are never top stories; neither are near-duplicates of `past_tops`,
    nor second fetches of one address (`identity.canonical_address`). An article
    `apart` from a story (`apart.places_apart`) is never its related item. `language`
    (the edition's) tells which places its headlines name (`names.headline_names`);
    `texts` reads articles' openings for their names (`one_story`; headlines without);
    `postings` finds a story's earlier postings at any date (`repeats.first_postings`).
    """
    vectors = rows_of_docs(window_docs)
    who = reporters([(doc.source, doc.url) for doc in window_docs])
    graph = KeyGraph(vectors)
    groups = near_duplicate_groups(vectors, selection.duplicate_threshold, graph)
    groups, refetched = join_same_address(groups, window_docs)
    events = Events(
        vectors,
        graph,
        selection.related_floor,
        who,
        lambda number: corpus.vocabulary.headline_terms(window_docs[number].title),
        lambda number: headline_names(corpus.vocabulary, window_docs[number].title, language),
        copies=groups,
        title_places=lambda number: headline_places(window_docs[number].title, language),
    )
    del graph  # its rows are kept by `events` (`Events._closer_elsewhere`)
    sources = events.coverage_sources()
    parts = score_parts(window_docs, sources, end, selection)
    copies = list(zip(groups, who, strict=True))
    parts = dated_by_first_copy(parts, window_docs, copies, end, selection)
    parts, older = dated_by_earlier_copies(
        corpus, window_docs, parts, who, end, selection, postings
    )
    excluded = excluded | refetched | repeats_of(past_tops, window_docs, selection)
    repeated = excluded  # recent leads and their copies: few, and still this day's reports
    lone = uncorroborated(window_docs, sources, events)
    excluded |= lone
    undated = frozenset(doc.id for doc in window_docs if not trusted_date(doc, end)) | older
    labels = frozenset(doc.id for doc in window_docs if is_label(doc.title, doc.url))  # never lead
    index_of = {doc.id: number for number, doc in enumerate(window_docs)}
    members: dict[int, list[Doc]] = {}
    for group, doc in zip(groups, window_docs, strict=True):
        members.setdefault(group, []).append(doc)

    judged: dict[tuple[int, int], bool] = {}  # picking is redone: it asks again
    one_story = OneStory(window_docs, selection.related_floor, corpus.vocabulary, language, texts)

    def same(first: Doc, second: Doc) -> bool:
        key = (index_of[first.id], index_of[second.id])
        found = judged.get(key)
        if found is None:
            found = judged[key] = events.same_event(*key) or one_story.same(*key)
        return found

    def exact(first: Doc, second: Doc) -> bool:
        return events.related_exactly(index_of[first.id], index_of[second.id])

    def reports(doc: Doc, outcome: Picking) -> list[Doc]:
        """Its copies, then every other report of its event with that report's copies,
        then a recent lead's report of the event (no lead again, still coverage) and a
        lone report of it set aside as uncorroborated (`Picking.strays`)."""
        grouped = [d for d in members[groups[index_of[doc.id]]] if d.id != doc.id]
        for other in outcome.same_event[doc.id]:
            grouped += members[groups[index_of[other.id]]]
        listed = {d.id for d in grouped} | {doc.id}
        others = sorted(index_of[i] for i in repeated - listed if i in index_of)  # window order
        grouped += [window_docs[n] for n in others if same(doc, window_docs[n])]
        grouped += [d for d in outcome.strays.get(doc.id, []) if d.id not in listed]
        return sorted(grouped, key=Doc.order_key)

    claims: set[int] = set()  # ids of passed-over candidates a story has claimed

    def claim_reports(outcome: Picking) -> Picking:
        """Give each story the lone reports set aside as uncorroborated that report its
        event (a big event's strays: coverage), and the candidates picking passed over
        for their full section that do (`Picking.passed_over`: a second report is its
        story's whether or not its section had room), each under the first story in
        the edition's order that claims it, so that none counts twice. Those claimed
        when picking was first done are asked again when it is redone (a claim raised
        its story's coverage, and the story may now rank above them). Then the window
        articles related to each story (`claim_neighbours`); none of these is a
        candidate any story beat on section diversity."""
        left = [index_of[i] for i in sorted(lone - repeated)]
        shown = {doc.id for doc in outcome.picked}
        shown.update(doc.id for docs in outcome.same_event.values() for doc in docs)
        passed = [index_of[doc.id] for doc in outcome.passed_over]
        passed += [index_of[i] for i in claims if i not in shown and index_of[i] not in passed]
        for story in outcome.picked:
            own = events.reports_among(index_of[story.id], left)
            outcome.strays[story.id] = [window_docs[n] for n in own]
            left = sorted(set(left).difference(own))
            claimed = set(events.reports_among(index_of[story.id], passed))
            outcome.same_event[story.id] += [window_docs[n] for n in passed if n in claimed]
            claims.update(window_docs[n].id for n in claimed)
            passed = [n for n in passed if n not in claimed]
        claim_neighbours(outcome)
        taken = {doc.id for docs in outcome.same_event.values() for doc in docs}
        for story in outcome.picked:
            outcome.beaten[story.id] = [d for d in outcome.beaten[story.id] if d.id not in taken]
        return outcome

    def claim_neighbours(outcome: Picking) -> None:
        """Give each story, in the edition's order, the window articles related to it
        (`Events.neighbours`) that no story shows yet, one per near-duplicate group: its
        coverage counts their sources, so its explanation names them, even where
        picking never reached them."""
        shown = [*outcome.picked, *(d for docs in outcome.same_event.values() for d in docs)]
        covered = {groups[index_of[doc.id]] for doc in shown}
        for story in outcome.picked:
            for number in events.neighbours(index_of[story.id]):
                doc = window_docs[number]
                if groups[number] not in covered and doc.id not in excluded:
                    covered.add(groups[number])
                    outcome.same_event[story.id].append(doc)

    def pick() -> tuple[Picking, dict[int, float]]:
        totals = [p.total for p in parts]
        ranked = representatives(window_docs, groups, totals, excluded | labels, undated)
        found = pick_top_stories(
            [doc for _, doc in ranked],
            selection.top_stories,
            same,
            exact,
            lambda doc: date_tier(doc, undated),
        )
        return claim_reports(found), {doc.id: score for score, doc in ranked}

    # Ranking counts each article's neighbourhood; picking finds more of a story's
    # reports (by centroid and keywords). A story whose reports come from more sources
    # than its neighbourhood showed is scored again with them, and picking redone once
    # (a story first picked then is recounted for what it shows, not picked again).
    outcome, score_of = pick()
    if _recount(outcome.picked, lambda doc: reports(doc, outcome), parts, who, index_of, selection):
        outcome, score_of = pick()
        _recount(outcome.picked, lambda doc: reports(doc, outcome), parts, who, index_of, selection)
    choices = []
    for doc in outcome.picked:
        choices.append(
            Choice(
                doc,
                parts[index_of[doc.id]].total,
                parts=parts[index_of[doc.id]],
                reports=reports(doc, outcome),
                beaten=[(other, score_of[other.id]) for other in outcome.beaten[doc.id]],
            )
        )
    stories = [index_of[choice.doc.id] for choice in choices]

    def elsewhere(position: int, item: Doc) -> bool:
        number = index_of.get(item.id)
        return number is not None and any(
            events.reports(other, number)
            for place, other in enumerate(stories)
            if place != position
        )

    used = {doc.id for doc in outcome.picked} | refetched
    attach_related(corpus, choices, selection, used, elsewhere, apart)
    shown = {d.id for c in choices for d in (c.doc, *c.reports, *(m.doc for m in c.related))}
    aside = lone - repeated - shown
    return Choices(choices, [d for d in window_docs if d.id in aside])


def _recount(
    stories: Sequence[Doc],
    reports: Callable[[Doc], list[Doc]],
    parts: list[ScoreParts],
    who: Sequence[str],
    index_of: dict[int, int],
    selection: SelectionSettings,
) -> bool:
    """Give each story the coverage of every report grouped into it (as `--explain`
    lists them) where that counts more sources than its neighbourhood did; whether any
    changed."""
    changed = False
    for doc in stories:
        number = index_of[doc.id]
        counted = len({who[index_of[d.id]] for d in (doc, *reports(doc))})
        if counted > parts[number].sources:
            parts[number] = recounted(parts[number], counted, selection)
            changed = True
    return changed


def build_corpus(
    session: Session,
    language: str,
    window: Window,
    archive_days: int,
    *,
    later: bool = False,
    arabic_places: bool = False,
) -> tuple[Corpus, list[Doc]]:
    """One edition's window and archive as a similarity corpus, and the window's documents,
    without the held articles' pages (`store.held_pages`) or copies (`held_copies`).

    With `later`, articles published in the `archive_days` after the window join the
    archive side too; `arabic_places` is the vocabulary's (`similarity.Vocabulary`).
    """
    in_window = store.window_docs(session, language, window.start, window.end)
    archive_start = window.start - timedelta(days=archive_days)
    full, headline_only = store.archive_docs(
        session,
        language,
        archive_start,
        window.start,
        FULL_ARCHIVE,
        after=(window.end, window.end + timedelta(days=archive_days)) if later else None,
    )
    held = store.held_docs(session)
    released = store.released_copies(session) if held else frozenset()
    texts = partial(store.texts, session)

    def unheld(found: list[tuple[Doc, DocText]]) -> list[tuple[Doc, DocText]]:
        if not held:
            return found
        copies = held_copies(held, [doc for doc, _ in found if doc.id not in released], texts)
        return [pair for pair in found if pair[0].id not in copies]

    in_window, full = unheld(in_window), unheld(full)
    corpus = Corpus(
        [*in_window, *full],
        headline_only,
        lambda ids: unheld(store.docs_with_terms(session, ids, unheld=True)),
        arabic_places=arabic_places,
    )
    return corpus, [doc for doc, _ in in_window]


@without_cycle_collection
def plan_edition(
    session: Session,
    *,
    day: date,
    language: str,
    selection: SelectionSettings,
    schedule: ScheduleSettings,
    window: Window | None = None,
) -> EditionPlan:
    """The plan for (day, language) over `window` (the tiled window `digest.editions`
    computes; without one, the nominal window of a first edition); reads only."""
    if window is None:
        window = edition_window(day, schedule.at, schedule.timezone, selection.window_hours)
    corpus, window_docs = build_corpus(
        session,
        language,
        window,
        selection.no_repeat_days,
    )
    repeats = recent_leads(session, corpus, window_docs, day, language, selection)
    choices = choose(
        corpus,
        window_docs,
        window.end,
        selection,
        excluded=repeats,
        apart=places_apart(language),
        language=language,
        texts=lambda ids: store.texts(session, ids),
        postings=lambda titles: postings(session, language, titles),
    )
    plan = EditionPlan(date=day, language=language, window=window)
    plan.repeats = sum(1 for doc in window_docs if doc.id in repeats)
    plan.set_aside = [_report(doc) for doc in choices.set_aside]
    loaded = store.articles(
        session, [m.doc.id for c in choices for m in (Match(c.doc, 1.0), *c.related)]
    )
    for choice in choices:
        related = [RelatedItem(loaded[m.doc.id], round(m.similarity, 4)) for m in choice.related]
        story = Story(loaded[choice.doc.id], round(choice.score, 4), related, explain(choice))
        plan.stories.append(story)
    return plan


def explain(choice: Choice) -> Explanation | None:
    """The choice's explanation, rounded like the plan's scores: to 4 decimals, the
    rounding's remainder (0.0001 at most) given to the largest part, so that the parts
    shown add up to the score shown."""
    if choice.parts is None:
        return None
    parts = choice.parts
    shown = [round(part, 4) for part in (parts.priority, parts.popularity, parts.recency)]
    shown.append(round(parts.coverage, 4))
    largest = max(range(len(shown)), key=lambda number: abs(shown[number]))
    shown[largest] = round(shown[largest] + round(choice.score, 4) - sum(shown), 4)
    priority, popularity, recency, coverage = shown
    return Explanation(
        priority=priority,
        popularity=popularity,
        recency=recency,
        coverage=coverage,
        sources=parts.sources,
        reports=[_report(doc) for doc in choice.reports],
        beaten=[_report(doc, score) for doc, score in choice.beaten],
    )


def _report(doc: Doc, score: float | None = None) -> Report:
    rounded = None if score is None else round(score, 4)
    return Report(doc.guid, doc.title, doc.source, doc.section, doc.published_at, rounded)
