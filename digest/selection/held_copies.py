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
"""

from __future__ import annotations

from collections.abc import Sequence

from digest.selection.corpus import Corpus, Doc, DocText
from digest.selection.similarity import RELATED_MIN_TERMS
from digest.selection.store import TITLE_KEY_CHARS
from digest.selection.vector_rows import search


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
