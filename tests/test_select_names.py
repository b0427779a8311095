"""Names and figures told from the rest of a text, and the facet cosine built on them."""

from __future__ import annotations

import pytest

from digest.selection.corpus import Corpus
from digest.selection.names import (
    by_capitals,
    facet_cosine,
    headline_names,
    name_words,
    names,
    names_and_nouns,
)
from digest.selection.places import (
    arabic_cities,
    calendar_words,
    capitals_mark_names,
    country_of,
    gazetteer,
    headline_places,
    place_words,
)
from digest.selection.similarity import Vector, Vocabulary
from digest.selection.text import normalise


def test_a_capital_inside_a_sentence_is_a_name_and_a_sentence_s_first_word_is_not() -> None:
    text = (
        'The Coast Guard said the rig burned. "We are hopeful," a BP spokesman said at '
        "10pm.\nSurvivors reached Venice, Louisiana, after $4.7bn of damage in 2010. It "
        "rained. HERAT, Afghanistan - Powerful tremors hit. Mr. Smith and Dr. Jones of "
        "the U.S. Geological Survey agreed."
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
        "Afghanistan",
        "Smith",
        "Dr",
        "Jones",
        "U",
        "S",
        "Geological",
        "Survey",
    ]


def test_weekdays_and_months_are_not_names_and_their_short_forms_may_be() -> None:
    vocabulary = Vocabulary()
    found = names(vocabulary, "Rescuers in Velmora worked on Sunday and in March.", "en", True)
    assert set(vocabulary.words_of(found)) == {"velmora"}
    assert {"sunday", "march"} <= calendar_words("en")
    assert not {"sun", "mar", "jan"} & calendar_words("en")  # Zinda Jan, the Sun
    assert calendar_words("not a language") == frozenset()


def test_the_language_says_whether_capitals_mark_names() -> None:
    assert capitals_mark_names("en") and capitals_mark_names("en-GB")
    assert capitals_mark_names("fr") and capitals_mark_names("ru")
    assert capitals_mark_names("ar") is False  # no letter case
    assert capitals_mark_names("de") is False  # every noun is capitalised
    assert capitals_mark_names("xx") is None
    # An Arabic report quoting an English post in its summary is still Arabic.
    assert not by_capitals("ar", "UN envoy: Derna needs help now. قال المبعوث")
    assert by_capitals("xx", "The Coast Guard said") and not by_capitals("xx", "قالت شبكة")


def test_arabic_names_are_places_and_figures() -> None:
    vocabulary = Vocabulary()
    text = "ضرب زلزال في 2024 جنوب مصر وشعر به سكان القاهرة وللصين موقف"
    found = names(vocabulary, text, "ar", False)
    # A place behind a proclitic (وللصين: "and to China") is a place; words are not.
    assert found == frozenset(vocabulary.count("", "2024 مصر القاهرة الصين").ids)


def test_cldr_places_are_whole_names() -> None:
    known = gazetteer("ar")
    for place in ("مصر", "قطر", "باكستان", "الصين", "السودان", "القاهره", "دبي"):
        assert () in known[place], place
    # A name of several words is a place only whole: المملكة ("kingdom") and دار
    # ("house") alone are not; a world region (العالم, "the world") is no place.
    # (Names are kept normalised: ة is written ه.)
    assert ("العربيه", "السعوديه") in known["المملكه"] and () not in known["المملكه"]
    assert "العالم" not in known and "في" not in known
    text = "زار الرئيس المملكة العربية السعودية ثم المملكة الجديدة في دار السلام"
    assert place_words(text, "ar") == {"المملكه", "العربيه", "السعوديه", "دار", "السلام"}
    assert place_words("ملك المملكة", "ar") == set()
    assert gazetteer("ar-EG") == known and gazetteer("") == {}


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


def test_names_past_the_first_characters_read_are_not_read() -> None:
    vocabulary = Vocabulary()
    text = "Rescuers searched the rubble in Velmora. " + "the search went on. " * 300
    far = names(vocabulary, text + "Then Ostrava sent help.", "en", True)
    assert set(vocabulary.words_of(far)) == {"velmora"}


def test_a_hyphenated_name_names_its_capitalised_parts() -> None:
    text = "Un incendie a frappé les Bouches-du-Rhône et Aix-en-Provence hier."
    assert name_words(text) == ["Bouches", "Rhône", "Aix", "Provence"]


def test_a_text_in_capitals_or_title_case_is_read_for_places_and_figures() -> None:
    vocabulary = Vocabulary()
    shouted = (
        "WORLD LEADERS AGREE A CLIMATE DEAL IN PARIS, FRANCE IN 2015 AFTER TALKS. "
        "DELEGATES CHEERED AS THE TEXT WAS ADOPTED."
    )
    found = names(vocabulary, shouted, "en", True)
    assert set(vocabulary.words_of(found)) == {"paris", "france", "2015"}
    assert set(vocabulary.words_of(names(vocabulary, shouted.lower(), "en", True))) == {"2015"}
    titled = names(vocabulary, shouted.title(), "en", True)
    assert titled == found


def test_arabic_places_are_whole_plain_and_not_short_native_words() -> None:
    known = gazetteer("ar")
    # Vowel marks and hamza seats are read plain: عُمان is عمان, إيران is ايران.
    assert place_words("زار عُمان وإيران", "ar") == {"عمان", "وايران"}
    # Exemplar cities of three letters that spell common words are left out: Nome
    # (نوم, "sleep"), Chuuk (ترك, "he left").
    assert "نوم" not in known and "ترك" not in known


def test_a_country_behind_a_one_letter_proclitic_is_the_country() -> None:
    # بمصر ("in Egypt") and مصر are one term however short, as long stems with a
    # proclitic are; a short native word is not split (بحر is "sea", not ب + حر).
    vocabulary = Vocabulary()
    first = vocabulary.count("", "مصر قطر")
    second = vocabulary.count("", "بمصر لقطر بحر")
    assert set(first.ids) < set(second.ids) and len(set(second.ids)) == 3


def test_a_word_written_only_in_lower_case_is_a_noun_and_one_written_both_ways_a_name() -> None:
    vocabulary = Vocabulary()
    named_once = "A ship hit the Harlow Bridge in Penmarrow. The bridge carried cars."
    noun_only = "A barge struck the old road bridge in Tessel, and the span fell."
    own, own_nouns = names_and_nouns(vocabulary, named_once, "en", True)
    theirs, their_nouns = names_and_nouns(vocabulary, noun_only, "en", True)
    (bridge,) = vocabulary.count("", "bridge").ids
    assert bridge in own and bridge not in theirs
    assert bridge not in own_nouns and bridge in their_nouns
    assert own == names(vocabulary, named_once, "en", True)
    # where names are not read by capitals (Arabic), no word is taken for a noun
    assert names_and_nouns(vocabulary, noun_only, "en", False)[1] == frozenset()


def test_a_headline_s_places_and_figures_are_names_where_capitals_are_not_read() -> None:
    vocabulary = Vocabulary()
    summary = "رفعت الحكومة أسعار البنزين منتصف الليل."
    headline = "الأردن يرفع أسعار الوقود 5 في المئة"
    found = names_and_nouns(vocabulary, summary, "ar", False, headline=headline)[0]
    assert found == frozenset(vocabulary.count("", "الأردن 5").ids)
    assert names_and_nouns(vocabulary, summary, "ar", False)[0] == frozenset()
    # An English headline capitalises every word: its capitals name nothing.
    english = names_and_nouns(
        vocabulary,
        "The government raised fuel prices.",
        "en",
        True,
        headline="Jordan Raises Fuel Prices",
    )[0]
    assert english == frozenset()


def test_an_arabic_country_is_named_by_its_short_name_and_its_adjective() -> None:
    text = "قال البنك المركزي التركي إن السعودية والإمارات وبالسعودية للمصريين"
    assert place_words(text, "ar") == {
        "التركي",
        "السعوديه",
        "والامارات",
        "وبالسعوديه",
        "للمصريين",
    }
    # ألمانيا's ال is not the article: its adjective is ألماني.
    assert place_words("المنتخب الألماني", "ar") == {"الالماني"}
    # A name of several words with no word of a state's form has no short form, nor
    # has one of a "United" (الأمم المتحدة, الولايات المتحدة, المملكة المتحدة).
    assert place_words("كوريا وحدها", "ar") == set()
    assert place_words("كأس الأمم في الولايات المتأرجحة المتحدة", "ar") == set()
    # A bare masculine adjective is as often a name (تركي is Turki), and a letter
    # before a bare adjective is as often part of a word (فروسية is horsemanship).
    assert place_words("تركي آل الشيخ في بطولة فروسية وبكيني", "ar") == set()
    assert place_words("طائرة روسية", "ar") == {"روسيه"}


def test_an_arabic_country_s_adjective_is_the_country_s_term_and_no_common_word_s() -> None:
    # Light stemming leaves تركيا and التركية apart (تركيا, ترك) and joins the
    # adjective to ترك ("he left") and السوري to سور ("a wall").
    vocabulary = Vocabulary(arabic_places=True)
    (turkey,) = vocabulary.count("", "تركيا").ids
    (syria,) = vocabulary.count("", "سوريا").ids
    assert set(vocabulary.count("", "التركية والتركي للتركية").ids) == {turkey}
    assert set(vocabulary.count("", "السوري السوريون").ids) == {syria}
    assert not {turkey, syria} & set(vocabulary.count("", "ترك سور").ids)
    # A world region has no adjective here: العالمية is not العالم's.
    assert country_of("العالميه") is None
    assert country_of("للسعوديين") == "السعوديه"


def test_a_country_cldr_writes_without_the_article_is_the_country_with_it() -> None:
    # News writes البيرو as often as CLDR's بيرو: an earthquake in البيرو named no
    # country, and another in Iran was listed as its related report (a breaker pass).
    assert country_of(normalise("البيرو")) == country_of(normalise("بالبيرو")) == "بيرو"
    assert country_of(normalise("والنيبال")) == "نيبال"
    assert headline_places("زلزال بقوة 7.1 درجات يضرب جنوب البيرو", "ar") == {"بيرو"}
    # ... but not where the form with the article is another word: المالي ("the
    # financial"), البنين ("the boys"), القطر ("the region").
    for word in ("المالي", "البنين", "القطر"):
        assert country_of(normalise(word)) is None, word


def test_an_arabic_city_is_in_its_country_and_a_term_of_its_own() -> None:
    found = arabic_cities()
    assert found["الرياض"] == "السعوديه" and found["دبي"] == "الامارات"
    assert found["القاهره"] == "مصر" and found["بغداد"] == "العراق"
    # whatever the order of their zones' aliases (Europe/Kiev has no country)
    assert found["كييف"] == "اوكرانيا" and found["موسكو"] == "روسيا"
    # عمان is Amman and Oman: no city; Oman (Muscat's) is spelt as a city: no country
    assert "عمان" not in found and found["مسقط"] is None
    assert found["القدس"] is None
    # A city word is its own term, not its light stem's: الرياضة ("sport") and رياض (a
    # first name) stem as الرياض does, and تمسك is not Tomsk.
    vocabulary = Vocabulary(arabic_places=True)
    (riyadh,) = vocabulary.count("", "الرياض").ids
    assert set(vocabulary.count("", "بالرياض وللرياض").ids) == {riyadh}
    assert riyadh not in vocabulary.count("", "الرياضة رياض التمسك").ids
    # An edition's corpus reads words by their light stems alone.
    edition = Corpus([]).vocabulary
    assert len(set(edition.count("", "الرياض الرياضة").ids)) == 1
    assert len(set(edition.count("", "تركيا التركية").ids)) == 2


def test_a_headline_names_its_capitalised_words_its_figures_and_arabic_places() -> None:
    vocabulary = Vocabulary()
    # Sentence case: capitals past the first word are names; "fires" is not one.
    found = headline_names(vocabulary, "Saka double fires Arsenal past Porto in 3-1 win", "en")
    assert found == frozenset(vocabulary.count("", "Arsenal Porto 3-1").ids)
    # Title case: capitals tell nothing, so only figures and places are names.
    title = "Nightclub Fire Kills 59 In North Macedonia"
    assert headline_names(vocabulary, title, "en") == frozenset(
        vocabulary.count("", "59 North Macedonia").ids
    )
    # Arabic: places and figures only ("collapse" and "truce" are no names).
    arabic = headline_names(vocabulary, "انهيار الهدنة في غزة ومقتل 400", "ar")
    assert arabic == frozenset(vocabulary.count("", "غزة 400").ids)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_zones_exemplar_cities_are_those_babel_gives_for_the_zones_names(
    language: str,
) -> None:
    """The cities are read with a ZoneInfo for each zone (babel would build a pytz
    zone from each name, 0.2 s per process): the same cities as from the names, the
    tz database's two zones that are no place left out."""
    import zoneinfo

    from babel import Locale
    from babel.dates import get_timezone_location

    from digest.selection.places import _SHORT_CITY, _SHORT_CITY_REGIONS, _zone_cities
    from digest.selection.text import normalise

    locale = Locale.parse(language)
    by_name = set()
    for zone in zoneinfo.available_timezones() - {"Factory", "localtime"}:
        try:
            city = normalise(get_timezone_location(zone, locale=locale, return_city=True))
        except (LookupError, ValueError):
            continue
        if " " in city or len(city) > _SHORT_CITY or zone.startswith(_SHORT_CITY_REGIONS):
            by_name.add((city, zone))
    found = set(_zone_cities(language))
    assert len(found) > 300
    assert found == by_name
