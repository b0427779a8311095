"""What is text: one rule for every field a reader sees (titles, subjects, text parts).

Removed: controls (Cc), format characters (Cf: bidi embeddings, overrides, isolates and
marks, zero-width space, BOM), private use (Co), surrogates (Cs) and non-characters, read
from the `regex` package's Unicode tables, which are newer than the runtime's
`unicodedata`: an emoji added after the runtime's Unicode version is text and stays.

Kept: ZWNJ and ZWJ (they shape Arabic and Persian and join emoji sequences), and the tag
characters of an emoji tag sequence (a subdivision flag: U+1F3F4, tags, CANCEL TAG; Unicode
TS #51 §2.4). A tag character anywhere else is invisible and goes.
"""

from __future__ import annotations

from functools import cache

import regex

_TAG_SEQUENCE = r"\U0001F3F4[\U000E0020-\U000E007E]+\U000E007F"


@cache
def _not_text(keep: str) -> regex.Pattern[str]:
    allowed = regex.escape(keep) if keep else ""
    return regex.compile(
        rf"({_TAG_SEQUENCE})|(?![{allowed}\u200c\u200d])"
        r"[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}]"
    )


def _keep_sequence(match: regex.Match[str]) -> str:
    return match.group(1) or ""


def remove_not_text(value: str, keep: str = "") -> str:
    """`value` without the characters that are not text (see the module docstring).

    `keep` names control characters the caller handles itself (tab and newline in a body).
    """
    return _not_text(keep).sub(_keep_sequence, value)


#: Controls (tab, newline, NUL...) and line and paragraph separators: a single-line value
#: turns them into spaces, so "Null\x00byte" does not become "Nullbyte".
BREAKS = regex.compile(r"[\p{Cc}\p{Zl}\p{Zp}]")


def one_line(value: str) -> str:
    """`value` as one line of text: breaks become spaces, non-text goes, spaces collapse."""
    return " ".join(remove_not_text(BREAKS.sub(" ", value)).split())


def storable_text(text: str) -> str:
    """Text any database stores: a lone surrogate (a byte a decoder escaped, as
    aiosmtplib escapes a relay's greeting) becomes "?" instead of failing the commit
    it rides in (one outcome's error would lose a whole batch of outcomes)."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


def escaped(value: str) -> str:
    """`value` to echo in a one-line message: as given, or its repr when it holds a
    character that is not printable (a CR or LF would split the line, an ESC drive the
    terminal)."""
    return value if value.isprintable() else repr(value)
