"""Sparsification shared by every kind (SPEC §2.7–2.8): ``--min-count``, ``--top-k``, ``--symmetrize``.

Every function takes and returns a scipy CSR matrix, so a C = 20,000 graph never
becomes dense.  The diagonal is left alone: only off-diagonal entries are ranked
or dropped.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError
from .normalize import symmetric_normalize

__all__ = ["SYMMETRIZE", "check_min_count", "check_top_k", "min_count_filter", "top_k_filter", "symmetrize",
           "sparse_normalize"]

#: ``--symmetrize`` choices.
SYMMETRIZE: tuple[str, ...] = ("none", "max", "mean")


def check_min_count(value: Any) -> int:
    """``--min-count m``: an integer ≥ 0 (0 and 1 keep every pair seen at least once).

    Examples
    --------
    >>> check_min_count(3)
    3
    >>> check_min_count(-1)
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --min-count must be an integer >= 0, got -1
    """
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ConfigError(f"--min-count must be an integer >= 0, got {value}")
    return int(value)


def check_top_k(value: Any, num_labels: int) -> int:
    """``--top-k k``: an integer with 1 ≤ k ≤ C − 1.

    Examples
    --------
    >>> check_top_k(10, 80)
    10
    >>> check_top_k(0, 80)
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --top-k must be an integer in [1, C - 1] = [1, 79], got 0
    """
    if isinstance(value, bool) or not float(value).is_integer() or not 1 <= value <= num_labels - 1:
        raise ConfigError(f"--top-k must be an integer in [1, C - 1] = [1, {num_labels - 1}], got {value}")
    return int(value)


def min_count_filter(M: Any, m: int) -> sp.csr_matrix:
    """``M`` with the pairs seen fewer than ``m`` times set to 0 (they count as never seen).

    Examples
    --------
    >>> min_count_filter(sp.csr_matrix([[0, 1, 5], [1, 0, 2], [5, 2, 0]]), 2).toarray().tolist()
    [[0, 0, 5], [0, 0, 2], [5, 2, 0]]
    """
    out = sp.csr_matrix(M, copy=True)
    if m > 1:
        out.data[out.data < m] = 0
        out.eliminate_zeros()
    return out


def top_k_filter(A: Any, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest off-diagonal entries of each row (ties: lower column index first).

    Non-positive entries are never kept; the diagonal is kept as it is.  A row with
    fewer than ``k`` non-zero entries keeps them all.

    Examples
    --------
    >>> A = sp.csr_matrix([[1, 3, 3, 2], [2, 0, 1, 1], [0, 0, 0, 0], [5, 5, 5, 0]])
    >>> top_k_filter(A, 2).toarray().tolist()
    [[1, 3, 3, 0], [2, 0, 1, 0], [0, 0, 0, 0], [5, 5, 0, 0]]
    """
    m = sp.coo_matrix(A)
    diag = m.row == m.col
    keep = diag.copy()
    off = ~diag & (m.data > 0)
    rows, cols, vals = m.row[off], m.col[off], m.data[off]
    order = np.lexsort((cols, -vals, rows))
    ranked_rows = rows[order]
    starts = np.searchsorted(ranked_rows, ranked_rows, side="left")
    rank = np.arange(ranked_rows.size) - starts
    chosen = np.flatnonzero(off)[order[rank < k]]
    keep[chosen] = True
    return sp.csr_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=m.shape)


def symmetrize(A: Any, how: str) -> sp.csr_matrix:
    """``max(A, Aᵀ)``, ``(A + Aᵀ) / 2`` or ``A`` itself (``how`` = ``max``, ``mean``, ``none``).

    Examples
    --------
    >>> symmetrize(sp.csr_matrix([[0, 2.0], [0, 0]]), "mean").toarray().tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    A = sp.csr_matrix(A)
    if how == "none":
        return A
    if how == "max":
        return sp.csr_matrix(A.maximum(A.T))
    if how == "mean":
        return sp.csr_matrix((A + A.T) * 0.5)
    raise ConfigError(f"--symmetrize must be one of {', '.join(SYMMETRIZE)}, got {how!r}")


def sparse_normalize(A: Any) -> sp.csr_matrix:
    """``D^{-1/2} A D^{-1/2}`` (row-sum degrees, zero-degree rows stay zero), kept sparse (float64).

    The same numbers as :func:`~labelgraph.graphs.normalize.symmetric_normalize`.

    Examples
    --------
    >>> sparse_normalize(sp.csr_matrix([[1.0, 1.0], [1.0, 1.0]])).toarray().round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> sparse_normalize(sp.csr_matrix([[0.0, 0.0], [0.0, 4.0]])).toarray().tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    return symmetric_normalize(sp.csr_matrix(A, dtype=np.float64))
