"""Two events by their places, where an edition cannot read names: for related items.

`articles related` weighs names against what happened (`names.facet_cosine`); an
edition has no names step. Where names are not read by capitals (Arabic), two headlines
that each name places and none in common tell two events, however many words of their
kind they share (`places.headline_places`), and one is not the other's related item.
Not for the event tests, which decide top stories: the two sides of one event (a match,
a summit, a strike) are often named one in each headline, and the event would be told
twice (a breaker pass: Saudi Arabia and Japan's qualifier in two top stories).
"""

from __future__ import annotations

from collections.abc import Callable

from digest.selection.corpus import Doc
from digest.selection.places import capitals_mark_names, gazetteer, headline_places


def places_apart(language: str) -> Callable[[Doc, Doc], bool] | None:
    """Where names are not read by capitals (Arabic), whether two articles' headlines
    both name places and none in common (`places.headline_places`): not each other's
    related item (module docstring). On bench/select_eval_arabic.py's days the Egyptian
    rate rise listed the Turkish one, and the Myanmar earthquake the Afghan one. None
    elsewhere: English headlines capitalise every word, and the English related items
    were chosen without it."""
    if capitals_mark_names(language) is not False or not gazetteer(language):
        return None

    def apart(first: Doc, second: Doc) -> bool:
        own = headline_places(first.title, language)
        theirs = headline_places(second.title, language)
        return bool(own and theirs) and own.isdisjoint(theirs)

    return apart
