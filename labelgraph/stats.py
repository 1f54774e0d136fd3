"""Label statistics (SPEC §1): ``n = Yᵀ1``, ``M = YᵀY`` with a zero diagonal, ``P = M / n``.

Pure functions over scipy.sparse: arrays in, arrays out, no I/O and no artifact
(the statistics artifact is made by :func:`labelgraph.assemble.label_statistics`).
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from ._dense import check_dense

__all__ = ["cooccurrence_counts", "conditional_probability", "PRODUCT_THREADS", "THREADED_MIN_NNZ"]

log = logging.getLogger(__name__)

#: Threads for ``Yᵀ Y`` of a large chunk (its rows split, the products added): ``None`` means the CPUs this
#: process may use, at most 4. An engine's worker process sets 1 (its siblings use the other cores).
PRODUCT_THREADS: int | None = None

#: Stored labels from which a chunk's product is split over threads (below it, one thread is as fast).
THREADED_MIN_NNZ = 1 << 20


def cooccurrence_counts(Y: Any, dtype: Any = np.int64) -> tuple[np.ndarray, sp.csr_matrix]:
    """Per-label counts ``n`` and pairwise co-occurrence counts ``M`` of a 0/1 label matrix.

    Parameters
    ----------
    Y : array_like or sparse, N × C
        Any non-zero entry is a label; duplicates on one sample count once.
    dtype : the integer type of ``M``'s counts (``np.int32`` halves their memory and is exact below 2^31 samples)

    Returns
    -------
    n : ndarray of int64, shape (C,)
    M : csr_matrix of ``dtype`` (int64), C × C, symmetric with a zero diagonal, sorted indices

    Examples
    --------
    >>> n, M = cooccurrence_counts([[1, 1, 0], [1, 0, 1], [1, 1, 0]])
    >>> n.tolist()
    [3, 2, 1]
    >>> M.toarray().tolist()
    [[0, 2, 1], [2, 0, 0], [1, 0, 0]]
    """
    Yb = Y if sp.issparse(Y) and Y.format == "csr" else sp.csr_matrix(Y)
    if not Yb.has_canonical_format:  # LabelSet.Y is canonical already: no copy on the hot path
        Yb = Yb.copy()
        Yb.sum_duplicates()
    if Yb.nnz and not Yb.data.all():
        Yb = Yb.copy()
        Yb.eliminate_zeros()
    # int32 products are exact up to 2^31 samples per pair; the result is widened to int64 below.
    Yb = sp.csr_matrix((np.ones(Yb.nnz, dtype=np.int32), Yb.indices, Yb.indptr), shape=Yb.shape)
    n = np.bincount(Yb.indices, minlength=Yb.shape[1]).astype(np.int64)
    return n, _product(Yb, np.dtype(dtype))


def _threads() -> int:
    if PRODUCT_THREADS is not None:
        return max(1, int(PRODUCT_THREADS))
    from ._threads import usable_cpus

    return min(4, usable_cpus())


def _product(Y: sp.csr_matrix, dtype: np.dtype = np.dtype(np.int64)) -> sp.csr_matrix:
    """``Yᵀ Y`` with a zero diagonal, ``dtype`` counts, sorted indices; a large ``Y`` on threads, by blocks of samples.

    scipy's ``Yᵀ Y`` is a CSC matrix whose arrays, ``M`` being symmetric, are those of its
    CSR; one transposition sorts its indices.  On threads, each block of rows of ``Y``
    (equal numbers of labels) is multiplied and sorted on its own thread (scipy's product
    and conversions release the GIL), and the blocks' counts are added.  Measured against
    blocks of rows of ``M`` (labels), which need no addition but read all of ``Y`` on
    every thread: 1.3× slower (docs/benchmarks.md).
    """
    threads = _threads() if Y.nnz >= THREADED_MIN_NNZ else 1
    if threads == 1:
        M = _sorted_gram(Y)
    else:
        from concurrent.futures import ThreadPoolExecutor

        cuts = np.searchsorted(Y.indptr, np.linspace(0, Y.nnz, threads + 1)[1:-1])
        bounds = [0, *cuts.tolist(), Y.shape[0]]
        blocks = [Y[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
        with ThreadPoolExecutor(len(blocks)) as pool:
            parts = list(pool.map(_sorted_gram, blocks))
        M = parts[0]
        for part in parts[1:]:
            M = M + part  # canonical + canonical: a canonical sum
    M.setdiag(0)
    M.eliminate_zeros()
    M.data = M.data.astype(dtype, copy=False)
    return M


def _sorted_gram(Y: sp.csr_matrix) -> sp.csr_matrix:
    """``Yᵀ Y`` as a CSR matrix with sorted indices (the diagonal kept)."""
    B = Y.T @ Y  # CSC view × CSR: scipy makes the one transpose itself, and returns CSC
    if B.format != "csc":
        B = B.tocsc()
    T = sp.csr_matrix((B.data, B.indices, B.indptr), shape=B.shape).tocsc()  # transposing sorts every column
    M = sp.csr_matrix((T.data, T.indices, T.indptr), shape=T.shape)          # symmetric: the sorted rows of M
    M.has_sorted_indices = True
    return M


def conditional_probability(M: Any, n: Any, labels: Sequence[str] | None = None, *,
                            sparse: bool = False) -> np.ndarray | sp.csr_matrix:
    """``P_ij = P(L_j | L_i) = M_ij / n_i``: a dense float64 C × C array, or with ``sparse`` a float64 CSR.

    A label with ``n_i = 0`` gets a zero row and a warning naming it (the first 10
    names, then how many more); the same set of labels is warned about once per process.
    The sparse form scales the stored entries of each row (the same division as the
    dense form, so the same numbers) and never allocates C × C.

    Examples
    --------
    >>> P = conditional_probability([[0, 2], [2, 0]], [4, 2])
    >>> P.tolist()
    [[0.0, 0.5], [1.0, 0.0]]
    >>> conditional_probability(sp.csr_matrix([[0, 2], [2, 0]]), [4, 2], sparse=True).toarray().tolist()
    [[0.0, 0.5], [1.0, 0.0]]
    """
    n = np.asarray(n, dtype=np.float64)
    zero = n == 0
    if zero.any():
        _warn_no_sample([labels[i] if labels is not None else f"label {i}" for i in np.flatnonzero(zero)])
    safe = np.where(zero, 1.0, n)
    if sparse:
        S = sp.csr_matrix(M, dtype=np.float64, copy=True)
        S.sort_indices()
        rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
        S.data /= safe[rows]
        S.data[zero[rows]] = 0.0
        S.eliminate_zeros()
        return S
    if sp.issparse(M):
        check_dense(M.shape[0], "P = M / n")
        M = M.toarray()
    M = np.asarray(M)
    P = M.astype(np.float64) / safe[:, None]
    P[zero] = 0.0
    return P


_WARNED: set[tuple[str, ...]] = set()


def _warn_no_sample(names: list[str]) -> None:
    key = tuple(names)
    if key in _WARNED:
        return
    _WARNED.add(key)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    noun = "1 label has" if len(names) == 1 else f"{len(names)} labels have"
    log.warning("%s no sample and get%s a zero row in P: %s", noun, "s" if len(names) == 1 else "", shown)
