"""Two events by their places, where an edition cannot read names.

`articles related` weighs names against what happened (`names.facet_cosine`); an
edition has no names step, and its event tests take a word most of an event's reports
share for its keyword. Where names are not read by capitals (Arabic), two headlines
that each name places and none in common tell two events, however many words of
their kind they share (`places.headline_places`).
"""

from __future__ import annotations

from collections.abc import Callable

from digest.selection.corpus import Doc
from digest.selection.places import capitals_mark_names, gazetteer, headline_places


def places_apart(language: str) -> Callable[[Doc, Doc], bool] | None:
    """Where names are not read by capitals (Arabic), whether two articles' headlines
    both name places and none in common (`places.headline_places`): two events, however
    many words of their kind they share. An edition has no names step, and its event
    tests take a word most of an event's reports share for its keyword; on
    bench/select_eval_arabic.py's days the Egyptian rate rise took the Turkish one, and
    the Myanmar earthquake the Afghan one, as reports. None elsewhere: English headlines
    capitalise every word, and the English tests were chosen without it."""
    if capitals_mark_names(language) is not False or not gazetteer(language):
        return None

    def apart(first: Doc, second: Doc) -> bool:
        own = headline_places(first.title, language)
        theirs = headline_places(second.title, language)
        return bool(own and theirs) and own.isdisjoint(theirs)

    return apart
