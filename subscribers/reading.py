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
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise SubscriberError(f"{name}: unknown text encoding {encoding!r}") from None
    with _binary(path) as (stream, size):
        encoding = encoding or detect_encoding(stream, name, languages)
        stream.seek(0)
        # Undecodable bytes are kept as lone surrogates, so the error can name its line.
        text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
        delimiter = sniff_delimiter(text.read(DIALECT_SAMPLE))
        text.seek(0)
        try:
            yield Source(name, stream, size, shown_encoding(encoding), delimiter, text)
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
