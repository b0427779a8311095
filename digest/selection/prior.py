"""How common a word is in the language at large: the term weights of a corpus too small
to teach any.

Term weights are learnt from the documents at hand (`similarity.Weighting`). From a
handful (a new site's first articles, a quiet week's archive) every word two reports
share looks as common as the sample allows, "said" and a minister's name alike, and
every word of a kind of event (earthquake, magnitude, rubble) weighs as much as a place.
A word's frequency in the language says which is which: wordfreq's lists (Wikipedia,
news, subtitles, books and the web; shipped inside the package, nothing is downloaded)
for some 40 languages, Arabic and English among them. The list stands in for
`PRIOR_DOCUMENTS` texts of the language beside the corpus's own, as pseudo-counts do in
additive smoothing: a word the lists never saw (a local name) counts as rare.

On `bench/related_eval.py`'s pairs asked two by two in a database of their own, this
(with the long texts' floor it lets apply) listed 13 of 220 different events rather
than 24, for 84 of 110 same-event partners found rather than 85; the other two ways of
asking are unchanged (corpora of more texts). Used for short articles too, it found 95
partners, and listed 20 different events, 8 of them between short texts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

from digest.selection.text import normalise

#: Texts of the language the word lists count as, beside the corpus's own.
PRIOR_DOCUMENTS = 20
#: Words in a news report: a word that makes `share` of all words written is in
#: 1 - exp(-share x TEXT_WORDS) of reports (words taken as independent, which
#: understates how names cluster, and is the same for every word).
TEXT_WORDS = 400


@lru_cache(maxsize=8)
def _frequencies(language: str) -> Mapping[str, float]:
    """Word (normalised as `text.words` does, so alef and hamza forms meet) -> its share
    of all words written in `language` ("en", "ar-EG"); empty for a language wordfreq
    has no list for."""
    import wordfreq  # 0.2 s to import: only when a tiny corpus needs it

    base = language.replace("_", "-").split("-")[0].lower()
    if base not in wordfreq.available_languages(wordlist="small"):
        return {}
    found: dict[str, float] = {}
    for word, share in wordfreq.get_frequency_dict(base, wordlist="small").items():
        key = normalise(word)
        found[key] = found.get(key, 0.0) + share
    return found


def knows(language: str) -> bool:
    """Whether wordfreq has a list for `language` (a BCP 47 tag)."""
    return bool(_frequencies(language))


def document_shares(language: str, words: Mapping[str, int]) -> dict[int, float]:
    """Term -> the share of a language's news reports that hold it (0..1), for the terms
    of `words` (word -> its term, `Vocabulary.words_of`) that the lists know: the words
    of one term (one stem: "earthquake", "earthquakes") add up. Terms the lists never saw are
    left out (rare)."""
    frequencies = _frequencies(language)
    shares: dict[int, float] = {}
    for word, term in words.items():
        if word in frequencies:
            shares[term] = shares.get(term, 0.0) + frequencies[word]
    return {term: 1.0 - math.exp(-share * TEXT_WORDS) for term, share in shares.items()}
