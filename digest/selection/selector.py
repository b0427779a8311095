"""The edition's top stories and their related items (DESIGN.md, Selection).

1. Corpus: the window's articles in the edition's language, plus the archive of the
   `no_repeat_days` before it (`corpus`, `similarity`).
2. Candidates: window articles that did not lead an edition sent in the last
   `no_repeat_days`, nor are near-duplicates of one that did.
3. Near-duplicate groups over the window (`groups`); each group's best-scoring article
   is its candidate, and the group's reports give coverage (`scoring`).
4. Top stories: best first, sections diverse, not two on one story (`picking`).
5. Related items: for each top story, by similarity, from the whole corpus: at least
   `related_floor` and below `duplicate_threshold` (a copy of the same report is not
   further reading), never a top story, never twice, never two copies of one report.

`choose` is the whole judgement on documents already in memory, with no database; the
evaluation script runs it on labelled headlines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from digest.config import ScheduleSettings, SelectionSettings
from digest.errors import SelectError
from digest.models import Article
from digest.selection import store
from digest.selection.corpus import FULL_ARCHIVE, Corpus, Doc, Match, scan
from digest.selection.groups import near_duplicate_groups
from digest.selection.picking import fill, pick_top_stories
from digest.selection.plan import EditionPlan, RelatedItem, Story, Window
from digest.selection.scoring import scores
from digest.selection.similarity import EMPTY, RELATED_MIN_TERMS, Vector, cosine, shared_terms
from digest.selection.window import covering_window, edition_window


@dataclass
class Choice:
    """One top story as chosen: the document, its score, its related matches."""

    doc: Doc
    score: float
    related: list[Match] = field(default_factory=list)


def choose(
    corpus: Corpus,
    window_docs: Sequence[Doc],
    end: datetime,
    selection: SelectionSettings,
    *,
    excluded: frozenset[int] = frozenset(),
    past_tops: Sequence[Vector] = (),
) -> list[Choice]:
    """Top stories and related items from documents in memory (window in publication order).

    `excluded` articles are never top stories; neither are near-duplicates of `past_tops`.
    """
    groups = near_duplicate_groups(
        [doc.vector for doc in window_docs], selection.duplicate_threshold
    )
    doc_scores = scores(window_docs, groups, end, selection)
    excluded = excluded | repeats_of(past_tops, window_docs, selection)
    ranked = _representatives(window_docs, groups, doc_scores, excluded)
    score_of = {doc.id: score for score, doc in ranked}
    tops, set_aside = pick_top_stories(
        [doc for _, doc in ranked], selection.top_stories, _related_test(selection.related_floor)
    )
    choices = [Choice(doc, score_of[doc.id]) for doc in tops]
    used = {doc.id for doc in tops}
    _attach_related(corpus, choices, selection, used)
    leftovers = [doc for doc in set_aside if doc.id not in used]
    if len(choices) < selection.top_stories and leftovers:
        extra = [
            Choice(doc, score_of[doc.id]) for doc in fill(tops, leftovers, selection.top_stories)
        ]
        used.update(choice.doc.id for choice in extra)
        _attach_related(corpus, extra, selection, used)
        choices.extend(extra)
    return choices


def _representatives(
    docs: Sequence[Doc],
    groups: Sequence[int],
    doc_scores: Sequence[float],
    excluded: frozenset[int],
) -> list[tuple[float, Doc]]:
    """The best-scoring allowed article of each group, best first (ties: newest, guid)."""
    best: dict[int, tuple[float, Doc]] = {}
    for group, score, doc in zip(groups, doc_scores, docs, strict=True):
        if doc.id in excluded:
            continue
        held = best.get(group)
        if held is None or (-score, *doc.order_key()) < (-held[0], *held[1].order_key()):
            best[group] = (score, doc)
    return sorted(best.values(), key=lambda pair: (-pair[0], *pair[1].order_key()))


def _related_test(floor: float) -> Callable[[Doc, Doc], bool]:
    """Whether a candidate is related to a chosen story (by the related items' rule)."""
    query_of: dict[int, dict[int, float]] = {}

    def related(candidate: Doc, story: Doc) -> bool:
        query = query_of.get(story.id)
        if query is None:
            query = query_of[story.id] = story.vector.as_dict()
        return (
            cosine(query, candidate.vector) >= floor
            and shared_terms(query, candidate.vector) >= RELATED_MIN_TERMS
        )

    return related


def repeats_of(
    past_tops: Sequence[Vector], window_docs: Sequence[Doc], selection: SelectionSettings
) -> frozenset[int]:
    """Window articles that are near-duplicates of a recent edition's top story."""
    if not past_tops:
        return frozenset()
    copies = scan(window_docs, past_tops, selection.duplicate_threshold)
    return frozenset(match.doc.id for matches in copies for match in matches)


def _attach_related(
    corpus: Corpus, choices: list[Choice], selection: SelectionSettings, used: set[int]
) -> None:
    """Related items for each story in order; `used` (the edition's articles) grows."""
    if selection.related_per_story <= 0 or not choices:
        return
    found = corpus.search(
        [choice.doc.vector for choice in choices], selection.related_floor, RELATED_MIN_TERMS
    )
    for choice, matches in zip(choices, found, strict=True):
        chosen: list[dict[int, float]] = []
        for match in matches:
            if len(choice.related) == selection.related_per_story:
                break
            if match.doc.id in used or match.similarity >= selection.duplicate_threshold:
                continue
            if any(
                cosine(other, match.doc.vector) >= selection.duplicate_threshold for other in chosen
            ):
                continue
            choice.related.append(match)
            chosen.append(match.doc.vector.as_dict())
            used.add(match.doc.id)


def build_corpus(
    session: Session, language: str, window: Window, archive_days: int, *, later: bool = False
) -> tuple[Corpus, list[Doc]]:
    """One edition's window and archive as a similarity corpus, and the window's documents.

    With `later`, articles published in the `archive_days` after the window join the
    archive side too.
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
    corpus = Corpus(
        [*in_window, *full], headline_only, fetch=lambda ids: store.docs_with_text(session, ids)
    )
    return corpus, [doc for doc, _ in in_window]


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
    corpus, window_docs = build_corpus(session, language, window, selection.no_repeat_days)
    led = store.recent_top_story_ids(session, day, language, selection.no_repeat_days)
    past = [corpus.vector_for(doc.title, text) for doc, text in store.docs_with_text(session, led)]
    repeats = frozenset(led) | repeats_of(past, window_docs, selection)
    choices = choose(corpus, window_docs, window.end, selection, excluded=repeats)
    plan = EditionPlan(date=day, language=language, window=window)
    plan.repeats = sum(1 for doc in window_docs if doc.id in repeats)
    loaded = store.articles(
        session, [m.doc.id for c in choices for m in (Match(c.doc, 1.0), *c.related)]
    )
    for choice in choices:
        related = [RelatedItem(loaded[m.doc.id], round(m.similarity, 4)) for m in choice.related]
        plan.stories.append(Story(loaded[choice.doc.id], round(choice.score, 4), related))
    return plan


@dataclass
class RelatedArticle:
    article: Article
    similarity: float
    duplicate: bool


@dataclass
class RelatedReport:
    """What `digest articles related` shows: the article, the corpus judged, the matches."""

    article: Article
    window: Window
    related: list[RelatedArticle] = field(default_factory=list)


def related_articles(
    session: Session,
    guid: str,
    *,
    limit: int,
    selection: SelectionSettings,
    schedule: ScheduleSettings,
) -> RelatedReport:
    """Stored articles most like the one with `guid`, at or above the related floor.

    They are judged in the corpus of the edition that covers the article (that edition's
    window and archive, as the selector sees it), plus what was published in the
    `no_repeat_days` after that window, so later follow-ups show too: for an article of
    an edition with nothing newer stored, the similarities are exactly the ones
    `digest select` works with.
    """
    article = store.article_by_guid(session, guid)
    if article is None:
        raise SelectError(
            f"no article with guid {guid!r}", hint="see 'digest articles list' for guids"
        )
    window = covering_window(
        article.published_at, schedule.at, schedule.timezone, selection.window_hours
    )
    corpus, _ = build_corpus(
        session, article.language, window, selection.no_repeat_days, later=True
    )
    own = store.docs_with_text(session, [article.id])
    query = next((doc.vector for doc in corpus.full if doc.id == article.id), None)
    if query is None:
        query = corpus.vector_for(own[0][0].title, own[0][1]) if own else EMPTY
    matches = [
        match
        for match in corpus.search([query], selection.related_floor, RELATED_MIN_TERMS)[0]
        if match.doc.id != article.id
    ]
    matches = matches[: max(limit, 0)]
    loaded = store.articles(session, [m.doc.id for m in matches])
    report = RelatedReport(article, window)
    for match in matches:
        similarity = round(match.similarity, 4)
        duplicate = match.similarity >= selection.duplicate_threshold
        report.related.append(RelatedArticle(loaded[match.doc.id], similarity, duplicate))
    return report
