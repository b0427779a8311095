"""Telling a file's text encoding, in order:

- a byte-order mark (UTF-8, UTF-16, UTF-32);
- UTF-16 written without one: every other byte NUL (the ASCII of the header and the
  addresses), which is also valid UTF-8, so it is looked for first;
- UTF-8 when the bytes are valid UTF-8 throughout;
- the legacy encodings of the site's languages (Windows-1256, then ISO-8859-6 for
  Arabic; Windows-1252 for English), the first whose text is words of that language's
  script: bytes alone cannot tell three Arabic names among twenty Latin ones from Mac
  Roman (`⁄·Ì`), the site's languages can;
- else `charset-normalizer` among the legacy encodings of Western European text and of
  the site's languages, its guess refused when the text it gives is garbled: a file
  refused with a hint (UTF-8, or the encoding named) costs a minute, mojibake stored in
  thousands of greetings costs far more.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from typing import IO

from subscribers.errors import SubscriberError

#: Bytes read to guess the encoding.
ENCODING_SAMPLE = 1 << 20

#: Legacy (pre-Unicode) encodings spreadsheets still write, per language.
WESTERN = ("cp1252", "latin_1", "iso8859_15", "mac_roman", "utf_16_le", "utf_16_be")
LEGACY_ENCODINGS: dict[str, tuple[str, ...]] = {
    "ar": ("cp1256", "iso8859_6"),
    "fa": ("cp1256",),
    "ur": ("cp1256",),
    "he": ("cp1255", "iso8859_8"),
    "ru": ("cp1251", "koi8_r"),
    "uk": ("cp1251", "koi8_u"),
    "bg": ("cp1251",),
    "el": ("cp1253", "iso8859_7"),
    "tr": ("cp1254", "iso8859_9"),
    "pl": ("cp1250", "iso8859_2"),
    "cs": ("cp1250", "iso8859_2"),
    "hu": ("cp1250", "iso8859_2"),
    "ro": ("cp1250", "iso8859_16"),
    "vi": ("cp1258",),
    "th": ("cp874",),
    "ja": ("shift_jis", "euc_jp"),
    "zh": ("gb18030", "big5"),
    "ko": ("euc_kr",),
}

#: The script of a language's letters, as Unicode names them ("ARABIC LETTER AIN").
SCRIPTS = {
    "ar": "ARABIC",
    "fa": "ARABIC",
    "ur": "ARABIC",
    "he": "HEBREW",
    "ru": "CYRILLIC",
    "uk": "CYRILLIC",
    "bg": "CYRILLIC",
    "el": "GREEK",
    "th": "THAI",
    **dict.fromkeys(("tr", "pl", "cs", "hu", "ro", "vi"), "LATIN"),
}
#: Languages in Latin letters whose legacy encoding is Windows-1252.
WESTERN_LANGUAGES = frozenset(
    "en fr de es it pt nl da sv no nb nn fi is ga ca eu gl id ms sw af".split()
)
#: What may stand between words in any language's text besides ASCII: punctuation
#: (« » ، ’ —), spaces, currency signs, digits, and the joiners and direction marks
#: Arabic and Persian text carries.
_BETWEEN_WORDS = frozenset(("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Sc", "Nd"))
_JOINERS = frozenset("\u200c\u200d\u200e\u200f")
#: A run of ASCII letters and other characters holding at least one of the others:
#: all that needs a look (the ASCII between is neither a clue nor a problem).
_NOT_ASCII = re.compile(r"[A-Za-z\x80-\U0010ffff]*[\x80-\U0010ffff][A-Za-z\x80-\U0010ffff]*")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(stream: IO[bytes], name: str, languages: tuple[str, ...] = ()) -> str:
    """A Python codec name for the file's bytes (the stream is left anywhere)."""
    head = stream.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    stream.seek(0)
    utf16 = _utf16_without_bom(stream.read(ENCODING_SAMPLE))
    if utf16:
        return utf16
    stream.seek(0)
    if _is_utf8(stream):
        return "utf-8"
    stream.seek(0)
    sample = stream.read(ENCODING_SAMPLE)
    preferred = _preferred(languages)
    for encoding, script in preferred:
        if _reads_as(_decoded(sample, encoding), script):
            return encoding
    from charset_normalizer import from_bytes

    candidates = list(WESTERN)
    for language in languages:
        candidates.extend(LEGACY_ENCODINGS.get(_code(language), ()))
    best = from_bytes(sample, cp_isolation=candidates).best()
    if best is None:
        raise SubscriberError(
            f"{name}: cannot tell the file's text encoding (is it a CSV file?); save it as "
            "CSV in UTF-8 and import it again, or name its encoding with --encoding "
            "(nothing imported)"
        )
    # Its guess is only as good as the text it gives: garbled words mean it is unsure.
    text = str(best)
    if any(_reads_as(text, script) is not None for script in {"LATIN", *dict(preferred).values()}):
        return best.encoding
    raise SubscriberError(
        f"{name}: cannot tell the file's text encoding for sure: it is not UTF-8, and read "
        f"as {shown_encoding(best.encoding)} its text would be garbled; save it as CSV in "
        "UTF-8 and import it again, or name its encoding with --encoding (nothing imported)"
    )


def _code(language: str) -> str:
    return language.split("-")[0].lower()


def _preferred(languages: tuple[str, ...]) -> list[tuple[str, str]]:
    """(encoding, script) of the site's languages, to try before any guess, those of
    non-Latin scripts first: Windows-1252 reads almost any byte as some Latin letter
    (Arabic's `علي` as `Úáí`), while Windows-1256 seldom reads Western text as Arabic
    words alone."""
    others: list[tuple[str, str]] = []
    latin: list[tuple[str, str]] = []
    for language in languages:
        code = _code(language)
        script = SCRIPTS.get(code) or ("LATIN" if code in WESTERN_LANGUAGES else None)
        if script is None:
            continue  # CJK: their multi-byte encodings are charset-normalizer's to tell
        encodings = LEGACY_ENCODINGS.get(code, ("cp1252",))
        (latin if script == "LATIN" else others).extend((e, script) for e in encodings)
    return list(dict.fromkeys(others + latin))


def _decoded(sample: bytes, encoding: str) -> str:
    try:
        return sample.decode(encoding)
    except UnicodeDecodeError:
        return ""


def _reads_as(text: str, script: str) -> bool | None:
    """How `text` reads as the site's text in `script`: True if it holds words of that
    script, False if it holds none but nothing wrong either, None if it is garbled (a
    control character or symbol, a word mixing scripts, a word of accented Latin letters
    only as `Úáí`). ASCII words, and Latin words with accents, may stand among the
    others: names and addresses mix them."""
    found = False
    for run in _NOT_ASCII.findall(text):
        words = [""]
        for char in run:
            kind = _kind(char)
            if kind == "letter":
                words[-1] += char
            elif kind == "between":
                words.append("")
            else:
                return None
        for word in words:
            verdict = _word_of(word, script)
            if verdict is None:
                return None
            found = found or verdict
    return found


@functools.cache
def _kind(char: str) -> str:
    """ "letter" (ASCII in a run is one), "between" (punctuation, space...) or "other"."""
    category = unicodedata.category(char)
    if char.isascii() or category[0] in "LM":
        return "letter"
    return "between" if category in _BETWEEN_WORDS or char in _JOINERS else "other"


def _word_of(word: str, script: str) -> bool | None:
    """True for a word of `script` with letters beyond ASCII, False for a harmless one (a
    Latin word with accents, a lone accented letter as French `à`), None for mojibake."""
    foreign = [char for char in word if not char.isascii()]
    if not foreign:
        return False
    scripts = {unicodedata.name(char, "?").split(" ")[0] for char in foreign}
    if len(foreign) < len(word):  # ASCII letters too: only accents belong among them
        return (script == "LATIN") if scripts == {"LATIN"} else None
    if scripts == {script} and (script != "LATIN" or len(word) == 1):
        return True
    if scripts == {"LATIN"} and len(word) == 1:
        return False
    return None


def _utf16_without_bom(sample: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 written without a byte-order mark, else None.

    A CSV file is mostly ASCII (the header, the addresses), which UTF-16 writes as the
    character and a NUL byte: a NUL in at least a quarter of the odd (LE) or even (BE)
    bytes and almost never in the others. It must be told before UTF-8 is tried, since
    ASCII with NULs is valid UTF-8."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even, odd = sample[0 : 2 * pairs : 2].count(0), sample[1 : 2 * pairs : 2].count(0)
    for encoding, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros * 4 >= pairs and others * 20 <= zeros:
            try:
                text = codecs.getincrementaldecoder(encoding)().decode(sample[: 2 * pairs])
            except UnicodeDecodeError:
                return None
            return encoding if "\0" not in text else None
    return None


def _is_utf8(stream: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def shown_encoding(encoding: str) -> str:
    """The codec's usual name: "utf-8", "utf-16", "windows-1256", "iso-8859-1"."""
    if encoding == "utf-8-sig":
        return "utf-8 (with BOM)"
    normal = codecs.lookup(encoding).name
    if normal.startswith("cp125"):
        return "windows-" + normal[2:]
    return {"latin-1": "iso-8859-1", "iso8859-1": "iso-8859-1"}.get(normal, normal)
