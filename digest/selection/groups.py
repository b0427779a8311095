"""Near-duplicate groups: one event reported twice, a rewrite, a wire copy, an update.

Two articles whose key-term similarity (`graph.KeyGraph`) is at or above the threshold
are one report; groups are connected (a wire copy of a rewrite joins both), found as
connected components of that graph (scipy.sparse.csgraph). Every pair is compared, at
the cost of one sparse product, so a busy day's copies are all found.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import connected_components

from digest.selection.graph import KeyGraph
from digest.selection.similarity import Vector


def near_duplicate_groups(
    vectors: Sequence[Vector], threshold: float, graph: KeyGraph | None = None
) -> list[int]:
    """Group of each vector (in publication order): the index of its first member."""
    if not vectors:
        return []
    graph = graph or KeyGraph(vectors)
    _, labels = connected_components(graph.pairs(threshold), directed=False)
    first = np.full(int(labels.max()) + 1, len(vectors), dtype=np.int64)
    np.minimum.at(first, labels, np.arange(len(vectors)))
    return [int(n) for n in first[labels]]
