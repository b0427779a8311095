"""Headlines that repeat one another: a held article's, a copy's set anew.

A copy's headline comes back with a curly apostrophe, in title case, as ٥٫٨ for 5.8,
with the outlet's name after a bar or "عاجل:" before it, a word changed ("hikes" for
"raises"): breaker passes let each of these through a comparison of the headlines as
written. So headlines are compared on their words (`text.words`: case, marks,
punctuation, Eastern digits and tatweel aside; stop words aside), and two repeat one
another when they share at least half the longer's. Used to find the suspects of a
held article's copies (`held_copies`), and by ingest to tell a link a feed's items
share from an article whose guid changed (`ingest.store`).
"""

from __future__ import annotations

from collections.abc import Iterable

from digest.selection.text import is_term, words


class HeldHeadlines:
    """Which headlines repeat one of some held headlines (module docstring): sharing at
    least half the longer's words, stop words aside ("Markets wrap | Gulf Courier"
    repeats "Markets wrap"; "Live: election night as results come in" does not repeat
    "Live")."""

    def __init__(self, titles: Iterable[str]) -> None:
        #: Each held headline's words, and the held headlines each word is in.
        self._keys: list[frozenset[str]] = []
        self._index: dict[str, list[int]] = {}
        for title in titles:
            key = _key(title)
            if key:
                for word in key:
                    self._index.setdefault(word, []).append(len(self._keys))
                self._keys.append(key)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def repeats(self, title: str) -> bool:
        """Whether `title` repeats a held headline."""
        found = _key(title)
        shared: dict[int, int] = {}
        for word in found:
            for number in self._index.get(word, ()):
                shared[number] = shared.get(number, 0) + 1
        return any(
            2 * count >= max(len(found), len(self._keys[number]))
            for number, count in shared.items()
        )


def _key(title: str) -> frozenset[str]:
    return frozenset(word for word in words(title) if is_term(word))
