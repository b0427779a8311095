"""Many documents' vectors as the rows of one sparse matrix, and search over them.

A selection weighs about 11,000 documents. Building a pair of Python tuples for each
(`similarity.Vector`) took as long as computing their weights, and every search then
read them all again in a Python loop. Here the rows stay numpy arrays: a document's
`Vector` is built when something asks for its terms, and a search is one sparse matrix
product that finds the candidates, whose similarity is then `similarity.cosine`'s
(summed over the document's terms, heaviest first), so the same pair always gets the
same number however it was found.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import overload

import numpy as np
from scipy import sparse

from digest.selection.similarity import EMPTY, Vector, cosine

#: A product's sum may differ from the exact one in the last bits: candidates are taken
#: this far below the floor, then judged on the exact sum.
_SLACK = 1e-9

#: Queries are matched this many at a time (each block's results are dense: documents
#: x queries, 11,000 x 64 floats at most).
_BLOCK = 64


class VectorRows(Sequence[Vector]):
    """Vectors as CSR rows: `indptr` (documents + 1), `indices` (term ids) and `data`
    (weights), each row's terms heaviest first, as `Vector` holds them. Indexing gives
    a row's `Vector` (built once, then kept); slicing a contiguous run gives its rows."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self._built: list[Vector | None] = [None] * (len(indptr) - 1)

    def __len__(self) -> int:
        return len(self._built)

    def __iter__(self) -> Iterator[Vector]:
        return map(self.__getitem__, range(len(self._built)))

    @overload
    def __getitem__(self, key: int) -> Vector: ...

    @overload
    def __getitem__(self, key: slice) -> VectorRows: ...

    def __getitem__(self, key: int | slice) -> Vector | VectorRows:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                raise ValueError("VectorRows slices are contiguous (step 1)")
            return self.take(np.arange(start, max(start, stop), dtype=np.int64))
        built = self._built[key]
        if built is None:
            start, end = int(self.indptr[key]), int(self.indptr[key + 1])
            built = EMPTY
            if end > start:
                ids, weights = self.indices[start:end].tolist(), self.data[start:end].tolist()
                built = Vector(tuple(ids), tuple(weights))
            self._built[key] = built
        return built

    def take(self, numbers: np.ndarray) -> VectorRows:
        """The rows `numbers` (row numbers, int64), in that order."""
        if len(numbers) == len(self) and bool((numbers == np.arange(len(self))).all()):
            return self
        starts, ends = self.indptr[numbers], self.indptr[numbers + 1]
        lengths = ends - starts
        indptr = np.zeros(len(numbers) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        if len(numbers) and bool((numbers[1:] == numbers[:-1] + 1).all()):
            picked: slice | np.ndarray = slice(int(starts[0]), int(ends[-1]))  # a view
        else:
            picked = np.repeat(starts - indptr[:-1], lengths) + np.arange(int(indptr[-1]))
        return VectorRows(indptr, self.indices[picked], self.data[picked])

    def matrix(self, columns: int = 0) -> sparse.csr_matrix:
        """The rows as an n x terms CSR matrix (float64), at least `columns` wide, on
        copies of the arrays: scipy sorts a matrix's indices in place where an operation
        wants them sorted, which would reorder the vectors' terms (heaviest first)."""
        width = int(self.indices.max()) + 1 if len(self.indices) else 1
        arrays = (self.data.copy(), self.indices.copy(), self.indptr.copy())
        return sparse.csr_matrix(arrays, shape=(len(self), max(width, columns)))


def rows_of(vectors: Sequence[Vector]) -> VectorRows:
    """`vectors` as rows: themselves when they are rows already, else copied in."""
    if isinstance(vectors, VectorRows):
        return vectors
    lengths = np.fromiter((len(v.ids) for v in vectors), dtype=np.int64, count=len(vectors))
    indptr = np.zeros(len(vectors) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    total = int(indptr[-1])
    indices = np.fromiter(chain.from_iterable(v.ids for v in vectors), dtype=np.int64, count=total)
    data = np.fromiter(
        chain.from_iterable(v.weights for v in vectors), dtype=np.float64, count=total
    )
    found = VectorRows(indptr, indices, data)
    found._built = list(vectors)
    return found


def search(
    rows: VectorRows, queries: Sequence[Vector], floor: float, min_shared: int = 1
) -> list[list[tuple[int, float]]]:
    """For each query, (row number, similarity) of every row with similarity >= `floor`
    sharing at least `min_shared` terms with it, in row order; the similarity is
    `similarity.cosine`'s."""
    found: list[list[tuple[int, float]]] = [[] for _ in queries]
    if not len(rows) or not queries:
        return found
    queried = rows_of(queries)
    weights_of = [query.as_dict() for query in queries]
    columns = max(
        int(rows.indices.max()) + 1 if len(rows.indices) else 1,
        int(queried.indices.max()) + 1 if len(queried.indices) else 1,
    )
    weights = rows.matrix(columns)
    present = weights.copy()  # its own arrays too: never the rows' (see `matrix`)
    present.data[:] = 1.0
    for first in range(0, len(queries), _BLOCK):
        block = queried[first : first + _BLOCK].matrix(columns)
        ones = block.copy()
        ones.data[:] = 1.0
        similar = (weights @ block.T).toarray()
        shared = (present @ ones.T).toarray()
        wanted = (similar >= floor - _SLACK) & (shared >= max(min_shared, 1) - 0.5)
        for query, row in zip(*np.nonzero(wanted.T), strict=True):
            number = first + int(query)
            similarity = cosine(weights_of[number], rows[int(row)])
            if similarity >= floor:
                found[number].append((int(row), similarity))
    return found
