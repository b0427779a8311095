"""Every similar pair of a window's articles at once, as sparse matrix products (scipy).

Pairs are compared over each article's `KEY_TERMS` heaviest terms, re-normalised: the
cosine of the truncated vectors, and how many of those terms the two share. The heaviest
terms carry what an article is about; the light ones are the words every story uses,
which would make the product nearly dense (10,000 x 10,000, seconds of work). Over key
terms one product takes about a tenth of a second where a Python loop over pairs would
take minutes, and every pair is found (no sampling, no hashing): the result is exact
for the truncated vectors and the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from digest.selection.similarity import Vector
from digest.selection.vector_rows import rows_of

#: Pairs are compared over each article's this many heaviest terms.
KEY_TERMS = 12


def matrix(vectors: Sequence[Vector], width: int | None = None) -> sparse.csr_matrix:
    """Rows of term weights, one per vector (n x terms, float64), each row's terms in
    the vector's order (heaviest first)."""
    return rows_of(vectors).matrix(width or 0)


def leading(rows: sparse.csr_matrix, terms: int) -> sparse.csr_matrix:
    """`rows` (from `matrix`: each row's terms heaviest first) cut to each row's first
    `terms` entries, re-normalised to length 1: the vectors' heaviest terms, without
    reading the vectors again."""
    lengths = np.minimum(np.diff(rows.indptr), terms)
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    keep = np.arange(int(indptr[-1])) - np.repeat(indptr[:-1] - rows.indptr[:-1], lengths)
    data = rows.data[keep]
    if len(data):
        norms = np.sqrt(np.add.reduceat(data * data, indptr[:-1][lengths > 0]))
        data = data / np.repeat(norms, lengths[lengths > 0])
    return sparse.csr_matrix((data, rows.indices[keep], indptr), shape=rows.shape)


class KeyGraph:
    """Similarity (`similar`) and shared key terms (`shared`) of every pair of `vectors`
    sharing at least one key term; both n x n CSR with the same pattern, sorted indices."""

    def __init__(self, vectors: Sequence[Vector]) -> None:
        #: Every vector's terms, one row each (`matrix`): kept for the event tests.
        self.rows = matrix(vectors)
        keys = leading(self.rows, KEY_TERMS).astype(np.float32)  # halves the memory
        ones = keys.copy()
        ones.data[:] = 1.0
        # The two products at once, on two cores: scipy's sparse product holds no lock
        # on Python's interpreter, and each takes half the graph's time.
        with ThreadPoolExecutor(1) as pool:
            shared = pool.submit(_sorted_gram, ones)
            self.similar = _sorted_gram(keys)
            self.shared = shared.result()
        self.size = len(vectors)

    def pairs(self, floor: float, min_shared: int = 1) -> sparse.csr_matrix:
        """1.0 where two articles are at least `floor` similar sharing `min_shared` key
        terms (each article with itself included)."""
        similar = self.similar  # filtered in place of adding an identity matrix (faster)
        rows = np.repeat(np.arange(self.size), np.diff(similar.indptr))
        itself = similar.indices == rows
        keep = itself | (similar.data >= floor - 1e-6) & (self.shared.data >= min_shared)
        indptr = np.concatenate(([0], np.cumsum(np.bincount(rows[keep], minlength=self.size))))
        found = sparse.csr_matrix(
            (np.ones(int(indptr[-1])), similar.indices[keep], indptr), shape=similar.shape
        )
        if int(itself.sum()) < self.size:  # an article with no key terms is not in `similar`
            found = (found + sparse.identity(self.size, format="csr")).tocsr()
            found.data[:] = 1.0
        found.sort_indices()
        return found


def _sorted_gram(rows: sparse.csr_matrix) -> sparse.csr_matrix:
    """`rows @ rows.T` as CSR with sorted indices. The product comes with each row's
    columns unsorted, and sorting them row by row took twice the product's time; the
    product is symmetric, so its transpose (the same arrays read as CSC) converted to
    CSR is the product again, with indices sorted by the conversion's counting pass."""
    gram = (rows @ rows.T).T.tocsr()
    gram.sort_indices()  # a check only: the conversion sorted them
    return gram
