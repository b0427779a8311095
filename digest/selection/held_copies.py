"""Copies of held articles: a held story posted again at a new address is held too.

A hold (`digest articles hold`) pulls one article, and selection leaves out its page
under any guid (`store.held_pages`). An outlet that posts the story again, word for
word, at a new address (a new slug, another section's path) made a new row with a page
of its own, and that copy reached the next edition: the text a legal request pulled,
back under its own headline. So an article headlined as a held one whose text is a
near-copy of the held one's (similarity at least `duplicate_threshold`, as an edition
judges copies, sharing `RELATED_MIN_TERMS` terms) is left out wherever the held article
would be. The headline finds the suspects, and only the texts decide: a column's fixed
name ("Markets wrap") heads a new report every day, and a report of the same event in
other words is another outlet's account, not the held text.

"Headlined as a held one" is read on the headline's words (`text.words`: case, marks,
punctuation, Eastern digits and tatweel aside), and one headline's words may run on in
the other's, the shorter at least half the longer (`HeldHeadlines`): a copy's headline
comes back with a curly apostrophe, in title case, as ٥٫٨ for 5.8, with the outlet's
name after a bar or an "عاجل:" before it (a breaker pass let each of these through).

Held articles are few, so a selection pays one indexed query (`store.held_docs`) and,
where something is held, the words of each headline it reads in full.

The hold itself finds the copies stored already (`copies_of`), so that it can hold them
too and pull them from the editions not yet sent: an edition frozen before the hold may
show the copy rather than the article the editor knows by its guid.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from digest.models import Article
from digest.selection import store
from digest.selection.corpus import Corpus, Doc, DocText
from digest.selection.identity import canonical_address
from digest.selection.postings import postings, titles_between
from digest.selection.similarity import RELATED_MIN_TERMS
from digest.selection.text import words
from digest.selection.vector_rows import search

#: Articles of the language published nearest the held one whose words weigh the texts
#: compared (`copies_of`), as `articles related` learns its weights: two texts alone make
#: every word they share a common one.
WEIGHT_SAMPLE = 300


#: Days either side of the held article's publication whose headlines are read for
#: copies at the hold (`copies_of`); copies under the very same headline are found at
#: any date (`postings.postings`).
COPY_DAYS = 7


class HeldHeadlines:
    """Which headlines repeat one of some held headlines (module docstring): the same
    words, or one's words running on in the other's, the shorter at least half the
    longer ("Markets wrap | Gulf Courier" repeats "Markets wrap"; "Live: election night"
    does not repeat "Live")."""

    def __init__(self, titles: Iterable[str]) -> None:
        #: Each held headline's words, by its first word.
        self._by_first: dict[str, list[tuple[str, ...]]] = {}
        #: Every run of a held headline's words at least half its length.
        self._runs: set[tuple[str, ...]] = set()
        for title in titles:
            key = tuple(words(title))
            if not key:
                continue
            self._by_first.setdefault(key[0], []).append(key)
            for size in range((len(key) + 1) // 2, len(key) + 1):
                self._runs.update(key[at : at + size] for at in range(len(key) - size + 1))

    def __bool__(self) -> bool:
        return bool(self._runs)

    def repeats(self, title: str) -> bool:
        """Whether `title` repeats a held headline."""
        found = tuple(words(title))
        if found in self._runs:
            return True
        for at, word in enumerate(found):
            for key in self._by_first.get(word, ()):
                if 2 * len(key) >= len(found) and found[at : at + len(key)] == key:
                    return True
        return False


def copies_of(
    session: Session, article: Article, unsent: Collection[int], threshold: float
) -> list[int]:
    """Ids of the stored copies of `article` (module docstring), held ones aside: its
    page (`identity.canonical_address`) fetched again under another guid, and its text
    posted again under its headline (`HeldHeadlines`) with a similarity of at least
    `threshold` (the selection's `duplicate_threshold`). Looked for among the articles
    of its language published within `COPY_DAYS` of it, those under the very same
    headline at any date, and the `unsent` ones (ids: what the editions not yet sent
    show)."""
    page = canonical_address(article.canonical_url)
    headlines = HeldHeadlines([article.title])
    days = timedelta(days=COPY_DAYS)
    near = titles_between(
        session, article.language, article.published_at - days, article.published_at + days
    )
    headlined = {number for number, title, _ in near if headlines.repeats(title)}
    headlined.update(doc.id for doc in postings(session, article.language, [article.title]))
    fetched = {number for number, _, url in near if page and canonical_address(url) == page}
    wanted = sorted((headlined | fetched | set(unsent)) - {article.id})
    found = store.docs_with_terms(session, wanted)
    held = store.docs_with_terms(session, [article.id])
    pages = {doc.id for doc, _ in found if page and canonical_address(doc.page) == page}
    copies: frozenset[int] = frozenset()
    if held and headlined:
        sample = store.nearest_of_language(
            session, article.language, article.published_at, WEIGHT_SAMPLE, [article.id, *wanted]
        )
        corpus = Corpus([*held, *found, *store.docs_with_terms(session, list(sample))])
        copies = held_copies(corpus, held, found, threshold)
    held_ids = set(store.held_ids(session))
    return [doc.id for doc, _ in found if doc.id in pages | copies and doc.id not in held_ids]


def held_with(session: Session, article: Article, threshold: float) -> list[int]:
    """Ids of the articles held as one with `article`, which selection leaves out: the
    held fetches of its page under other guids; and where it is held, its copies held
    with it (`copies_of` at the hold) or the article it is a copy of and that one's
    other copies, and the copies of it stored since (`copies_of` now). What `articles
    related` lists as its copies, though no corpus holds them."""
    page = canonical_address(article.canonical_url)
    held = select(Article.id, Article.canonical_url).where(Article.held_at.is_not(None))
    found = {
        number
        for number, address in session.execute(held)
        if page and number != article.id and canonical_address(address) == page
    }
    if article.held_at is not None:
        first = article.held_copy_of or article.id
        statement = select(Article.id).where(
            or_(Article.id == first, Article.held_copy_of == first), Article.id != article.id
        )
        found.update(session.scalars(statement))
        found.update(copies_of(session, article, (), threshold))
    return sorted(found)


def held_copies(
    corpus: Corpus,
    held: Sequence[tuple[Doc, DocText]],
    documents: Sequence[tuple[Doc, DocText]],
    threshold: float,
) -> frozenset[int]:
    """Ids of the `documents` that are copies of a `held` article (module docstring):
    headlined as it is (`HeldHeadlines`), with a similarity of at least `threshold` (the
    selection's `duplicate_threshold`) to its text, weighed like `corpus`'s."""
    headlines = HeldHeadlines(doc.title for doc, _ in held)
    held_ids = {doc.id for doc, _ in held}
    suspects = [
        (doc, text)
        for doc, text in documents
        if doc.id not in held_ids and headlines and headlines.repeats(doc.title)
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
        own = HeldHeadlines([original.title])
        copies.update(
            suspects[row][0].id for row, _ in matches if own.repeats(suspects[row][0].title)
        )
    return frozenset(copies)
