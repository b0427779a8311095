"""A country's other English names as one term: "UK", "Britain" and "British" are one place.

Outlets name a country differently: the short name CLDR gives as an alternative ("UK",
"US"), an older or newer name ("Turkey", "Türkiye"; "Holland"), and its adjective, which
`similarity.Vocabulary` joins to the name by its ending where the ending allows
("Iranian", "Iran"; "Chinese", "China") and cannot where it does not ("British",
"Dutch", "Swiss", "Mexican"). Two reports of one event, one from each side of the
Atlantic ("UK inflation falls to 2.1%", "Cheaper petrol pulls British price growth
down"), shared no place. Each name below is read as its country's (`ALIASES`, by light
stem), for both the edition and `articles related`.

Left out where the other sense is common in news: "Polish" (to polish), "us" (the
pronoun: "U.S." is read as "us" already), "Emirates" (its stem is "emir", a ruler); "Turkey"
stays itself (the name others join).
Sources: Unicode CLDR's alternative territory names (alt="short", alt="variant") and the
English demonyms of the ISO 3166 countries.
"""

from __future__ import annotations

from collections.abc import Mapping

from digest.selection.text import normalise, stem

#: Country (the name its other names join, as a headline writes it) -> its other names.
_OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "Britain": ("UK", "British", "Briton", "Britons"),
    "Turkey": ("Türkiye", "Turkiye", "Turkish"),
    "Netherlands": ("Holland", "Dutch"),
    "Switzerland": ("Swiss",),
    "Germany": ("German", "Germans"),
    "France": ("French",),
    "Italy": ("Italian", "Italians"),
    "Spain": ("Spanish",),
    "Mexico": ("Mexican", "Mexicans"),
    "Canada": ("Canadian", "Canadians"),
    "Ireland": ("Irish",),
    "Greece": ("Greek", "Greeks"),
    "Denmark": ("Danish",),
    "Sweden": ("Swedish",),
    "Norway": ("Norwegian", "Norwegians"),
    "Finland": ("Finnish",),
    "Lebanon": ("Lebanese",),
    "Philippines": ("Filipino", "Filipinos"),
    "Afghanistan": ("Afghan", "Afghans"),
    "Peru": ("Peruvian", "Peruvians"),
    "Argentina": ("Argentine", "Argentinian", "Argentinians"),
    "UAE": ("Emirati", "Emiratis"),
    "America": ("USA",),
    "Czechia": ("Czech",),
}


def _aliases() -> Mapping[str, str]:
    found: dict[str, str] = {}
    for country, others in _OTHER_NAMES.items():
        own = stem(normalise(country))
        for other in others:
            found[stem(normalise(other))] = own
    return found


#: Light stem of another name -> light stem of its country's (`text.stem`).
ALIASES: Mapping[str, str] = _aliases()
