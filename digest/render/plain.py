"""Plain text for the email: safe one-line values, display widths, clipping, wrapping.

Widths are display columns, not code points: Arabic harakat take none, East Asian wide
characters take two. A subject "within 78 characters" and text lines "wrapped at 78
columns" are measured this way.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3
import regex

from digest.characters import BREAKS, remove_not_text

#: Bidi embeddings/overrides/isolates and marks: they can reorder text visually.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C], None
)
_WHITESPACE = re.compile(r"\s+")
_URL = re.compile(r"^(https?|mailto):", re.IGNORECASE)
ELLIPSIS = "…"
#: A subdivision flag's tag sequence (U+1F3F4, tags, CANCEL TAG): checks must not count
#: its tag characters as hidden ones (see `digest.characters`).
TAG_SEQUENCE = regex.compile(r"\U0001F3F4[\U000E0020-\U000E007E]+\U000E007F")


def plain(value: str | None) -> str:
    """HTML made markup-free, entity-decoded, single-line text (see `clean_line`)."""
    if not value:
        return ""
    text = nh3.clean(value, tags=set(), strip_comments=True) if "<" in value else value
    return clean_line(html.unescape(text) if "&" in text else text)


def clean_line(value: str | None) -> str:
    """Plain text on one line, with no control, bidi or invisible format characters."""
    if not value:
        return ""
    text = remove_not_text(BREAKS.sub(" ", value.translate(_BIDI_CONTROLS)))
    return _WHITESPACE.sub(" ", text).strip()


#: Pictograph blocks: code points there that the Unicode tables do not know yet are
#: emoji added since, shown two columns wide.
_EMOJI_BLOCKS = ((0x1F000, 0x1FAFF), (0x1FC00, 0x1FFFD))


def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    if unicodedata.category(ch) == "Cn" and any(a <= ord(ch) <= b for a, b in _EMOJI_BLOCKS):
        return 2
    return 1


def display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(char_width(ch) for ch in text)


def _cut(text: str, width: int) -> tuple[str, str]:
    """The longest prefix of at most `width` columns (combining marks stay attached)."""
    used = 0
    for index, ch in enumerate(text):
        used += char_width(ch)
        if used > width:
            return text[:index], text[index:]
    return text, ""


def clip(text: str, width: int) -> str:
    """At most `width` columns, cut at a word boundary when one is near, with an ellipsis."""
    if display_width(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS if width == 1 else ""
    head, _ = _cut(text, width - 1)
    word_end = head.rfind(" ")
    if word_end >= len(head) * 2 // 3:
        head = head[:word_end]
    return head.rstrip(" ,;:·-—–،؛") + ELLIPSIS


def wrap(text: str, width: int = 78, indent: str = "", first_indent: str | None = None) -> str:
    """Greedy word wrap by display width; URLs are never broken, other long words are."""
    first = indent if first_indent is None else first_indent
    lines: list[str] = []
    line, used, empty = first, display_width(first), True
    for word in text.split():
        if not empty and used + 1 + display_width(word) > width:
            lines.append(line)
            line, used, empty = indent, display_width(indent), True
        if empty and used + display_width(word) > width and not _URL.match(word):
            while word and used + display_width(word) > width:
                head, word = _cut(word, max(width - used, 1))
                if not head:  # a wide character where one column is left
                    head, word = word[0], word[1:]
                lines.append(line + head)
                line, used = indent, display_width(indent)
            if not word:
                continue
        line += word if empty else " " + word
        used += display_width(word) + (0 if empty else 1)
        empty = False
    if not empty or not lines:
        lines.append(line)
    return "\n".join(item.rstrip() for item in lines)


def is_url_line(line: str) -> bool:
    return any(_URL.match(word) for word in line.split())
