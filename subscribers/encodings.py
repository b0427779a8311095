"""Telling a file's text encoding, in order:

- a byte-order mark (UTF-8, UTF-16, UTF-32);
- UTF-16 written without one: every other byte NUL (the ASCII of the header and the
  addresses), which is also valid UTF-8, so it is looked for first;
- UTF-8 when the bytes are valid UTF-8 throughout;
- else `charset-normalizer` among the legacy encodings of Western European text and of
  the site's languages (Windows-1256 for Arabic, ...): a short file cannot tell Arabic
  from Chinese by its bytes alone, the site's languages can.
"""

from __future__ import annotations

import codecs
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
    from charset_normalizer import from_bytes

    candidates = list(WESTERN)
    for language in languages:
        candidates.extend(LEGACY_ENCODINGS.get(language.split("-")[0].lower(), ()))
    best = from_bytes(stream.read(ENCODING_SAMPLE), cp_isolation=candidates).best()
    if best is None:
        raise SubscriberError(
            f"{name}: cannot tell the file's text encoding (is it a CSV file?); save it as "
            "CSV in UTF-8 and import it again (nothing imported)"
        )
    return best.encoding


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
