"""The size budget: Gmail clips an HTML part past ~102 KB, so we stay under 100 KB.

What counts is the HTML part as sent: its encoded bytes (base64 for non-ASCII text,
quoted-printable otherwise, CRLF lines), after personalisation. An edition that does not
fit is rendered again with less in it, following a fixed ladder, so the result is
predictable and always whole documents (nothing is ever cut mid-tag):

1. summaries shortened to 400 characters;
2. related items reduced one per story at a time, down to one;
3. summaries shortened to 160 characters, then no related items;
4. no summaries;
5. stories dropped from the end, down to one.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import TypeVar

from digest.errors import RenderError
from digest.render.context import Limits

#: Encoded bytes of the HTML part, the most we send.
HTML_LIMIT = 100_000
#: Room left for per-recipient values (greeting, unsubscribe URL, address) once encoded.
PERSONALISATION_MARGIN = 3_000
BUDGET = HTML_LIMIT - PERSONALISATION_MARGIN

T = TypeVar("T")


def encoded_size(text: str) -> int:
    """Bytes of `text` as a UTF-8 MIME body: base64 if non-ASCII, else quoted-printable."""
    data = text.replace("\r\n", "\n").encode("utf-8")
    if data.isascii():
        encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
        return len(encoded) + encoded.count(b"\n")
    length = (len(data) + 2) // 3 * 4
    lines = (length + 75) // 76
    return length + 2 * max(lines - 1, 0)


def ladder(stories: int, related: int) -> list[Limits]:
    """Every trimming step for an edition of this shape, fullest first, no duplicates."""
    steps = [Limits(), Limits(summary=400)]
    steps += [Limits(related=r, summary=400) for r in range(related - 1, 0, -1)]
    steps += [Limits(related=min(related, 1), summary=160), Limits(related=0, summary=160)]
    steps.append(Limits(related=0, summary=0))
    steps += [Limits(stories=n, related=0, summary=0) for n in range(stories - 1, 0, -1)]
    unique: list[Limits] = []
    for step in steps:
        if step not in unique:
            unique.append(step)
    return unique


def fit(
    render: Callable[[Limits], T],
    size: Callable[[T], int],
    steps: list[Limits],
    budget: int = BUDGET,
) -> tuple[T, Limits]:
    """The fullest rendering within budget (binary search: sizes shrink down the ladder)."""
    first = render(steps[0])
    if size(first) <= budget:
        return first, steps[0]
    low, high = 1, len(steps) - 1
    best: tuple[T, Limits] | None = None
    while low <= high:
        middle = (low + high) // 2
        result = render(steps[middle])
        if size(result) <= budget:
            best = (result, steps[middle])
            high = middle - 1
        else:
            low = middle + 1
    if best is None:
        raise RenderError(
            f"the edition's HTML does not fit in {HTML_LIMIT // 1000} KB even with one story "
            "and no summaries",
            hint="check the templates for large fixed content",
        )
    return best
