"""Opening an import file as people have it: any common encoding, any common separator.

- Encoding: a byte-order mark, UTF-16 without one, UTF-8, else a guess that takes the
  site's languages into account (see `encodings`). The choice is reported, so a wrong
  guess shows.
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

from subscribers.encodings import detect_encoding, shown_encoding
from subscribers.errors import SubscriberError

#: Undecodable bytes become lone surrogates, so the error can name their line.
DECODE_ERRORS = "surrogateescape"
#: Characters read to guess the separator.
DIALECT_SAMPLE = 1 << 16
SEPARATORS = ",;\t|"
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}


@dataclass
class Source:
    """An open import file: its bytes (for progress), its text, and how it was read."""

    name: str
    stream: IO[bytes]
    size: int
    encoding: str
    delimiter: str
    text: IO[str]
    #: True when the encoding was guessed from the file, False when it was named.
    guessed: bool = True

    @property
    def separator_name(self) -> str:
        return SEPARATOR_NAMES.get(self.delimiter, repr(self.delimiter))

    def dialect(self) -> type[csv.Dialect]:
        class Chosen(csv.excel):
            delimiter = self.delimiter

        return Chosen


@contextmanager
def open_source(
    path: str | Path, languages: tuple[str, ...] = (), encoding: str | None = None
) -> Iterator[Source]:
    """The file ("-": standard input) decoded, in `encoding` if given (a guess cannot be
    sure of every file); SubscriberError naming the file if it cannot be read or its
    encoding cannot be told."""
    name = "<stdin>" if str(path) == "-" else str(path)
    guessed = encoding is None
    if encoding is not None:
        encoding = text_encoding(name, encoding)
    with _binary(path) as (stream, size):
        encoding = encoding or detect_encoding(stream, name, languages)
        stream.seek(0)
        # Undecodable bytes are kept as lone surrogates, so the error can name its line.
        text = io.TextIOWrapper(stream, encoding=encoding, errors=DECODE_ERRORS, newline="")
        shown = shown_encoding(encoding)
        try:
            delimiter = sniff_delimiter(text.read(DIALECT_SAMPLE))
        except UnicodeError:
            raise SubscriberError(not_text(name, None, shown, guessed)) from None
        text.seek(0)
        try:
            yield Source(name, stream, size, shown, delimiter, text, guessed)
        finally:
            text.detach()


def text_encoding(name: str, encoding: str) -> str:
    """The codec name of an encoding a user named, if it decodes bytes to text with
    `DECODE_ERRORS`; SubscriberError naming the file and the encoding if not (rot13 and
    base64 turn bytes into bytes, idna refuses the error handler, undefined decodes
    nothing)."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise SubscriberError(f"{name}: unknown text encoding {encoding!r}") from None
    usable = getattr(codec, "_is_text_encoding", True)
    if usable:
        try:
            codecs.getincrementaldecoder(codec.name)(errors=DECODE_ERRORS).decode(b"", final=True)
        except (UnicodeError, ValueError, TypeError, LookupError):
            usable = False
    if not usable:
        raise SubscriberError(
            f"{name}: {encoding!r} is not a text encoding a CSV file can be read in; name "
            "the file's character set, as utf-8 or cp1256 (nothing imported)"
        )
    return codec.name


def not_text(name: str, line: int | None, encoding: str, guessed: bool) -> str:
    """The message for bytes that do not decode in the file's encoding (on `line`, if
    known)."""
    where = f"{name}: line {line}" if line is not None else name
    if guessed:
        return (
            f"{where}: not {encoding} text (the encoding guessed from the file); save the "
            "file as CSV in UTF-8 and import it again (nothing imported)"
        )
    return (
        f"{where}: not {encoding} text (the encoding given); name the file's encoding, or "
        "save it as CSV in UTF-8 and import it again (nothing imported)"
    )


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
