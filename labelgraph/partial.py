"""Statistics that add up (SPEC §6): the ``(n, M, N)`` of disjoint chunks sum to those of their union.

A reader that yields its label matrix chunk by chunk (rows of a CSV, row groups of a
Parquet file, shards of a dataset) turns each chunk into a :class:`PartialStatistics`
with :meth:`PartialStatistics.of` and adds them up; peak memory is one chunk plus
``nnz(M)``, never ``N``.  The integers are the same, bit for bit, as those of the
whole matrix at once (:func:`labelgraph.stats.cooccurrence_counts`).

Partials whose label vocabularies differ (label names discovered shard by shard) add
up over the union of their labels, in order of first appearance; :meth:`PartialStatistics.reorder`
puts them in the reader's final order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .errors import DataError
from .stats import cooccurrence_counts

__all__ = ["PartialStatistics", "sum_partials"]


@dataclass(frozen=True, eq=False)
class PartialStatistics:
    """``n``, ``M`` (zero diagonal) and ``N`` of some samples, over named labels; ``a + b`` sums them.

    Attributes
    ----------
    labels : tuple of str, the columns of ``n`` and ``M``
    n : ndarray of int64, per-label sample counts
    M : csr_matrix of int64, pairwise co-occurrence counts, zero diagonal, sorted indices
    num_samples : int, samples seen (with or without a label)
    empty : int, samples seen that carry no label
    files : tuple of dict, provenance of the chunks (path, sha256 …), in the order added

    Examples
    --------
    >>> a = PartialStatistics.of([[1, 1], [1, 0]], ["cat", "dog"])
    >>> b = PartialStatistics.of([[1, 1], [0, 0]], ["cat", "dog"])
    >>> total = a + b
    >>> total.n.tolist(), total.M.toarray().tolist(), total.num_samples, total.empty
    ([3, 2], [[0, 2], [2, 0]], 4, 1)
    >>> c = PartialStatistics.of([[1, 1]], ["dog", "bird"])      # another vocabulary: the union
    >>> (a + c).labels, (a + c).n.tolist()
    (('cat', 'dog', 'bird'), [2, 2, 1])
    """

    labels: tuple[str, ...]
    n: np.ndarray
    M: sp.csr_matrix
    num_samples: int
    empty: int = 0
    files: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, Y: Any, labels: Sequence[str], files: Sequence[dict[str, Any]] = ()) -> "PartialStatistics":
        """The statistics of one chunk: a 0/1 ``N_chunk × C`` matrix (dense or sparse) over ``labels``.

        Examples
        --------
        >>> p = PartialStatistics.of([[1, 0, 1], [0, 0, 0]], ["a", "b", "c"])
        >>> p.n.tolist(), p.num_samples, p.empty
        ([1, 0, 1], 2, 1)
        """
        Yc = Y if sp.issparse(Y) else sp.csr_matrix(np.asarray(Y))
        Yc = sp.csr_matrix(Yc)
        if Yc.shape[1] != len(labels):
            raise DataError(f"a chunk has {Yc.shape[1]} label columns for {len(labels)} label names")
        n, M = cooccurrence_counts(Yc)
        Yc.eliminate_zeros()
        empty = int(Yc.shape[0] - np.count_nonzero(np.diff(Yc.indptr)))
        return cls(tuple(labels), n, M, int(Yc.shape[0]), empty, tuple(files))

    @classmethod
    def empty_over(cls, labels: Sequence[str]) -> "PartialStatistics":
        """No samples yet, over ``labels``: the starting value of a sum.

        Examples
        --------
        >>> PartialStatistics.empty_over(["a", "b"]).n.tolist()
        [0, 0]
        """
        c = len(labels)
        return cls(tuple(labels), np.zeros(c, dtype=np.int64), sp.csr_matrix((c, c), dtype=np.int64), 0, 0, ())

    @property
    def num_labels(self) -> int:
        """C."""
        return len(self.labels)

    def __add__(self, other: "PartialStatistics") -> "PartialStatistics":
        if not isinstance(other, PartialStatistics):
            return NotImplemented
        if other.labels == self.labels:
            a, b = self, other
        else:  # the union starts with this partial's labels: pad this one, re-index the other only if needed
            known = set(self.labels)
            union = self.labels + tuple(x for x in other.labels if x not in known)
            a = self._grow(union) if len(union) > self.num_labels else self
            b = other if other.labels == union else other._widen(union)   # a growing vocabulary: no re-index
        M = (a.M + b.M).tocsr()
        M.sort_indices()
        return PartialStatistics(a.labels, a.n + b.n, M.astype(np.int64, copy=False), a.num_samples + b.num_samples,
                                 a.empty + b.empty, a.files + b.files)

    def _grow(self, labels: tuple[str, ...]) -> "PartialStatistics":
        """The same counts over ``labels``, whose first columns are this partial's labels."""
        c = len(labels)
        n = np.zeros(c, dtype=np.int64)
        n[:self.num_labels] = self.n
        M = sp.csr_matrix((self.M.data, self.M.indices,
                           np.concatenate([self.M.indptr, np.full(c - self.num_labels, self.M.indptr[-1])])),
                          shape=(c, c))
        return PartialStatistics(labels, n, M, self.num_samples, self.empty, self.files)

    def _widen(self, labels: tuple[str, ...]) -> "PartialStatistics":
        """The same counts over ``labels`` (a superset, any order); missing labels count zero."""
        pos = {name: i for i, name in enumerate(labels)}
        idx = np.array([pos[x] for x in self.labels], dtype=np.int64)
        c = len(labels)
        n = np.zeros(c, dtype=np.int64)
        n[idx] = self.n
        if not self.M.nnz:
            return PartialStatistics(labels, n, sp.csr_matrix((c, c), dtype=np.int64), self.num_samples, self.empty,
                                     self.files)
        # Row i moves to idx[i] and every column is renamed: as a CSC matrix the renamed arrays are the
        # transpose with rows renamed, and converting it to CSR sorts each row's columns in one O(nnz) pass
        # (no per-row sort); M is symmetric, so that CSR is the re-indexed M itself.
        counts = np.zeros(c, dtype=np.int64)
        counts[idx] = np.diff(self.M.indptr)
        indptr = np.zeros(c + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        order = np.argsort(idx, kind="stable")
        starts = self.M.indptr[order]
        lengths = counts[idx[order]]
        gather = np.repeat(starts - indptr[:-1][idx[order]], lengths) + np.arange(self.M.nnz)
        rows = sp.csc_matrix((self.M.data[gather], idx[self.M.indices[gather]], indptr), shape=(c, c))
        M = rows.tocsr()
        M.sort_indices()  # a no-op check: the conversion sorted them
        return PartialStatistics(labels, n, M.astype(np.int64, copy=False), self.num_samples, self.empty, self.files)

    def reorder(self, labels: Sequence[str]) -> "PartialStatistics":
        """The same counts with columns in the order ``labels``.

        ``labels`` must hold every label seen; labels it adds (in a names file but never
        seen) count zero.  A seen label missing from ``labels`` is a :class:`DataError`.

        Examples
        --------
        >>> p = PartialStatistics.of([[1, 1]], ["b", "a"])
        >>> q = p.reorder(["a", "b", "c"])
        >>> q.labels, q.n.tolist()
        (('a', 'b', 'c'), [1, 1, 0])
        """
        labels = tuple(str(x) for x in labels)
        unknown = sorted(set(self.labels) - set(labels))
        if unknown:
            shown = ", ".join(map(repr, unknown[:5])) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            raise DataError(f"label(s) {shown} not in the label list")
        if len(set(labels)) != len(labels):
            raise DataError("the label list names a label twice")
        return self if labels == self.labels else self._widen(labels)


def sum_partials(parts: Iterable[PartialStatistics], labels: Sequence[str] | None = None) -> PartialStatistics:
    """Add partial statistics up in order, holding one running sum (memory: one partial plus the sum).

    ``labels``: the vocabulary to start from (and the sum's order when every part uses
    it); with none the first part's.

    Examples
    --------
    >>> chunks = [PartialStatistics.of([[1, 1]], ["a", "b"]), PartialStatistics.of([[0, 1]], ["a", "b"])]
    >>> sum_partials(chunks).n.tolist()
    [1, 2]
    >>> sum_partials([], labels=["a"]).num_samples
    0
    """
    total: PartialStatistics | None = PartialStatistics.empty_over(labels) if labels is not None else None
    for part in parts:
        total = part if total is None else total + part
    if total is None:
        raise DataError("no statistics to add up: no chunk was read")
    return total
