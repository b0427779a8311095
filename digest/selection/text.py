"""Text for matching only: normalise, tokenise, drop stop words, strip light affixes.

Nothing here changes what readers see; it decides which words two articles share.

- Unicode-aware: a word is a run of letters or digits in any script (`[^\\W_]+`), after
  NFKC for compatibility forms (Arabic presentation forms, full-width Latin) and with
  invisible format characters (zero-width joiners, bidi marks, soft hyphens) removed.
- Arabic normalisation: tashkeel (diacritics) and tatweel removed; أ إ آ ٱ → ا,
  ة → ه, ى → ي (and the Persian-keyboard ی ک → ي ك), so spelling variants match.
- English: the Snowball (Porter2) stemmer via PyStemmer, so "erupts" and "eruption",
  "Iceland" and "Icelandic" meet (on the labelled pairs of bench/related_eval.py it
  raised same-event partners found in the top 3 from 11 of 12 to 12 of 12 in English).
- Arabic: light stemming, not aggressive stemming: "light10" (Larkey et al. 2007:
  the conjunction و, the article forms ال وال بال كال فال لل, and common suffixes, here
  removed until none is left, so a nisba adjective and its noun, إيراني and إيران,
  meet). English demonyms join their place when both occur (Iranian and Iran, Syrian
  and Syria: `similarity.Vocabulary`). Aggressive stemmers conflate unrelated words,
  and the Snowball Arabic stemmer stems spelling variants of one word differently once
  they are normalised, which defeats the point.
- "U.S." and "US" are one word; numbers of fewer than four digits are not words (days,
  counts, chapter numbers say little about which story an article tells), longer ones
  are: a year or an amount names an event ("World Cup 2034"; on bench/related_eval.py's
  Arabic pairs, same-event partners found 9/12 -> 10/12). Arabic-Indic and Persian
  digits are read as ASCII ones, so ٢٠٣٤ and 2034 are one term.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from html import unescape
from typing import NamedTuple

import Stemmer

from digest.selection import stopwords

_WORD = re.compile(r"[^\W_]+")
_WORD_OR_LINE_END = re.compile(r"[^\W_]+|\x01")
_ARABIC = re.compile("[\u0600-\u06ff]")
_COMPATIBILITY = re.compile("[\ufb00-\ufdff\ufe70-\ufeff\uff00-\uffef]")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
#: Tashkeel, Quranic marks and tatweel (U+0640).
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06ed]")
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_ARABIC_LETTER_FORMS = (
    ("أ", "ا"),
    ("إ", "ا"),
    ("آ", "ا"),
    ("ٱ", "ا"),
    ("ة", "ه"),
    ("ى", "ي"),
    ("ی", "ي"),
    ("ک", "ك"),
)
_DOTTED_ACRONYM = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_ACRONYM_HINT = re.compile(r"\.[A-Za-z]\.")
_TAGS = re.compile(r"<[^>]*>")
#: Typographic punctuation with a plain ASCII twin: English text becomes ASCII, whose
#: words a byte-level split finds several times faster than a Unicode regular expression.
_TYPOGRAPHY = (
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u201c", '"'),
    ("\u201d", '"'),
    ("\u2013", "-"),
    ("\u2014", "-"),
    ("\u2026", "."),
    ("\u00a0", " "),
)
LINE_END = "\x01"
_ASCII_NON_WORD = bytes(b for b in range(128) if not chr(b).isalnum())
_ASCII_SPLIT = bytes.maketrans(_ASCII_NON_WORD, b" " * len(_ASCII_NON_WORD))
_ASCII_SPLIT_LINES = bytes.maketrans(
    _ASCII_NON_WORD.replace(LINE_END.encode(), b""), b" " * (len(_ASCII_NON_WORD) - 1)
)

_ARABIC_ARTICLES = ("وال", "بال", "كال", "فال", "لل", "ال")
_ARABIC_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
#: The tens are their unit with -ون/-ين (خمسة five, خمسون/خمسين fifty): light10 would
#: strip the ending and make fifty five. Each tens word stems to its -ون form instead.
_TENS = "عشرون ثلاثون أربعون خمسون ستون سبعون ثمانون تسعون"


def normalise(text: str) -> str:
    """Casefolded text with Arabic spelling variants made equal; for matching only."""
    if not text.isascii():
        for fancy, simple in _TYPOGRAPHY:
            if fancy in text:
                text = text.replace(fancy, simple)
    if _ACRONYM_HINT.search(text):
        text = _DOTTED_ACRONYM.sub(lambda match: match.group().replace(".", ""), text)
    if text.isascii():
        return text.casefold()
    if _COMPATIBILITY.search(text):
        text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).casefold()
    if _ARABIC.search(text):
        text = _ARABIC_MARKS.sub("", text)
        for variant, plain in _ARABIC_LETTER_FORMS:
            text = text.replace(variant, plain)
        text = text.translate(_EASTERN_DIGITS)  # ٢٠٣٤ and ۲۰۳۴ are 2034
    return text


def plain(html: str) -> str:
    """Sanitised summary HTML as words: tags become spaces, entities are decoded."""
    if "<" in html:
        html = _TAGS.sub(" ", html)
    if "&" in html:
        html = unescape(html)
    return html


def stem(word: str) -> str:
    """Light stem of a normalised word (English S-stemmer, Arabic light10)."""
    if word.isascii():
        return _english_stem(word)
    if _ARABIC.match(word):
        return _arabic_stem(word)
    return word


_SNOWBALL = Stemmer.Stemmer("english")
#: No cache: a selection stems each of its tens of thousands of new words once, and
#: filling PyStemmer's cache cost three times the stemming itself.
_SNOWBALL.maxCacheSize = 0


def _english_stem(word: str) -> str:
    return _SNOWBALL.stemWord(word)


def stem_all(words: list[str]) -> list[str]:
    """`stem` of each word; English words stemmed in one call to the C stemmer."""
    english = [word for word in words if word.isascii()]
    if len(english) == len(words):  # all English: the stems in order
        return list(_SNOWBALL.stemWords(english))
    stems = dict(zip(english, _SNOWBALL.stemWords(english), strict=True))
    return [stems[word] if word in stems else stem(word) for word in words]


def _arabic_stem(word: str) -> str:
    if len(word) >= 4 and word[0] == "و":
        word = word[1:]
    for article in _ARABIC_ARTICLES:
        if word.startswith(article) and len(word) - len(article) >= 2:
            word = word[len(article) :]
            break
    tens = _ARABIC_TENS.get(word)
    if tens is not None:
        return tens
    stripped = None
    while stripped != word:  # until stable, so إيراني (Iranian) and إيران end alike
        stripped = word
        for suffix in _ARABIC_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 2:
                word = word[: -len(suffix)]
    return word


def _normalised_words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(normalise(text)))


_ARABIC_TENS = {
    form: normalise(tens)
    for tens in _TENS.split()
    for form in (normalise(tens), normalise(tens)[:-2] + "ين")
}

#: Normalised stop words of both languages (a constant, built once at import).
STOP_WORDS: frozenset[str] = _normalised_words(stopwords.ENGLISH) | _normalised_words(
    stopwords.ARABIC
)


def is_term(word: str) -> bool:
    """Whether a normalised word can say what a story is about."""
    return len(word) >= 2 and word not in STOP_WORDS and (len(word) >= 4 or not word.isdigit())


def words(text: str) -> list[str]:
    """The normalised words of a text, stop words still in (callers map them to terms)."""
    normalised = normalise(text)
    if normalised.isascii():
        return normalised.encode("ascii").translate(_ASCII_SPLIT).decode("ascii").split()
    return _WORD.findall(normalised)


def words_of_lines(lines: Iterable[str]) -> list[str]:
    """`words` of many short texts at once, normalised in one pass; each text's words
    are followed by `LINE_END`."""
    return words_of_joined_lines(joined_lines(lines))


def joined_lines(lines: Iterable[str]) -> str:
    """Short texts as one: each (`LINE_END` in it spelt as a space) then " LINE_END "."""
    return "".join(f"{line.replace(LINE_END, ' ')} {LINE_END} " for line in lines)


def words_of_joined_lines(joined: str) -> list[str]:
    """`words_of_lines` of texts already joined as `joined_lines` joins them."""
    joined = normalise(joined)
    if joined.isascii():
        return joined.encode("ascii").translate(_ASCII_SPLIT_LINES).decode("ascii").split()
    return _WORD_OR_LINE_END.findall(joined)


def terms(text: str) -> list[str]:
    """The matching terms of a text, in order: what two articles can share."""
    return [stem(word) for word in words(text) if is_term(word)]


class WordCounts(NamedTuple):
    """A document's distinct term words (normalised, not stemmed; words that are not
    terms, `is_term`, left out), in order of first appearance, and how often each occurs.

    What the term cache stores: stemming and term ids are decided by each selection's
    vocabulary, so the cache does not depend on them.
    """

    words: tuple[str, ...]
    counts: tuple[int, ...]


class PackedWords(NamedTuple):
    """`WordCounts` as the term cache stores them (`pack`): the words space-separated,
    the counts as little-endian unsigned 16-bit integers. Many documents' are read back
    in one pass (`batch_vectors.vectors_of`), not one tuple per document. `ids`: each
    word's number in the `models.Word` table, little-endian unsigned 32-bit integers in
    the order of `words`, where the cache stored them (None where the words were
    counted from the text now)."""

    words: str
    counts: bytes
    ids: bytes | None = None

    def unpack(self) -> WordCounts:
        numbers = array("H")
        numbers.frombytes(self.counts)
        if sys.byteorder == "big":
            numbers.byteswap()
        return WordCounts(tuple(self.words.split(" ")) if self.words else (), tuple(numbers))


def pack(words: WordCounts) -> PackedWords:
    """The stored form of `words`; ValueError for a count above 65,535 (a matching text
    is a few hundred words: it cannot happen)."""
    counts = array("H", words.counts)
    if sys.byteorder == "big":
        counts.byteswap()
    return PackedWords(" ".join(words.words), counts.tobytes())


def word_counts(texts: Sequence[str]) -> list[WordCounts]:
    """`WordCounts` of each text, every text normalised on its own (so a text's words do
    not depend on the texts read with it); ASCII texts, most news in Latin script, are
    normalised and split in one pass."""
    tallies: list[Counter[str]] = [Counter() for _ in texts]
    ascii_numbers = [number for number, text in enumerate(texts) if text.isascii()]
    if ascii_numbers:
        joined = normalise(LINE_END.join(texts[n].replace(LINE_END, " ") for n in ascii_numbers))
        lines = joined.encode("ascii").translate(_ASCII_SPLIT_LINES).decode("ascii")
        for number, line in zip(ascii_numbers, lines.split(LINE_END), strict=True):
            tallies[number].update(line.split())
    for number, text in enumerate(texts):
        if not text.isascii():
            tallies[number].update(words(text))
    # Whether a word is a term is decided once per distinct word, not once per text.
    seen: set[str] = set()
    for tally in tallies:
        seen.update(tally)
    not_terms = frozenset(word for word in seen if not is_term(word))
    found = []
    for tally in tallies:
        for word in not_terms.intersection(tally):
            del tally[word]
        found.append(WordCounts(tuple(tally), tuple(tally.values())))
    return found
