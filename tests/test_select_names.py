"""Names and figures told from the rest of a text, and the facet cosine built on them."""

from __future__ import annotations

import pytest

from digest.selection.names import (
    calendar_words,
    facet_cosine,
    has_case,
    name_words,
    names,
    places,
)
from digest.selection.similarity import Vector, Vocabulary


def test_a_capital_inside_a_sentence_is_a_name_and_a_sentence_s_first_word_is_not() -> None:
    text = (
        'The Coast Guard said the rig burned. "We are hopeful," a BP spokesman said at '
        "10pm.\nSurvivors reached Venice, Louisiana, after $4.7bn of damage in 2010. It "
        "rained."
    )
    assert name_words(text) == [
        "Coast",
        "Guard",
        "BP",
        "10pm.",
        "Venice",
        "Louisiana",
        "4.7bn",
        "2010.",
    ]


def test_weekdays_and_months_are_not_names() -> None:
    vocabulary = Vocabulary()
    found = names(vocabulary, "Rescuers in Velmora worked on Sunday and in March.", "en", True)
    assert vocabulary.words_of(found) == {"velmora": next(iter(found))}
    assert {"sunday", "march", "sun", "mar"} <= calendar_words("en")
    assert calendar_words("not a language") == frozenset()


def test_arabic_has_no_case_and_its_names_are_places_and_figures() -> None:
    assert has_case("The Coast Guard said")
    assert not has_case("قالت شبكة CNN إن الزلزال ضرب مصر")
    vocabulary = Vocabulary()
    text = "ضرب زلزال في 2024 جنوب مصر وشعر به سكان القاهرة وللصين موقف"
    found = names(vocabulary, text, "ar", False)
    # A place behind a proclitic (وللصين: "and to China") is a place; words are not.
    assert found == frozenset(vocabulary.count("", "2024 مصر القاهرة الصين").ids)


def test_cldr_places_are_single_distinctive_words() -> None:
    known = places("ar")
    assert {"مصر", "قطر", "باكستان", "الصين", "السعودية", "القاهرة", "دبي"} <= known
    # A word several names share (المملكة, kingdom; المتحدة, united) and a world
    # region (العالم, the world) are not a place.
    assert not {"المملكة", "المتحدة", "العالم"} & known
    assert places("ar-EG") == known
    assert places("") == frozenset()


def vector(weights: dict[int, float]) -> Vector:
    total = sum(w * w for w in weights.values()) ** 0.5
    ordered = sorted(weights.items(), key=lambda item: -item[1])
    return Vector(tuple(t for t, _ in ordered), tuple(w / total for _, w in ordered))


# Terms: 1, 2 names of this event; 3, 4 its happening; 5 another place's name.
EVENT = vector({1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0})
NAMES = frozenset({1, 2, 5})


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ({1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0}, 1.0),  # the same report
        ({5: 1.0, 3: 1.0, 4: 1.0}, 0.0),  # the same happening elsewhere
        ({1: 1.0, 2: 1.0, 6: 1.0}, 0.0),  # the same names in other news
        ({1: 1.0, 3: 1.0}, (0.5**0.5 * 0.5**0.5) ** 0.5),  # half of each side
    ],
)
def test_the_facet_cosine_asks_for_names_and_happening_both(
    other: dict[int, float], expected: float
) -> None:
    assert facet_cosine(EVENT.as_dict(), vector(other), NAMES) == pytest.approx(expected)
