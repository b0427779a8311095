"""What a language's script and Unicode CLDR say about names: place names, calendar words.

`names` tells names from other words. In a script with letter case it reads capitals,
and needs to know the words capitalised by rule that name nothing (days and months, in
English). In a script without case (Arabic) it can only know names from a list: the
countries, territories and cities CLDR names in the language, and in Arabic the short
names and nisba adjectives of its countries, made from CLDR's names by rule (the news
writes السعودية and البنك المركزي التركي, not CLDR's المملكة العربية السعودية and
تركيا). Both come from CLDR through Babel, so they are maintained, and nothing is
downloaded at run time.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, NamedTuple

from digest.selection.text import normalise, stem

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where it is first needed: a selection imports this module (through
# `similarity`) and most never read a name.

#: Scripts with letter case: a capital inside a sentence marks a name.
_CASED_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn"})
#: Languages whose spelling capitalises every noun: capitals say nothing of names.
_NOUNS_CAPITALISED = frozenset({"de", "gsw", "lb", "nds"})
#: One-letter Arabic proclitics (and, with, to, so, as), before a place name.
_PROCLITICS = frozenset("وبلفك")
_WORD = re.compile(r"\w+")
#: A city of one word this short is kept only in the zones of these regions, where the
#: news of the languages served happens (دبي, عدن): elsewhere CLDR's exemplar cities
#: spell common words, Nome (نوم, "sleep") and Chuuk (ترك, "he left").
_SHORT_CITY = 3
_SHORT_CITY_REGIONS = ("Africa/", "Asia/", "Europe/")
#: Where CLDR adds a qualifier to a name ("الكونغو - كينشاسا", "جزر كوكوس (كيلينغ)").
_QUALIFIER = re.compile(r"\s+[-\u2013]\s+|\s*\(")
#: Words of CLDR's Arabic country names that give the state's form (kingdom, republic,
#: democratic...) or call it Arab, which the news leaves out: المملكة العربية السعودية
#: is السعودية; and "United Arab" as a whole (الإمارات العربية المتحدة is الإمارات),
#: while the United Kingdom and the United States keep their "United".
_STATE_FORM = frozenset(
    normalise(word)
    for word in (
        "المملكة جمهورية الجمهورية دولة الديمقراطية الشعبية الاتحادية الإسلامية العربية"
    ).split()
)
_UNITED_ARAB = normalise("العربية المتحدة")
#: What no short name is left of: المملكة المتحدة, الولايات المتحدة, الأمم المتحدة.
_UNITED = normalise("المتحدة")
#: Endings of an Arabic nisba adjective: none (masculine), feminine, sound plurals.
_NISBA_ENDINGS = ("", "ه", "ون", "ين")


class ArabicCountryForms(NamedTuple):
    """How Arabic news writes its countries besides CLDR's names (`arabic_country_forms`),
    normalised (`text.normalise`)."""

    #: A country's name without the words of its state's form: السعوديه, الامارات.
    short_names: frozenset[str]
    #: The nisba adjective with the article, in any ending (التركي, التركيه,
    #: المصريون), and a name CLDR writes without the article with it (البيرو:
    #: `_takes_article`), to the country's name (تركيا, مصر, السعوديه, بيرو); a
    #: one-letter proclitic may precede it (والتركيه, للتركيه).
    defined: Mapping[str, str]
    #: The adjective without the article, feminine or plural (تركيه, مصريون), to the
    #: country, with no proclitic: a bare masculine adjective is as often a name (تركي
    #: is Turki), and a letter before a bare one as often a word's own (فروسيه is
    #: horsemanship, not ف + روسيه).
    bare: Mapping[str, str]
    #: Each country's one-word or short name, by its CLDR code.
    countries: Mapping[str, str]


def capitals_mark_names(language: str) -> bool | None:
    """Whether a capital letter inside a sentence marks a name in `language`: True for a
    cased script (Latin, Cyrillic, Greek, Armenian) whose spelling does not capitalise
    every noun (German does), False otherwise, None for a language CLDR does not know."""
    from babel.core import get_global

    base = language.replace("-", "_").split("_")[0].lower()
    if base in _NOUNS_CAPITALISED:
        return False
    likely = get_global("likely_subtags").get(base)
    if not likely:
        return None
    return likely.split("_")[1] in _CASED_SCRIPTS


@cache
def gazetteer(language: str) -> Mapping[str, tuple[tuple[str, ...], ...]]:
    """The countries, territories and cities of Unicode CLDR as `language` writes them
    (territory names and the time zones' exemplar cities), by first word: first word ->
    the words after it, one tuple per name (empty for a name of one word). A name with a
    qualifier also counts without it. In Arabic, the countries' short names and nisba
    adjectives with the article too (`arabic_country_forms`). Empty for a language CLDR
    does not know."""
    locale = _locale(language)
    if locale is None:
        return {}
    found = set(_territories(locale))
    if locale.language == "ar":
        forms = arabic_country_forms()
        found |= forms.short_names | forms.defined.keys()
    found.update(city for city, _ in _zone_cities(language))
    by_first: dict[str, set[tuple[str, ...]]] = {}
    for name in found:
        for part in {name, _QUALIFIER.split(name)[0]}:
            words = _WORD.findall(part)
            if words:
                by_first.setdefault(words[0], set()).add(tuple(words[1:]))
    return {first: tuple(sorted(rests)) for first, rests in by_first.items()}


#: Zones of the tz database that are no place: its placeholder, and the system's own.
_NOT_PLACES = frozenset({"Factory", "localtime"})


@cache
def _zone_cities(language: str) -> tuple[tuple[str, str], ...]:
    """The time zones' exemplar cities as `language` writes them, normalised, each with
    its zone: of one word and at most `_SHORT_CITY` letters only in the zones of
    `_SHORT_CITY_REGIONS`."""
    from babel.dates import get_timezone_location

    locale = _locale(language)
    if locale is None:
        return ()
    found = []
    for zone in sorted(zoneinfo.available_timezones() - _NOT_PLACES):
        try:
            # A ZoneInfo, not the zone's name: from a name babel builds a pytz zone,
            # reading each of 600 files, 0.2 s per process (an Arabic edition pays it).
            where = zoneinfo.ZoneInfo(zone)
            city = normalise(get_timezone_location(where, locale=locale, return_city=True))
        except (LookupError, ValueError, OSError):
            continue
        if " " in city or len(city) > _SHORT_CITY or zone.startswith(_SHORT_CITY_REGIONS):
            found.append((city, zone))
    return tuple(found)


#: Cities CLDR files under one country that the news writes for other things too:
#: القدس is a city whose status is disputed, and the name of a force (فيلق القدس), a
#: brigade and a newspaper; it marks no country.
_NO_COUNTRY_MARK = frozenset({normalise("القدس")})


@cache
def arabic_cities() -> Mapping[str, str | None]:
    """Arabic cities of one word (`_zone_cities`), normalised, each to its country as the
    news writes it (its one-word or short name, `arabic_country_forms`), or None.

    Two uses. `similarity.Vocabulary` gives a city word (with its proclitics: بالرياض)
    a term of its own, not its light stem's, which it shares with common words and
    names (الرياض and الرياضة "sport" or رياض, a first name, stem alike; القاهرة and
    قاهر). And `articles related` counts a city's country beside the city: Arabic news
    names a government by its capital (الرياض تمدد خفض الإنتاج; another report:
    السعودية تعلن). No country for a country without a name of one word (الولايات
    المتحدة), for a country spelt as a city (عمان: Oman, and Amman, Jordan's capital),
    for a city spelt as a country (عمان again), or for `_NO_COUNTRY_MARK`."""
    from babel.core import get_global

    countries = arabic_country_forms().countries
    locale = _locale("ar")
    named = set(_territories(locale)) | set(countries.values()) if locale else set()
    cities = {city for city, _ in _zone_cities("ar") if " " not in city}
    territories = get_global("zone_territories")
    found: dict[str, str | None] = {}
    for city, zone in _zone_cities("ar"):
        if " " in city or city in named:
            continue
        country = countries.get(territories.get(zone, ""))
        if country in cities or city in _NO_COUNTRY_MARK:
            country = None
        if found.get(city) is None:  # an alias zone (Europe/Kiev) has no country
            found[city] = country
    return found


def city_of(word: str) -> str | None:
    """The city of `arabic_cities` that the normalised Arabic `word` writes, with up to
    two one-letter proclitics (بالرياض, وللقاهرة), or None."""
    return _first_word(word, arabic_cities())


def _territories(locale: Locale) -> list[str]:
    """The countries and territories (not world regions) of `locale`, normalised
    (`text.normalise`: casefolded, Arabic hamza and vowel marks made plain, so إيران,
    ايران and عُمان, عمان are one)."""
    return [normalise(name) for code, name in locale.territories.items() if code.isalpha()]


@cache
def arabic_country_forms() -> ArabicCountryForms:
    """The short names and nisba adjectives of the countries CLDR names in Arabic. Most
    Arabic reports name a country by its adjective (المركزي التركي, the Turkish central
    bank) or a short name (السعودية), so without them a report of Turkey's rate rise and
    one of Russia's named no country at all, and light stemming leaves تركيا and
    التركية apart (تركيا, ترك). The adjective is made by the regular rule (a final ا or
    ة gives way to ي, otherwise ي is added: تركيا تركي, فرنسا فرنسي, مصر مصري), from a
    name of one word or a short name; an irregular one (نمساوي) is missed, a name that
    ends in ي (مالي) is its own adjective, and one whose words are all of the state's
    form (المملكة المتحدة) has none. Some adjectives also spell other words once
    normalised, and are read as the country: a surname (السوداني), اليمنى ("right",
    whose ى is read as ي), الرومانية (Roman)."""
    locale = _locale("ar")
    short_names: set[str] = set()
    defined: dict[str, str] = {}
    bare: dict[str, str] = {}
    countries: dict[str, str] = {}
    for code, name in locale.territories.items() if locale else ():
        words = _QUALIFIER.split(name)[0].split()
        kept = [
            word
            for word in normalise(" ".join(words)).replace(_UNITED_ARAB, "").split()
            if word not in _STATE_FORM
        ]
        if not code.isalpha() or len(kept) != 1 or _UNITED in kept:
            continue
        country = countries[code] = kept[0]
        if len(words) > 1:
            short_names.add(country)
        elif _takes_article(country):
            defined.setdefault(f"ال{country}", country)
        adjective = _nisba(words[0] if len(words) == 1 else country)
        if adjective is None:
            continue
        for ending in _NISBA_ENDINGS:
            defined.setdefault(f"ال{adjective}{ending}", country)
            if ending:
                bare.setdefault(f"{adjective}{ending}", country)
    return ArabicCountryForms(frozenset(short_names), defined, bare, countries)


#: One-word country names whose form with the article is a common word: البنين (the
#: boys), القطر (the region; the diameter).
_ARTICLE_IS_A_WORD = frozenset(normalise(name) for name in ("بنين", "قطر"))


def _takes_article(name: str) -> bool:
    """Whether a one-word country name (normalised) that CLDR writes without the article
    is the country with it as well: news writes البيرو, النيبال, الهندوراس as often as
    بيرو, نيبال, هندوراس (a breaker pass: an earthquake in البيرو named no country, and
    another in Iran was listed as its related report). Not a name that has the article
    already, nor one that ends in ي, whose form with the article is an adjective's
    (مالي, المالي "the financial"), nor one of `_ARTICLE_IS_A_WORD`."""
    return not name.startswith("ال") and not name.endswith("ي") and name not in _ARTICLE_IS_A_WORD


def _nisba(name: str) -> str | None:
    """The regular nisba adjective of a country's one-word Arabic name, normalised
    (`arabic_country_forms`), or None for a name that ends in ي."""
    base = normalise(name.removeprefix("ال"))  # not the ال of ألمانيا, normalised
    if base.endswith("ي"):
        return None
    if base.endswith(("يه", "يا")):
        return base[:-1]
    if base.endswith(("ا", "ه")):
        return base[:-1] + "ي"
    return base + "ي"


def country_of(word: str) -> str | None:
    """The country (its one-word or short name, normalised) whose nisba adjective the
    normalised Arabic `word` is (`arabic_country_forms`), or None: `similarity.
    Vocabulary` counts the adjective as its country, not as the light stem it may share
    with a common word (ترك, "he left"; سور, "a wall")."""
    forms = arabic_country_forms()
    if word in forms.bare:
        return forms.bare[word]
    found = _first_word(word, forms.defined)
    return None if found is None else forms.defined[found]


@cache
def bare_country_stems() -> frozenset[str]:
    """Stems of the Arabic names of countries of one word without the article (مصر,
    قطر, تونس): a one-letter proclitic on one (بمصر, لقطر) is the country, however
    short the stem (`similarity.Vocabulary` joins them)."""
    locale = _locale("ar")
    if locale is None:
        return frozenset()
    stems = (stem(name) for name in _territories(locale) if " " not in name)
    return frozenset(found for found in stems if len(found) >= 3 and not found.startswith("ال"))


def place_words(text: str, language: str) -> set[str]:
    """The words of `text` that write a place of `gazetteer(language)`, normalised
    (`text.normalise`) and with their proclitics (وبمصر is a place), the later words of a
    name of several included when the whole name is there; in Arabic, the bare
    adjectives of `arabic_country_forms` as well."""
    known = gazetteer(language)
    found: set[str] = set()
    if not known:
        return found
    text = normalise(text)
    bare = _bare_adjectives(language)
    for word in set(_WORD.findall(text)):
        if word in bare:
            found.add(word)
            continue
        first = _first_word(word, known)
        if first is None:
            continue
        for rest in known[first]:
            if not rest:
                found.add(word)
            elif f"{word} {' '.join(rest)}" in text:
                found.add(word)
                found.update(rest)
    return found


@lru_cache(maxsize=65536)
def headline_places(title: str, language: str) -> frozenset[str]:
    """The places a headline names, each as one name (normalised, without proclitics):
    an adjective or short name as its country (التركي, السعودية: تركيا, السعوديه), a
    city as itself and its country (`arabic_cities`), another place by its first word.
    Two headlines that both name places and none in common tell two events, where names
    are not read by capitals (an edition's `places_apart`)."""
    found: set[str] = set()
    known = gazetteer(language)
    for word in place_words(title, language):
        country = country_of(word)
        city = None if country else city_of(word)
        if country:
            found.add(country)
        elif city:
            found.add(city)
            found.add(arabic_cities()[city] or city)
        else:
            found.add(_first_word(word, known) or word)
    return frozenset(found)


@cache
def _bare_adjectives(language: str) -> Mapping[str, str]:
    """`ArabicCountryForms.bare` for Arabic, else nothing."""
    locale = _locale(language)
    return arabic_country_forms().bare if locale and locale.language == "ar" else {}


def _first_word(word: str, known: Mapping[str, object]) -> str | None:
    """`word`, or `word` without up to two proclitics (لل before a name that starts with
    ال), if it is a first word of `known`."""
    for cut in range(min(3, len(word))):
        if cut and word[cut - 1] not in _PROCLITICS:
            return None
        rest = word[cut:]
        if rest in known:
            return rest
        if rest.startswith("لل") and f"ا{rest[1:]}" in known:
            return f"ا{rest[1:]}"
    return None


@cache
def calendar_words(language: str) -> frozenset[str]:
    """Names of the days and months in `language`, casefolded (Unicode CLDR, through
    Babel, full names only: "Mar" and "Sun" are names as often): capitalised in
    English, and shared by every event of the same Sunday. Empty for a language CLDR
    does not know."""
    locale = _locale(language)
    if locale is None:
        return frozenset()
    found: set[str] = set()
    for table in (locale.days, locale.months):
        for context in table.values():
            found.update(name.casefold() for name in context.get("wide", {}).values())
    return frozenset(found)


def _locale(language: str) -> Locale | None:
    """The CLDR locale of a language tag ("ar", "en-GB"), or None if unknown."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
