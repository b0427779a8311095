"""Headlines that repeat one another: a held article's, a copy's set anew.

A copy's headline comes back with a curly apostrophe, in title case, as ٥٫٨ for 5.8,
with the outlet's name after a bar or "عاجل:" before it, a word changed ("hikes" for
"raises"): breaker passes let each of these through a comparison of the headlines as
written. So headlines are compared on their words (`text.words`: case, marks,
punctuation, Eastern digits and tatweel aside; stop words aside; an Arabic word's
definite article aside: الغارة الإسرائيلية and غارة إسرائيلية), and two repeat one
another when they share at least half the longer's. Used to find the suspects of a held
article's copies (`held_copies`), and by ingest to tell a link a feed's items share from
an article whose guid changed (`ingest.store`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import chain

from digest.selection.text import is_term, words


class HeldHeadlines:
    """Which headlines repeat one of some held headlines (module docstring): sharing at
    least half the longer's words, stop words aside ("Markets wrap | Gulf Courier"
    repeats "Markets wrap"; "Live: election night as results come in" does not repeat
    "Live"). Asked of every headline a selection reads in full while something is held:
    a headline's words are sorted from stop words only where it shares enough of them
    with a held one."""

    def __init__(self, titles: Iterable[str]) -> None:
        #: Each held headline's words, with its place among `titles`, and the held
        #: headlines each word is in.
        self._keys: list[tuple[int, frozenset[str]]] = []
        self._index: dict[str, list[int]] = {}
        for place, title in enumerate(titles):
            key = _key(title)
            if key:
                for word in key:
                    self._index.setdefault(word, []).append(len(self._keys))
                self._keys.append((place, key))
        self._words = frozenset(self._index)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def repeats(self, title: str) -> bool:
        """Whether `title` repeats a held headline."""
        return bool(self.repeated(title))

    def repeated(self, title: str) -> list[int]:
        """The places (among the titles given) of the held headlines `title` repeats."""
        found = set(map(_bare, words(title)))
        common = found & self._words
        if not common:
            return []
        shared = Counter(chain.from_iterable(map(self._index.__getitem__, common)))
        places = []
        size = -1
        for number, count in shared.items():
            place, key = self._keys[number]
            if 2 * count < len(key):
                continue
            if size < 0:
                size = sum(1 for word in found if is_term(word))
            if 2 * count >= size:
                places.append(place)
        return sorted(places)


def _key(title: str) -> frozenset[str]:
    return frozenset(_bare(word) for word in words(title) if is_term(word))


#: Arabic's definite article, with the one-letter conjunctions and prepositions before it.
_ARABIC_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")


def _bare(word: str) -> str:
    """An Arabic word without its definite article (الغارة as غارة), where three letters
    or more are left; any other word as it is."""
    if word[:1] in "اوبكفل":
        for article in _ARABIC_ARTICLES:
            if word.startswith(article) and len(word) - len(article) >= 3:
                return word[len(article) :]
    return word
