"""Whole texts for `digest articles related`: summary and body, without a site's boilerplate.

A site repeats lines in every body: a footer ("The Marrowby Gazette is published by
..."), a newsletter plea, "Advertisement", a standard description in place of a
summary. Read as words they are rare in the news and shared by every report of that
site, so two unrelated reports of one site would look related. A line (a paragraph of
the body, or the summary) found in two or more articles of one source is that source's
boilerplate and is not read: template detection by blocks repeated across a site's
pages (Bar-Yossef and Rajagopalan, "Template detection via data mining and its
applications", WWW 2002). Between sources a repeated line is news, not boilerplate: a
wire story run by two outlets is the same report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from digest.selection.similarity import FULL_CHARS
from digest.selection.terms import SUMMARY_CHARS
from digest.selection.text import plain

#: (headline, summary HTML, body) of an article.
Texts = tuple[str, str, str]


def _lines(summary: str, body: str) -> list[str]:
    """The summary (as text) and the body's non-empty lines, as read."""
    found = [plain(summary[: SUMMARY_CHARS + FULL_CHARS])]
    found += body[:FULL_CHARS].splitlines()
    return [line.strip() for line in found if line.strip()]


def _key(line: str) -> str:
    return " ".join(line.split()).casefold()


def whole_texts(texts: Mapping[int, Texts], sources: Mapping[int, str]) -> dict[int, str]:
    """Article id -> its text beyond the headline (summary then body, `FULL_CHARS` at
    most) without the lines two or more articles of its source share, among `texts`
    (id -> (headline, summary HTML, body)); `sources` gives each id's source."""
    lines = {number: _lines(summary, body) for number, (_, summary, body) in texts.items()}
    seen: Counter[tuple[str, str]] = Counter()
    for number, found in lines.items():
        source = sources.get(number, "")
        seen.update({(source, _key(line)) for line in found})
    kept = {}
    for number, found in lines.items():
        source = sources.get(number, "")
        text = " ".join(line for line in found if seen[(source, _key(line))] < 2)
        kept[number] = text[:FULL_CHARS]
    return kept
