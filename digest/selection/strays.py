"""Strays: a big event's lone reports that name the day's word and nothing else of it.

In a window most of which several sources report, a report no other source carries
(`Strays.lone_reports`) that shares a headline word with a big event's article is that
event's stray when the word is in at least `DOMINANT_SHARE` of the window's articles
and is a name in either headline or in two articles or more outside the event, and the
report names no places the event's headlines do not (`Strays.satellite`): "Why I do not
trust Bitcoin" beside "Bitcoin exchange Mt. Gox files for US bankruptcy" on a day
"bitcoin" is in half the news. `events.Events` asks these rules; they read its
neighbourhoods (`EventView`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from scipy import sparse

#: Share of the window's articles a word must be in to name the day's big event, for a
#: lone report (`Events.satellite`). On the tune half's thinner windows (a seeded
#: quarter of the headlines, editions every 3 hours) same-event top pairs fell from
#: 11.3% to 1.9% (seed 1) and 9.8% to 1.1% (seed 5), events per edition unchanged or up;
#: 0.05 gave the same figures.
DOMINANT_SHARE = 0.1
#: ... in a window where at least this share of the articles are reported by two or
#: more sources: where most stand alone (one publication's own feeds), a lone report is
#: the normal case, not a stray of a big event.
SATELLITE_WINDOW = 0.5
#: ... of an event with at least this many reports (`Events._big`).
SATELLITE_REPORTS = 3


class EventView(Protocol):
    """What the stray rules read of the window's events (`events.Events`)."""

    #: The window's articles' terms, 1.0 each (articles x terms).
    ones: sparse.csr_matrix

    def neighbours(self, index: int) -> list[int]: ...
    def coverage_sources(self) -> list[int]: ...
    def headline_names(self, index: int) -> frozenset[int]: ...
    def title_terms(self, index: int) -> frozenset[int]: ...
    def report_count(self, index: int) -> int: ...


class Strays:
    """The stray rules over one window's events, each answer computed once.

    `title_places` gives the places each headline names (`places.headline_places`),
    which tell a lone report from a stray (`_placed_apart`); without it, none does.
    """

    def __init__(
        self, events: EventView, title_places: Callable[[int], frozenset[str]] | None = None
    ) -> None:
        self._events = events
        self._title_places = title_places
        self._dominant: frozenset[int] | None = None
        self._articles_per_term: np.ndarray | None = None
        self._outside: dict[int, dict[int, float]] = {}
        self._event_places: dict[int, frozenset[str]] = {}
        self._lone: list[bool] | None = None

    def lone_reports(self) -> list[bool]:
        """Per article: no other source reports it; all False unless at least
        `SATELLITE_WINDOW` of the window is reported by several sources."""
        if self._lone is None:
            counts = self._events.coverage_sources()
            corroborated = sum(1 for count in counts if count >= 2)
            if corroborated < SATELLITE_WINDOW * len(counts):
                self._lone = [False] * len(counts)
            else:
                self._lone = [count < 2 for count in counts]
        return self._lone

    def dominant_terms(self) -> frozenset[int]:
        """Terms in at least `DOMINANT_SHARE` of the window's articles (one sparse
        column sum, computed once and only when a lone report is judged)."""
        if self._dominant is None:
            needed = max(2.0, DOMINANT_SHARE * self._events.ones.shape[0])
            self._dominant = frozenset(np.flatnonzero(self._term_articles() >= needed).tolist())
        return self._dominant

    def _term_articles(self) -> np.ndarray:
        """How many of the window's articles have each term (computed once)."""
        if self._articles_per_term is None:
            self._articles_per_term = np.asarray(self._events.ones.sum(axis=0)).ravel()
        return self._articles_per_term

    def stray_words(self, event: int, article: int, terms: frozenset[int]) -> frozenset[int]:
        """Of `terms` (dominant words both headlines say), those that make `article` a
        stray of `event`'s event: a word at least two articles outside the event's
        neighbourhood have (the day's, not only this event's and the one report asked
        about), or a name or figure in either headline (`names.headline_names`: "Why I
        would not trust Bitcoin"). In a thin window the share `DOMINANT_SHARE` asks for
        is two or three articles, which a big event's own reports fill: a breaker's
        six-article day made "Explosion kills five" (Karachi) a stray of a Porto hotel
        fire whose reports said "kills", and the blast was lost from the edition."""
        if not terms or self._placed_apart(event, article):
            return frozenset()
        spread = self._spread(event, terms)
        rest = terms - spread
        if not rest:
            return spread
        return spread | (
            rest & (self._events.headline_names(event) | self._events.headline_names(article))
        )

    def _placed_apart(self, event: int, article: int) -> bool:
        """Whether the article's headline names places (`places.headline_places`) and
        the headlines of `event`'s neighbourhood name others, none in common: then the
        article is no stray of that event, whatever word they share. A breaker pass's
        day of eleven articles made "Heatwave kills three in southern Spain" and
        "Explosion kills five at Karachi market" strays of a bus crash in Peru, "kills"
        being the day's word. Only for strays: a report the event tests relate can name
        one side of a match or a summit where another report names the other."""
        if self._title_places is None:
            return False
        own = self._title_places(article)
        if not own:
            return False
        theirs = self._event_places.get(event)
        if theirs is None:  # once per event: many lone reports are asked about
            named = (self._title_places(member) for member in self._events.neighbours(event))
            theirs = self._event_places[event] = frozenset().union(*named)
        return bool(theirs) and own.isdisjoint(theirs)

    def _spread(self, event: int, terms: frozenset[int]) -> frozenset[int]:
        """Of `terms`, those at least two articles outside `event`'s neighbourhood have
        (counted once per event and term: many lone reports are asked about)."""
        known = self._outside.setdefault(event, {})
        missing = sorted(term for term in terms if term not in known)
        if missing:
            inside = self._events.ones[self._events.neighbours(event)][:, missing].sum(axis=0)
            outside = self._term_articles()[missing] - np.asarray(inside).ravel()
            known.update(zip(missing, outside.tolist(), strict=True))
        return frozenset(term for term in terms if known[term] >= 2)

    def big(self, event: int) -> bool:
        """Whether `event`'s neighbourhood holds `SATELLITE_REPORTS` distinct reports
        (one source's three posts of a story are one, `tallies.report_numbers`): an
        event big enough to have strays. In a thin window a word three of twenty
        articles carry is "dominant" (a breaker's week: "airport" made the Heathrow fire
        and a Potomac collision reports of a Toronto plane that flipped over, and
        "dollar" a Bitcoin record one of a Gaza reconstruction plan, so each was lost
        from its edition)."""
        return self._events.report_count(event) >= SATELLITE_REPORTS

    def satellite(self, event: int, article: int) -> bool:
        """Whether `article`, a lone report (see `lone_reports`), reports `event`'s
        event by naming the day's dominant word that `event`'s headline names: a big
        event's stray reports share that word and nothing else with it, and a lone
        report is never the better top story of the two. The word must be a name or
        the day's, in articles beyond the event's (`stray_words`)."""
        if not self.lone_reports()[article] or not self.big(event):
            return False
        shared = self._events.title_terms(event) & self._events.title_terms(article)
        return bool(self.stray_words(event, article, shared & self.dominant_terms()))
