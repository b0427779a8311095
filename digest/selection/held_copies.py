"""Copies of held articles: a held story posted again at a new address is held too.

A hold (`digest articles hold`) pulls one article, and selection leaves out its page
under any guid (`store.held_pages`). An outlet that posts the story again, word for
word, at a new address (a new slug, another section's path) made a new row with a page
of its own, and that copy reached the next edition: the text a legal request pulled,
back under its own headline. So an article headlined as a held one (the first
`store.TITLE_KEY_CHARS` characters) whose text is a near-copy of the held one's
(similarity at least `duplicate_threshold`, as an edition judges copies, sharing
`RELATED_MIN_TERMS` terms) is left out wherever the held article would be. The headline
finds the suspects, and only the texts decide: a column's fixed name ("Markets wrap")
heads a new report every day, and a report of the same event in other words is another
outlet's account, not the held text.

Held articles are few and their headlines rarely come back, so a selection with no
suspect pays one indexed query (`store.held_docs`) and a set lookup per article.

The hold itself finds the copies stored already (`copies_of`), so that it can hold them
too and pull them from the editions not yet sent: an edition frozen before the hold may
show the copy rather than the article the editor knows by its guid.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.orm import Session

from digest.models import Article
from digest.selection import store
from digest.selection.corpus import Corpus, Doc, DocText
from digest.selection.identity import canonical_address
from digest.selection.similarity import RELATED_MIN_TERMS
from digest.selection.store import TITLE_KEY_CHARS
from digest.selection.vector_rows import search

#: Articles of the language published nearest the held one whose words weigh the texts
#: compared (`copies_of`), as `articles related` learns its weights: two texts alone make
#: every word they share a common one.
WEIGHT_SAMPLE = 300


def copies_of(
    session: Session, article: Article, unsent: Collection[int], threshold: float
) -> list[int]:
    """Ids of the stored copies of `article`, oldest first (module docstring): its page
    (`identity.canonical_address`) fetched again under another guid, and its text posted
    again under its headline at any date (`store.postings`) with a similarity of at
    least `threshold` (the selection's `duplicate_threshold`). Looked for among the
    articles so headlined and the `unsent` ones (ids: what the editions not yet sent
    show, where a page fetched again may carry an edited headline). Held ones aside."""
    page = canonical_address(article.canonical_url or article.url)
    headlined = {doc.id for doc in store.postings(session, article.language, [article.title])}
    wanted = sorted((headlined | set(unsent)) - {article.id})
    found = store.docs_with_terms(session, wanted)
    held = store.docs_with_terms(session, [article.id])
    pages = {doc.id for doc, _ in found if page and canonical_address(doc.url) == page}
    titled = [(doc, text) for doc, text in found if doc.id in headlined]
    copies: frozenset[int] = frozenset()
    if titled and held:
        sample = store.nearest_of_language(
            session, article.language, article.published_at, WEIGHT_SAMPLE, [article.id, *wanted]
        )
        corpus = Corpus([*held, *found, *store.docs_with_terms(session, list(sample))])
        copies = held_copies(corpus, held, titled, threshold)
    held_ids = set(store.held_ids(session))
    return [doc.id for doc, _ in found if doc.id in pages | copies and doc.id not in held_ids]


def held_copies(
    corpus: Corpus,
    held: Sequence[tuple[Doc, DocText]],
    documents: Sequence[tuple[Doc, DocText]],
    threshold: float,
) -> frozenset[int]:
    """Ids of the `documents` that are copies of a `held` article (module docstring):
    one of its headlines, and a similarity of at least `threshold` (the selection's
    `duplicate_threshold`) to that held article's text, weighed like `corpus`'s."""
    keys = {doc.title[:TITLE_KEY_CHARS] for doc, _ in held} - {""}
    held_ids = {doc.id for doc, _ in held}
    suspects = [
        (doc, text)
        for doc, text in documents
        if doc.id not in held_ids and doc.title[:TITLE_KEY_CHARS] in keys
    ]
    if not suspects:
        return frozenset()
    originals = [(doc, text) for doc, text in held if doc.title]
    found = search(
        corpus.vectors_for(suspects),
        list(corpus.vectors_for(originals)),
        threshold,
        RELATED_MIN_TERMS,
    )
    copies: set[int] = set()
    for (original, _), matches in zip(originals, found, strict=True):
        for row, _similarity in matches:
            suspect = suspects[row][0]
            if suspect.title[:TITLE_KEY_CHARS] == original.title[:TITLE_KEY_CHARS]:
                copies.add(suspect.id)
    return frozenset(copies)
