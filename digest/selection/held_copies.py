"""Copies of held articles: a held story posted again at a new address is held too.

A hold (`digest articles hold`) pulls one article, and selection leaves out its page
under any guid (`store.held_pages`). An outlet that posts the story again, word for
word, at a new address (a new slug, another section's path) made a new row with a page
of its own, and that copy reached the next edition: the text a legal request pulled,
back under its own headline. So an article headlined as a held one whose text is the
held one's, word for word (`is_copy`), is left out wherever the held article would be.

"Headlined as a held one" is read on the headlines' words (`repeated_headlines`). The
headline only finds the suspects; the texts decide, and word for word: a copy holds four
fifths of the runs of three words of the held summary and body (`COPY_SHARE`, numbers
included), and the held text is at least half of it (`OWN_SHARE`). A similarity of
openings was not enough (a breaker pass): a daily bulletin's next day (gold prices, a
markets wrap: the template, other figures), a live blog's next day under its fixed
standfirst and a correction were held with the article they follow. A "Read more"
link, markup set anew, a headline reworded, a line added or dropped is still the held
text; another outlet's account in its own words never is.

Held articles are few, so a selection pays one indexed query (`store.held_docs`) and,
where something is held, the words of each headline it reads in full; texts are read
only for the suspects.

The hold itself finds the copies stored already (`copies_of`), so that it can hold them
too and pull them from the editions not yet sent: an edition frozen before the hold may
show the copy rather than the article the editor knows by its guid.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from functools import partial

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from digest.models import Article
from digest.selection import store
from digest.selection.corpus import Doc
from digest.selection.identity import canonical_address
from digest.selection.postings import postings, titles_between
from digest.selection.repeated_headlines import HeldHeadlines
from digest.selection.text import plain, words

#: Given article ids, their (headline, summary HTML, body) (`store.texts`).
TextReader = Callable[[list[int]], dict[int, tuple[str, str, str]]]

#: Days either side of the held article's publication whose headlines are read for
#: copies at the hold (`copies_of`); copies under the very same headline are found at
#: any date (`postings.postings`).
COPY_DAYS = 7
#: Words in a run (`is_copy`): one changed word breaks this many runs.
RUN_WORDS = 3
#: Share of the held text's runs a copy holds...
COPY_SHARE = 0.8
#: ...and share of the copy's own runs that are the held text's (a text that quotes the
#: held one whole and as much again is still publishing it).
OWN_SHARE = 0.5


def is_copy(held: tuple[str, str, str], other: tuple[str, str, str]) -> bool:
    """Whether `other` is the `held` text word for word (module docstring): both are
    (headline, summary HTML, body); runs of `RUN_WORDS` words (fewer where a text has
    fewer), numbers included, of the summaries and bodies (the headline is what a copy
    sets anew), or of the whole where the held article is a headline alone."""
    ours, theirs = _words(("", *held[1:])), _words(("", *other[1:]))
    if not ours:
        ours, theirs = _words(held), _words(other)
    size = min(RUN_WORDS, len(ours), len(theirs))
    if not size:
        return False
    own = {tuple(ours[at : at + size]) for at in range(len(ours) - size + 1)}
    found = {tuple(theirs[at : at + size]) for at in range(len(theirs) - size + 1)}
    shared = len(own & found)
    return shared >= COPY_SHARE * len(own) and shared >= OWN_SHARE * len(found)


def _words(text: tuple[str, str, str]) -> list[str]:
    title, summary, body = text
    return words(f"{title}\n{plain(summary)}\n{body}")


def copies_of(session: Session, article: Article, unsent: Collection[int]) -> list[int]:
    """Ids of the stored copies of `article` (module docstring), held ones and those
    released on their own aside (`store.released_copies`): its
    page (`identity.canonical_address`) fetched again under another guid, and its text
    posted again under its headline (`HeldHeadlines`, `is_copy`). Looked for among the
    articles of its language published within `COPY_DAYS` of it, those under the very
    same headline at any date, and the `unsent` ones (ids: what the editions not yet
    sent show)."""
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
    pages = {doc.id for doc, _ in found if page and canonical_address(doc.page) == page}
    held = store.docs_with_terms(session, [article.id])
    copies = held_copies(
        [doc for doc, _ in held], [doc for doc, _ in found], partial(store.texts, session)
    )
    left = set(store.held_ids(session)) | store.released_copies(session)
    return [doc.id for doc, _ in found if doc.id in pages | copies and doc.id not in left]


def held_with(session: Session, article: Article) -> list[int]:
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
        found.update(copies_of(session, article, ()))
    return sorted(found)


def held_copies(held: Sequence[Doc], documents: Sequence[Doc], texts: TextReader) -> frozenset[int]:
    """Ids of the `documents` that are copies of a `held` article (module docstring):
    headlined as it is (`HeldHeadlines`) and its text word for word (`is_copy`; texts
    read with `texts`, for the suspects and their held articles only)."""
    headlines = HeldHeadlines(doc.title for doc in held)
    if not headlines:
        return frozenset()
    held_ids = {doc.id for doc in held}
    pairs = [
        (held[place], doc)
        for doc in documents
        if doc.id not in held_ids
        for place in headlines.repeated(doc.title)
    ]
    if not pairs:
        return frozenset()
    read = texts(sorted({doc.id for pair in pairs for doc in pair}))
    return frozenset(
        suspect.id
        for original, suspect in pairs
        if original.id in read
        and suspect.id in read
        and is_copy(read[original.id], read[suspect.id])
    )
