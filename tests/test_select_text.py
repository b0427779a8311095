"""Text for matching: Unicode words, stop words, Arabic normalisation, light stems."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.selection.similarity import Vocabulary, Weighting, cosine
from digest.selection.text import (
    LINE_END,
    normalise,
    plain,
    stem,
    terms,
    words,
    words_of_lines,
)

TASHKEEL = "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652"


def test_arabic_spelling_variants_normalise_alike() -> None:
    assert normalise("إيران") == normalise("ايران") == normalise("أيران") == normalise("آيران")
    assert normalise("ٱلقدس") == normalise("القدس")
    assert normalise("غزة") == normalise("غزه")
    assert normalise("مستشفى") == normalise("مستشفي")
    assert normalise("تُحرِزان") == normalise("تحرزان")
    assert normalise("الأخبــــار") == normalise("الاخبار")  # tatweel
    assert normalise("ی ک") == normalise("ي ك")  # Persian keyboard forms


def test_presentation_forms_and_invisible_characters() -> None:
    assert normalise("\ufefb") == normalise("لا")  # lam-alef ligature
    assert terms("nu\u200bclear re\u00adport") == terms("nuclear report")
    assert terms("ＮＡＴＯ") == terms("NATO")


def test_words_are_unicode_and_stop_words_of_both_languages_go() -> None:
    assert terms("The talks in Oman ended") == ["talk", "oman", "end"]
    assert terms("قال الوزير في بيان إن المحادثات") == terms("الوزير بيان المحادثات")
    assert "في" not in terms("في")
    assert terms("Zürich São Paulo") == ["zürich", "são", "paulo"]


def test_acronyms_numbers_and_possessives() -> None:
    assert terms("U.S. troops") == terms("US troops") == ["us", "troop"]
    assert terms("NATO's 2025 summit, 30 leaders") == ["nato", "2025", "summit", "leader"]
    assert terms("Chapter 11 filing at 9am") == ["chapter", "file", "9am"]


def test_what_a_contraction_leaves_of_itself_is_no_term() -> None:
    # straight and typographic apostrophes alike
    assert terms("We're looking into it") == terms("We\u2019re looking into it") == ["look"]
    assert terms("They've gone, we'll see, isn't it, didn't, wasn't") == ["gone", "see"]
    assert terms("You're not funny because of the way you look") == ["funni", "way", "look"]
    # what a contraction cannot leave stays a term
    assert terms("Ravens won't trade Reed") == ["raven", "won", "trade", "reed"]
    assert terms("CNN ousts Don Lemon") == ["cnn", "oust", "don", "lemon"]
    assert terms("Shooting in New Haven") == ["shoot", "haven"]
    assert "re" not in terms("Re: the vote") and "vote" in terms("Re: the vote")


def test_light_stems_conflate_only_inflections() -> None:
    assert stem("talks") == stem("talk")
    assert stem("countries") == stem("country")
    assert stem("erupts") == stem("eruption") and stem("viruses") == stem("virus")
    assert stem("paris") != stem("pair") and stem("crisis") != stem("cris")
    assert stem(normalise("المحادثات")) == stem(normalise("محادثات"))
    assert stem(normalise("والولايات")) == stem(normalise("الولايات"))
    assert stem(normalise("النووية")) == stem(normalise("النووي"))
    assert stem(normalise("وإيران")) == stem(normalise("إيران"))


def test_an_arabic_tens_word_is_not_its_unit() -> None:
    # Light10 strips -ين and -ون, which made fifty (الخمسين) the five (خمسة) of another
    # story's headline: a book fair's fiftieth edition grouped into five men killed.
    units = "ثلاثة أربعة خمسة ستة سبعة ثمانية تسعة".split()
    tens = "الثلاثين الأربعين الخمسين الستين السبعين الثمانين التسعين".split()
    for unit, ten in zip(units, tens, strict=True):
        assert terms(unit) != terms(ten), (unit, ten)
    assert terms("خمسون") == terms("والخمسين") == terms("بالخمسين")
    assert terms("عشرة") != terms("عشرين") and terms("عشرون") == terms("العشرين")


def test_plain_strips_tags_and_decodes_entities() -> None:
    assert plain("<p>Gaza &amp; <b>aid</b></p>").split() == ["Gaza", "&", "aid"]


def test_words_of_lines_keeps_lines_apart() -> None:
    tokens = words_of_lines(["Iran talks", "", "غزة\nاليوم"])
    assert tokens == ["iran", "talks", LINE_END, LINE_END, "غزه", "اليوم", LINE_END]
    assert words_of_lines(["U.S. talks", "x\x01y"]) == ["us", "talks", LINE_END, "x", "y", LINE_END]


@given(st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهوي ", min_size=1, max_size=60), st.data())
def test_diacritics_never_change_the_terms(text: str, data: st.DataObject) -> None:
    marked = "".join(
        char + (data.draw(st.sampled_from(["", *TASHKEEL, "\u0640"])) if char != " " else "")
        for char in text
    )
    assert terms(marked) == terms(text)


@given(st.text(max_size=80))
def test_normalise_is_idempotent_and_never_fails(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    terms(text)


def test_arabic_variants_are_one_story_to_the_similarity() -> None:
    vocabulary = Vocabulary()
    plain_text = vocabulary.count("إيران والولايات المتحدة تحرزان تقدما في المحادثات النووية", "")
    marked = vocabulary.count("إِيرانُ والولاياتُ المتحدةُ تُحرِزان تقدُّماً في المحادثاتِ النوويّة", "")
    other = vocabulary.count("غارة إسرائيلية على قطاع غزة", "")
    weighting = Weighting([plain_text, marked, other])
    first, second, third = (weighting.vector(c) for c in (plain_text, marked, other))
    assert cosine(first.as_dict(), second) > 0.99
    assert cosine(first.as_dict(), third) == 0.0


@given(st.text(max_size=60))
def test_fast_ascii_path_finds_the_same_words_as_the_unicode_one(text: str) -> None:
    import re

    assert words(text) == re.findall(r"[^\W_]+", normalise(text))


def test_demonyms_join_their_place_whichever_comes_first() -> None:
    vocabulary = Vocabulary()
    first = vocabulary.count("Iranian guards and Syria", "")
    second = vocabulary.count("Iran and Syrian troops", "")
    assert set(first.ids) & set(second.ids) == set(first.ids) - {
        vocabulary.count("guards", "").ids[0]
    }
    assert len(vocabulary.count("Israel Israeli Pakistan Pakistani", "").ids) == 2


@pytest.mark.parametrize(
    "names",
    [
        ("UK", "Britain", "British", "Britons"),
        ("Türkiye", "Turkey", "Turkish"),
        ("Holland", "Dutch", "Netherlands"),
        ("Germans", "Germany", "German"),
        ("UAE", "Emirati"),
    ],
)
def test_a_countrys_other_names_are_one_term_whichever_comes_first(
    names: tuple[str, ...],
) -> None:
    for order in (names, names[::-1]):
        vocabulary = Vocabulary()
        assert len({vocabulary.count(name, "").ids for name in order}) == 1, order


def test_a_word_a_country_name_shares_a_stem_with_keeps_its_own_term() -> None:
    vocabulary = Vocabulary()
    terms_of = [vocabulary.count(word, "").ids for word in ("UAE", "emir", "us", "USA", "polish")]
    assert len(set(terms_of)) == len(terms_of)


def test_two_reports_naming_one_country_two_ways_share_it() -> None:
    vocabulary = Vocabulary()
    first = vocabulary.count("UK inflation falls to 2.1% in November", "")
    second = vocabulary.count("Cheaper petrol pulls British price growth close to target", "")
    assert set(first.ids) & set(second.ids) == set(vocabulary.count("Britain", "").ids)


def test_arabic_one_letter_proclitics_join_the_bare_word_whichever_comes_first() -> None:
    for first, second in (("لتايوان", "تايوان"), ("تايوان", "بتايوان")):
        vocabulary = Vocabulary()
        assert vocabulary.count(first, "").ids == vocabulary.count(second, "").ids
    vocabulary = Vocabulary()
    assert vocabulary.count("بحر", "").ids != vocabulary.count("حر", "").ids  # too short


def test_a_name_written_as_one_word_or_two_shares_its_terms_in_headlines() -> None:
    vocabulary = Vocabulary()
    two_words = vocabulary.count("What is Bitcoin and where is Mt Gox?", "")
    one_word = vocabulary.count("Hackers hit web accounts of MtGox boss", "")
    assert not set(two_words.ids) & set(one_word.ids)  # plain terms: nothing shared
    split = vocabulary.headline_terms("Hackers hit web accounts of MtGox boss")
    joined = vocabulary.headline_terms("What is Bitcoin and where is Mt Gox?")
    assert set(two_words.ids) - {vocabulary.count("Bitcoin", "").ids[0]} <= split
    assert set(one_word.ids) & joined == set(vocabulary.count("MtGox", "").ids)


def test_a_compound_is_found_at_any_cut_of_the_word() -> None:
    """The name's first part need not be the shortest known prefix: "WalMart" is
    "wal" + "mart" only at its third letter, after "wa" (not a known word)."""
    vocabulary = Vocabulary()
    parts = vocabulary.count("Wal Mart opens", "").ids
    found = vocabulary.headline_terms("WalMart opens a store")
    assert set(parts) <= found


def test_headline_terms_add_nothing_where_no_compound_is_known() -> None:
    vocabulary = Vocabulary()
    vocabulary.count("Volcano erupts on Flores island", "")
    title = "Maumere airport closed by ash"
    assert vocabulary.headline_terms(title) == frozenset(vocabulary.count(title, "").ids)


def test_a_year_is_one_term_in_any_digits() -> None:
    # Four digits or more name a year or an amount; Arabic-Indic and Persian digits are
    # the same number as ASCII ones.
    assert terms("كأس العالم ٢٠٣٤") == terms("كأس العالم 2034") == terms("كأس العالم ۲۰۳۴")
    assert "2034" in terms("كأس العالم ٢٠٣٤") and terms("عام ٢٥") == ["عام"]
