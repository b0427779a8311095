"""`digest articles related`: what else we have on one article's story, read in full.

An edition judges thousands of articles at once, so it reads each one's headline and
opening (`similarity.OPENING_CHARS`). One article's question can afford more: two
reports of one event often open on different angles (the blaze, then the pledges to
rebuild) and meet only further down, in the names, places and figures of their bodies.
So the answer is found in two steps, ordinary two-stage retrieval:

1. Candidates, from the corpus of the edition that covers the article (its window and
   archive, plus what came in the `no_repeat_days` after it): the documents whose
   headline and opening share terms with the article's whole text, or that the
   edition's own measure already relates to it; at most `CANDIDATES` of the first kind.
2. Each candidate is compared on its whole text (`similarity.FULL_CHARS` of summary and
   body, `similarity.FULL_TERMS` terms) with the same TF-IDF cosine and the same floor,
   term weights learnt from the whole texts of the candidates, of the newest
   `WEIGHT_SAMPLE` documents of the corpus and of the article's source (a word can be
   rare in openings and common in bodies: a site's footer). Its similarity is the
   greater of that and the edition's own (openings): a long body that wanders off
   (background, a second topic, a live blog's other entries) must not hide a report the
   edition itself relates, and an editor who sees an item under a story finds it here.

On `bench/related_eval.py`'s long-article pairs (written in other words on purpose),
reading whole texts found twice as many same-event partners in the top 3 (10 -> 20 of
28) for two more different events (6 -> 8 of 56); on headline-and-summary pairs it
changed nothing; weights learnt from whole texts rather than the corpus's openings did
better (18 -> 20 found, 8 -> 7 wrong, whole-text similarity alone). The similarities
shown are not always the edition's numbers for the same pair: other texts, other weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from digest.config import ScheduleSettings, SelectionSettings
from digest.errors import SelectError
from digest.models import Article
from digest.selection import store
from digest.selection.corpus import Corpus, Doc, Match
from digest.selection.pauses import without_cycle_collection
from digest.selection.plan import Window
from digest.selection.selector import build_corpus, close_to_best
from digest.selection.similarity import (
    EMPTY,
    FULL_CHARS,
    FULL_TERMS,
    RELATED_MIN_TERMS,
    Weighting,
    cosine,
    shared_terms,
)
from digest.selection.terms import SUMMARY_CHARS
from digest.selection.text import plain
from digest.selection.window import covering_window

#: Candidates read in full, at most (besides those the edition's measure relates).
CANDIDATES = 100
#: Newest corpus documents whose whole texts join the candidates' in the term weights.
WEIGHT_SAMPLE = 300


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


def whole_text(summary: str, body: str) -> str:
    """An article's text beyond its headline, as read in full: its summary (HTML, as
    words) then its body, `FULL_CHARS` at most."""
    text = plain(summary[: SUMMARY_CHARS + FULL_CHARS])
    return f"{text} {body[:FULL_CHARS]}"[:FULL_CHARS] if body else text[:FULL_CHARS]


@without_cycle_collection
def related_articles(
    session: Session,
    guid: str,
    *,
    limit: int,
    selection: SelectionSettings,
    schedule: ScheduleSettings,
    source: str | None = None,
) -> RelatedReport:
    """Stored articles most like the one with `guid` (of `source`: a guid is unique
    within one source only), best first, at most `limit`: the greater of the whole-text
    cosine (sharing `RELATED_MIN_TERMS` terms) and the edition's own similarity, at or
    above `selection.related_floor`, within
    `selector.RELATED_RATIO` of the best match that is not a copy (module docstring).
    Raises SelectError when no article, or several (from several sources, `source` not
    given), have it.
    """
    article = _the_article(session, guid, source)
    window = covering_window(
        article.published_at, schedule.at, schedule.timezone, selection.window_hours
    )
    corpus, _ = build_corpus(
        session, article.language, window, selection.no_repeat_days, later=True
    )
    candidates = _candidates(session, corpus, article, selection.related_floor)
    texts = store.texts(
        session,
        [
            doc.id
            for doc in _weight_sample(
                corpus, [doc for doc, _ in candidates.values()], article.source
            )
        ],
    )
    texts[article.id] = (article.title, article.summary, article.body)
    counts = {
        number: corpus.vocabulary.count(title, whole_text(summary, body), FULL_CHARS)
        for number, (title, summary, body) in texts.items()
    }
    weighting = Weighting(counts.values())
    query = weighting.vector(counts[article.id], FULL_TERMS).as_dict()
    matches = []
    for doc, by_opening in candidates.values():
        vector = weighting.vector(counts[doc.id], FULL_TERMS) if doc.id in counts else EMPTY
        similarity = cosine(query, vector)
        if shared_terms(query, vector) < RELATED_MIN_TERMS:
            similarity = 0.0
        similarity = max(similarity, by_opening)
        if similarity >= selection.related_floor:
            matches.append(Match(doc, similarity))
    matches.sort(key=lambda m: (-m.similarity, *m.doc.order_key()))
    kept = close_to_best(matches, selection.duplicate_threshold)[: max(limit, 0)]
    loaded = store.articles(session, [m.doc.id for m in kept])
    report = RelatedReport(article, window)
    for match in kept:
        duplicate = match.similarity >= selection.duplicate_threshold
        similarity = round(match.similarity, 4)
        report.related.append(RelatedArticle(loaded[match.doc.id], similarity, duplicate))
    return report


def _the_article(session: Session, guid: str, source: str | None) -> Article:
    found = store.articles_by_guid(session, guid, source)
    if not found:
        where = "" if source is None else f" from source {source!r}"
        raise SelectError(
            f"no article with guid {guid!r}{where}", hint="see 'digest articles list' for guids"
        )
    if len(found) > 1:
        sources = ", ".join(repr(article.source) for article in found[:5])
        raise SelectError(
            f"{len(found)} articles have guid {guid!r} (sources {sources}); name the source",
            field="source",
        )
    return found[0]


def _candidates(
    session: Session, corpus: Corpus, article: Article, floor: float
) -> dict[int, tuple[Doc, float]]:
    """The documents worth reading in full (step 1 of the module docstring): id ->
    (document, the edition's similarity if at least `floor`, else 0)."""
    opening = next((doc.vector for doc in corpus.full if doc.id == article.id), None)
    if opening is None:
        own = store.docs_with_terms(session, [article.id])
        opening = corpus.vectors_for(own)[0] if own else EMPTY
    whole = corpus.weighting.vector(
        corpus.vocabulary.count(
            article.title, whole_text(article.summary, article.body), FULL_CHARS
        ),
        FULL_TERMS,
    )
    by_opening, by_whole = corpus.search([opening, whole], 0.0, RELATED_MIN_TERMS)
    wanted: dict[int, tuple[Doc, float]] = {}
    for match in by_opening:
        if match.similarity < floor:
            break
        wanted.setdefault(match.doc.id, (match.doc, match.similarity))
    for match in by_whole[:CANDIDATES]:
        wanted.setdefault(match.doc.id, (match.doc, 0.0))
    wanted.pop(article.id, None)
    return wanted


def _weight_sample(corpus: Corpus, candidates: Sequence[Doc], source: str) -> list[Doc]:
    """The candidates, the corpus's newest `WEIGHT_SAMPLE` documents and the newest
    `WEIGHT_SAMPLE` of the article's own source (whose boilerplate, a site's footer,
    would otherwise read as rare words shared)."""
    newest = sorted(corpus.full, key=Doc.order_key)
    own = [doc for doc in newest if doc.source == source][:WEIGHT_SAMPLE]
    sample = [*candidates, *newest[:WEIGHT_SAMPLE], *own]
    return list({doc.id: doc for doc in sample}.values())
