"""Opening an import file as people have it: any common encoding, any common separator.

- Encoding: a byte-order mark decides (UTF-8, UTF-16, UTF-32); else a file that is valid
  UTF-8 throughout is UTF-8; else `charset-normalizer` chooses, from the bytes, among the
  legacy encodings of Western European text and of the site's languages (Windows-1256
  for Arabic, ...): a short file cannot tell Arabic from Chinese by its bytes alone, the
  site's languages can. The choice is reported, so a wrong guess shows.
- Separator: the csv module's `Sniffer` on the first lines, among comma, semicolon, tab
  and bar (what spreadsheets in different locales write); a comma when it cannot tell.
- Quoted fields may hold separators and line breaks (RFC 4180 section 2).
Standard input is copied to a temporary file first: guessing needs a second look.
"""

from __future__ import annotations

import codecs
import csv
import io
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from subscribers.errors import SubscriberError

#: Bytes read to guess the encoding, and characters to guess the separator.
ENCODING_SAMPLE = 1 << 20
DIALECT_SAMPLE = 1 << 16
SEPARATORS = ",;\t|"
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}

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


@dataclass
class Source:
    """An open import file: its bytes (for progress), its text, and how it was read."""

    name: str
    stream: IO[bytes]
    size: int
    encoding: str
    delimiter: str
    text: IO[str]

    @property
    def separator_name(self) -> str:
        return SEPARATOR_NAMES.get(self.delimiter, repr(self.delimiter))

    def dialect(self) -> type[csv.Dialect]:
        class Chosen(csv.excel):
            delimiter = self.delimiter

        return Chosen


@contextmanager
def open_source(path: str | Path, languages: tuple[str, ...] = ()) -> Iterator[Source]:
    """The file ("-": standard input) decoded; SubscriberError naming the file if it
    cannot be read or its encoding cannot be told."""
    name = "<stdin>" if str(path) == "-" else str(path)
    with _binary(path) as (stream, size):
        encoding = detect_encoding(stream, name, languages)
        stream.seek(0)
        # Undecodable bytes are kept as lone surrogates, so the error can name its line.
        text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
        delimiter = sniff_delimiter(text.read(DIALECT_SAMPLE))
        text.seek(0)
        try:
            yield Source(name, stream, size, _shown_encoding(encoding), delimiter, text)
        finally:
            text.detach()


@contextmanager
def _binary(path: str | Path) -> Iterator[tuple[IO[bytes], int]]:
    if str(path) == "-":
        with tempfile.TemporaryFile() as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy)
            size = copy.tell()
            copy.seek(0)
            yield copy, size
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise SubscriberError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SubscriberError(f"{path}: is a folder, not a CSV file") from None
    except OSError as e:
        raise SubscriberError(f"{path}: cannot read: {e.strerror}") from None
    with stream:
        try:
            size = Path(path).stat().st_size
        except OSError:
            size = 0
        yield stream, size


def detect_encoding(stream: IO[bytes], name: str, languages: tuple[str, ...] = ()) -> str:
    """A Python codec name for the file's bytes (the stream is left anywhere)."""
    head = stream.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
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


def _is_utf8(stream: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1 << 20):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _shown_encoding(encoding: str) -> str:
    """The codec's usual name: "utf-8", "utf-16", "windows-1256", "iso-8859-1"."""
    if encoding == "utf-8-sig":
        return "utf-8 (with BOM)"
    normal = codecs.lookup(encoding).name
    if normal.startswith("cp125"):
        return "windows-" + normal[2:]
    return {"latin-1": "iso-8859-1", "iso8859-1": "iso-8859-1"}.get(normal, normal)


def sniff_delimiter(sample: str) -> str:
    """The separator of a CSV sample (whole lines only), or a comma when unclear."""
    sample = sample.lstrip("\ufeff")
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    if 0 < cut < len(sample) - 1:
        sample = sample[:cut]
    first_line = sample.splitlines()[0] if sample else ""
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        delimiter = ""
    if delimiter and delimiter in first_line:
        return delimiter
    # The header row names the columns; its most frequent separator is the best guess.
    counts = {candidate: first_line.count(candidate) for candidate in SEPARATORS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","
