"""Statistics that add up (SPEC §6): the ``(n, M, N)`` of disjoint chunks sum to those of their union.

A reader that yields its label matrix chunk by chunk (rows of a CSV, row groups of a
Parquet file, shards of a dataset) turns each chunk into a :class:`PartialStatistics`
with :meth:`PartialStatistics.of` and adds them up; peak memory is one chunk plus
``nnz(M)``, never ``N``.  The integers are the same, bit for bit, as those of the
whole matrix at once (:func:`labelgraph.stats.cooccurrence_counts`).

Partials whose label vocabularies differ (label names discovered shard by shard) add
up over the union of their labels: in sorted order when both are in sorted order
(``sorted_labels``, as the streaming readers make them: then re-indexing keeps every row's
columns in order and costs one O(nnz) pass), else in order of first appearance;
:meth:`PartialStatistics.reorder` puts them in the reader's final order.
"""
from __future__ import annotations

import dataclasses
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
    M : csr_matrix of int32 counts (int64 once a sum passes 2^31 - 1 samples), pairwise co-occurrence counts,
        zero diagonal, sorted indices (a third less memory than int64 while adding and sending partials)
    num_samples : int, samples seen (with or without a label)
    empty : int, samples seen that carry no label
    files : tuple of dict, provenance of the chunks (path, sha256 …), in the order added
    sorted_labels : bool, ``labels`` are in sorted order and a sum with another such partial keeps them so

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
    >>> s = PartialStatistics.of([[1, 1]], ["dog", "bird"], sort=True)  # sorted partials: a sorted union
    >>> s.labels, (a.sorted() + s).labels
    (('bird', 'dog'), ('bird', 'cat', 'dog'))
    """

    labels: tuple[str, ...]
    n: np.ndarray
    M: sp.csr_matrix
    num_samples: int
    empty: int = 0
    files: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    sorted_labels: bool = False

    @classmethod
    def of(cls, Y: Any, labels: Sequence[str], files: Sequence[dict[str, Any]] = (), *,
           sort: bool = False) -> "PartialStatistics":
        """The statistics of one chunk: a 0/1 ``N_chunk × C`` matrix (dense or sparse) over ``labels``.

        ``sort``: put the labels in sorted order (the columns of ``Y`` renamed before counting).

        Examples
        --------
        >>> p = PartialStatistics.of([[1, 0, 1], [0, 0, 0]], ["a", "b", "c"])
        >>> p.n.tolist(), p.num_samples, p.empty
        ([1, 0, 1], 2, 1)
        >>> q = PartialStatistics.of([[1, 0, 1]], ["c", "b", "a"], sort=True)
        >>> q.labels, q.n.tolist(), q.sorted_labels
        (('a', 'b', 'c'), [1, 0, 1], True)
        """
        Yc = Y if sp.issparse(Y) else sp.csr_matrix(np.asarray(Y))
        Yc = sp.csr_matrix(Yc)
        if Yc.shape[1] != len(labels):
            raise DataError(f"a chunk has {Yc.shape[1]} label columns for {len(labels)} label names")
        labels = tuple(labels)
        if sort:
            order = sorted(range(len(labels)), key=labels.__getitem__)
            if order != list(range(len(labels))):
                rename = np.empty(len(labels), dtype=Yc.indices.dtype)
                rename[order] = np.arange(len(labels), dtype=Yc.indices.dtype)
                Yc = sp.csr_matrix((Yc.data, rename[Yc.indices], Yc.indptr), shape=Yc.shape)
                labels = tuple(labels[k] for k in order)
        n, M = cooccurrence_counts(Yc, dtype=_count_type(Yc.shape[0]))
        Yc.eliminate_zeros()
        empty = int(Yc.shape[0] - np.count_nonzero(np.diff(Yc.indptr)))
        return cls(labels, n, M, int(Yc.shape[0]), empty, tuple(files), sort)

    @classmethod
    def empty_over(cls, labels: Sequence[str], *, sort: bool = False) -> "PartialStatistics":
        """No samples yet, over ``labels`` (in sorted order with ``sort``): the starting value of a sum.

        Examples
        --------
        >>> PartialStatistics.empty_over(["a", "b"]).n.tolist()
        [0, 0]
        """
        labels = tuple(sorted(labels)) if sort else tuple(labels)
        c = len(labels)
        return cls(labels, np.zeros(c, dtype=np.int64), sp.csr_matrix((c, c), dtype=np.int32), 0, 0, (), sort)

    def sorted(self) -> "PartialStatistics":
        """The same counts with the labels in sorted order (``sorted_labels`` set).

        Examples
        --------
        >>> PartialStatistics.of([[1, 0]], ["b", "a"]).sorted().labels
        ('a', 'b')
        """
        if self.sorted_labels:
            return self
        return dataclasses.replace(self.reorder(sorted(self.labels)), sorted_labels=True)

    @property
    def num_labels(self) -> int:
        """C."""
        return len(self.labels)

    def __add__(self, other: "PartialStatistics") -> "PartialStatistics":
        if not isinstance(other, PartialStatistics):
            return NotImplemented
        both_sorted = self.sorted_labels and other.sorted_labels
        if other.labels == self.labels:
            a, b = self, other
        elif both_sorted:  # a sorted union: both sides re-index in one order-keeping pass
            union = tuple(sorted(set(self.labels).union(other.labels)))
            a, b = self._widen(union), other._widen(union)
        else:  # the union starts with this partial's labels: pad this one, re-index the other only if needed
            known = set(self.labels)
            union = self.labels + tuple(x for x in other.labels if x not in known)
            a = self._grow(union) if len(union) > self.num_labels else self
            b = other if other.labels == union else other._widen(union)   # a growing vocabulary: no re-index
        dtype = _count_type(a.num_samples + b.num_samples)
        M = (a.M.astype(dtype, copy=False) + b.M.astype(dtype, copy=False)).tocsr()
        M.sort_indices()
        return PartialStatistics(a.labels, a.n + b.n, M.astype(dtype, copy=False), a.num_samples + b.num_samples,
                                 a.empty + b.empty, a.files + b.files, both_sorted)

    def _grow(self, labels: tuple[str, ...]) -> "PartialStatistics":
        """The same counts over ``labels``, whose first columns are this partial's labels."""
        c = len(labels)
        n = np.zeros(c, dtype=np.int64)
        n[:self.num_labels] = self.n
        M = sp.csr_matrix((self.M.data, self.M.indices,
                           np.concatenate([self.M.indptr, np.full(c - self.num_labels, self.M.indptr[-1])])),
                          shape=(c, c))
        return PartialStatistics(labels, n, M, self.num_samples, self.empty, self.files, self.sorted_labels)

    def _widen(self, labels: tuple[str, ...]) -> "PartialStatistics":
        """The same counts over ``labels`` (a superset, any order); missing labels count zero."""
        pos = {name: i for i, name in enumerate(labels)}
        idx = np.array([pos[x] for x in self.labels], dtype=np.int64)
        c = len(labels)
        n = np.zeros(c, dtype=np.int64)
        n[idx] = self.n
        keep_sorted = self.sorted_labels and list(labels) == sorted(labels)
        if not self.M.nnz:
            return PartialStatistics(labels, n, sp.csr_matrix((c, c), dtype=self.M.dtype), self.num_samples, self.empty,
                                     self.files, keep_sorted)
        if idx.size < 2 or bool((idx[1:] > idx[:-1]).all()):  # order kept: rows spread out, columns renamed
            counts = np.zeros(c, dtype=np.int64)
            counts[idx] = np.diff(self.M.indptr)
            indptr = np.zeros(c + 1, dtype=self.M.indptr.dtype)
            np.cumsum(counts, out=indptr[1:])
            M = sp.csr_matrix((self.M.data, idx.astype(self.M.indices.dtype)[self.M.indices], indptr), shape=(c, c))
            M.has_sorted_indices = True
            return PartialStatistics(labels, n, M, self.num_samples, self.empty, self.files, keep_sorted)
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
        return PartialStatistics(labels, n, M.astype(self.M.dtype, copy=False), self.num_samples, self.empty,
                                 self.files, keep_sorted)

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


def _count_type(num_samples: int) -> type:
    """int32 while every count (at most the number of samples) fits in it, else int64."""
    return np.int32 if num_samples < 2**31 else np.int64


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
