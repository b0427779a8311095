"""Arabic month names of every region, rewritten to the names `dateparser` reads.

Arabic has three sets of month names in daily use (CLDR carries them all): the
Egyptian/Gulf transliterations of the Latin names (`ar`: يناير، يونيو), the Syriac names of
the Levant and Iraq (`ar_SY`, `ar_LB`, `ar_IQ`, `ar_JO`: كانون الثاني، حزيران، تشرين الأول)
and the French- or Spanish-derived names of the Maghreb (`ar_MA`, `ar_DZ`, `ar_TN`: جانفي،
جوان، يوليوز، غشت). dateparser knows only the first set, so a Levantine or Maghrebi date
would be unreadable; this module maps every name to the first set's name for its month.

The names are read from babel's CLDR data, not written out here, so a new CLDR release
brings its spellings along; loading the 29 Arabic locales costs about 0.15 s, so they are
loaded once, and only for a date the fast paths (ISO 8601, RFC 2822) could not read.
"""

from __future__ import annotations

from functools import lru_cache

import regex

#: Letters written with or without hamza or madda in everyday text (آذار, اذار; أيار, ايار).
_ALEF = "[اأإآ]"
_YEH = "[يى]"


def with_standard_months(text: str) -> str:
    """`text` with each Arabic month name of any region replaced by the standard
    (`ar`) name of that month; `text` itself when it has no Arabic letters."""
    if not _ARABIC.search(text):
        return text
    pattern, standard = _month_names()
    text = pattern.sub(lambda match: standard[_fold(match.group())], text)
    # Levantine papers write both names, "4 حزيران/يونيو 2024": now one name twice.
    return _TWICE.sub(r"\1", text)


_ARABIC = regex.compile(r"\p{Script=Arabic}")
#: A word repeated after a slash or in brackets: "يونيو/يونيو", "يونيو (يونيو)".
_TWICE = regex.compile(r"(?<!\p{L})(\p{L}+)\s*(?:/\s*\1|\(\s*\1\s*\))(?!\p{L})")


def _fold(name: str) -> str:
    """One spelling of a name: alef and yeh forms made one, words single-spaced."""
    name = regex.sub("[أإآ]", "ا", name)
    return " ".join(name.replace("ى", "ي").split())


@lru_cache(maxsize=1)
def _month_names() -> tuple[regex.Pattern[str], dict[str, str]]:
    """A pattern matching every CLDR Arabic month name (a whole word or words, the
    longest first, so كانون الثاني is one name and not كانون), and each folded name's
    standard spelling. A name that would stand for two months is left out."""
    from babel import Locale, localedata

    months: dict[str, set[int]] = {}
    for tag in localedata.locale_identifiers():
        if tag != "ar" and not tag.startswith("ar_"):
            continue
        names = Locale.parse(tag).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in names[context][width].items():
                    months.setdefault(_fold(name), set()).add(number)
    standard_names = Locale.parse("ar").months["format"]["wide"]
    standard = {
        name: standard_names[next(iter(numbers))]
        for name, numbers in months.items()
        if len(numbers) == 1
    }
    spellings = sorted(standard, key=len, reverse=True)
    alternatives = "|".join(_spelling_pattern(name) for name in spellings)
    return regex.compile(rf"(?<!\p{{L}})(?:{alternatives})(?!\p{{L}})"), standard


def _spelling_pattern(folded: str) -> str:
    """A folded name as a pattern for any of its spellings."""
    words = (
        "".join(_ALEF if c == "ا" else _YEH if c == "ي" else regex.escape(c) for c in word)
        for word in folded.split()
    )
    return r"\s+".join(words)
