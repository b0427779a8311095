"""The term cache's contents: an article's counted words, computed once, stored compactly.

A selection reads about 11,000 articles in full (the window and the newest archive);
tokenising them on every edition was half of its time. Ingest stores each article's
`WordCounts` (distinct normalised words and their counts, stop words left out) in
`article_terms`, keyed by the article's content hash; a selection reads them back and
only stems and weights. Words, not stems or term ids, are stored: term ids and stems
belong to one selection's vocabulary (`similarity.Vocabulary`), so the cache does not
depend on them.

Which words an article has is decided here, once, for ingest and for selection alike
(`article_words`); a cached row counts only while its `version` equals `VERSION`, a
fingerprint of everything that decides the words (the cuts, the headline weight, the
stop words, the normaliser's output on sample text), so a change to any of them makes
every stored row stale instead of wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from digest.selection import similarity
from digest.selection.similarity import OPENING_CHARS, matching_text, opening
from digest.selection.text import STOP_WORDS, WordCounts, plain, word_counts

#: Summaries are HTML: read enough of it to leave OPENING_CHARS of text after the tags.
SUMMARY_CHARS = 3 * OPENING_CHARS

#: Bumped by hand when the stored format changes (2: each word's number, `word_ids`).
_FORMAT = 2

#: Texts whose words the fingerprint covers: acronyms, typography, entities, Arabic
#: with marks and letter variants, compatibility forms, invisible characters.
_PROBES = (
    ("U.S. & E.U. leaders' \u201ctalks\u201d \u2014 Iran\u2019s 2025 plans", "<p>A&amp;B</p>", "x"),
    # Arabic with tashkeel and hamza forms; the article and a ta marbuta.
    (
        "\u0625\u0650\u064a\u0631\u064e\u0627\u0646\u064f",
        "\u0627\u0644\u0645\u062f\u064a\u0646\u0629",
        "",
    ),
    ("\ufb01nal caf\u00e9\u00ad \uff21\uff22", "", "\u200bzero\u200cwidth"),
    ("Mt Gox", "<b>Wal Mart</b> and " * 40, "body " * 200),
)


def article_text(summary: str, body: str) -> str:
    """An article's matching text besides its headline: the opening of its summary
    (sanitised HTML, read as words) then its body (`similarity.opening`)."""
    return opening(plain(summary[:SUMMARY_CHARS]), body[:OPENING_CHARS])


def article_words(articles: Sequence[tuple[str, str, str]]) -> list[WordCounts]:
    """The `WordCounts` of each (headline, summary HTML, body) article."""
    return word_counts(
        [matching_text(title, article_text(summary, body)) for title, summary, body in articles]
    )


def _fingerprint() -> str:
    facts = (
        _FORMAT,
        similarity.TITLE_CHARS,
        similarity.TITLE_WEIGHT,
        OPENING_CHARS,
        SUMMARY_CHARS,
        sorted(STOP_WORDS),
        article_words(_PROBES),
    )
    return hashlib.sha256(repr(facts).encode("utf-8")).hexdigest()[:16]


#: What a stored row must carry to be read (see the module's docstring).
VERSION = _fingerprint()
