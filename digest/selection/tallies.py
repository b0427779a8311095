"""Counting sources and reports over events' neighbourhoods, with numpy.

Coverage counts the distinct sources that report an event (DESIGN.md, Selection); an
event's keywords and its size count distinct reports, one source's copies of a report
once (`events.Events.keywords`): an outlet that posts a story three times has reported
it once.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from scipy import sparse


def numbered(values: Sequence[Hashable]) -> np.ndarray:
    """Each value as a number, 0, 1, ... in order of first appearance (int64)."""
    seen: dict[Hashable, int] = {}
    return np.array([seen.setdefault(value, len(seen)) for value in values], dtype=np.int64)


def sources_per_row(related: sparse.csr_matrix, sources: np.ndarray) -> list[int]:
    """For each row of `related` (articles by articles), how many distinct `sources`
    (`numbered`) its columns hold."""
    if not len(sources):
        return []
    width = int(sources.max()) + 2
    rows = np.repeat(np.arange(related.shape[0]), np.diff(related.indptr))
    pairs = np.sort(rows * width + sources[related.indices])
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # np.unique, faster
    return [int(n) for n in np.bincount(pairs // width, minlength=related.shape[0])]


def report_numbers(
    articles: np.ndarray, sources: np.ndarray, copies: np.ndarray | None
) -> np.ndarray:
    """A number per distinct report among `articles` (indexes): its source and
    near-duplicate group together, so one source's copies share one; each article its
    own where `copies` is None."""
    if copies is None:
        return articles
    return copies[articles] * (int(sources.max()) + 1) + sources[articles]


def terms_by_reports(
    articles: np.ndarray, reports: np.ndarray, ones: sparse.csr_matrix
) -> tuple[int, dict[int, int]]:
    """How many distinct `reports` (`report_numbers` of `articles`) there are, and for
    each term the articles' rows of `ones` (1 where an article has the term) carry, how
    many of those reports carry it."""
    distinct, report_of = np.unique(reports, return_inverse=True)
    by_report = sparse.csr_matrix(
        (np.ones(len(articles)), (report_of.ravel(), np.arange(len(articles)))),
        shape=(len(distinct), len(articles)),
    )
    carried = (by_report @ ones[articles]).tocsr()
    carried.sum_duplicates()
    terms, counts = np.unique(carried.indices, return_counts=True)
    return len(distinct), dict(zip(terms.tolist(), counts.tolist(), strict=True))
