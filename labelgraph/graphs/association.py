"""Association graphs from label statistics and embeddings (SPEC §2.7): ppmi, npmi, jaccard, exclusive, cosine.

Pure functions over a sparse ``M`` (zero diagonal), ``n`` and ``N``: only pairs
with ``M_ij > 0`` are ever non-zero in ``ppmi``, ``npmi`` and ``jaccard``, so they
stay as sparse as ``M``.  Each returns a symmetric float64 CSR matrix with a zero
diagonal (the raw graph; the saved one is ``norm(X + I)``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._threads import blas_threads
from ..errors import ConfigError

__all__ = ["ppmi_graph", "npmi_graph", "jaccard_graph", "exclusive_graph", "cosine_graph"]


def _pairs(M: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    m = sp.coo_matrix(M)
    off = (m.row != m.col) & (m.data > 0)
    return m.row[off], m.col[off], m.data[off].astype(np.float64), m.shape


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    keep = vals > 0
    out = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=shape, dtype=np.float64)
    out.sort_indices()
    return out


def _pmi(M: Any, n: Any, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    rows, cols, m, shape = _pairs(M)
    n = np.asarray(n, dtype=np.float64)
    pmi = np.log(float(N) * m / (n[rows] * n[cols]))
    return rows, cols, m, pmi, shape


def ppmi_graph(M: Any, n: Any, N: int) -> sp.csr_matrix:
    """``PPMI_ij = max(log(N·M_ij / (n_i·n_j)), 0)`` where ``M_ij > 0`` (Text GCN's label edges).

    Examples
    --------
    >>> ppmi_graph(sp.csr_matrix([[0, 2], [2, 0]]), [2, 4], 8).toarray().round(4).tolist()
    [[0.0, 0.6931], [0.6931, 0.0]]
    """
    rows, cols, _, pmi, shape = _pmi(M, n, N)
    return _csr(rows, cols, pmi, shape)


def npmi_graph(M: Any, n: Any, N: int) -> sp.csr_matrix:
    """``NPMI_ij = PMI_ij / −log(M_ij / N)``, its positive part, in [0, 1].

    A pair present in every sample (``M_ij = N``) has ``0 / 0``: it gets 1, the
    value NPMI takes for complete co-occurrence.

    Examples
    --------
    >>> npmi_graph(sp.csr_matrix([[0, 2], [2, 0]]), [2, 4], 8).toarray().round(4).tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    rows, cols, m, pmi, shape = _pmi(M, n, N)
    denom = -np.log(m / float(N))
    always = denom <= 0
    value = np.divide(pmi, denom, out=np.ones_like(pmi), where=~always)
    return _csr(rows, cols, np.clip(value, 0.0, 1.0), shape)


def jaccard_graph(M: Any, n: Any) -> sp.csr_matrix:
    """``J_ij = M_ij / (n_i + n_j − M_ij)``.

    Examples
    --------
    >>> jaccard_graph(sp.csr_matrix([[0, 2], [2, 0]]), [2, 4]).toarray().tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    rows, cols, m, shape = _pairs(M)
    n = np.asarray(n, dtype=np.float64)
    return _csr(rows, cols, m / (n[rows] + n[cols] - m), shape)


def exclusive_graph(M: Any, n: Any, N: int, min_expected: float = 5.0) -> sp.csr_matrix:
    """``X_ij = 1`` where ``M_ij = 0`` although chance predicts ``n_i·n_j / N ≥ min_expected`` co-occurrences.

    The candidates are found from ``n`` sorted in decreasing order (for label i, the
    labels j with ``n_j ≥ min_expected·N / n_i`` are a prefix), so the work is the
    number of candidate pairs, not C².

    Examples
    --------
    >>> M = sp.csr_matrix([[0, 0, 3], [0, 0, 0], [3, 0, 0]])
    >>> exclusive_graph(M, [10, 10, 10], 20, min_expected=5).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if not np.isfinite(min_expected) or min_expected <= 0:
        raise ConfigError(f"min_expected must be > 0, got {min_expected:g}")
    n = np.asarray(n, dtype=np.float64)
    c = n.size
    order = np.argsort(-n, kind="stable")
    sorted_n = n[order]
    with np.errstate(divide="ignore"):
        need = np.where(n > 0, min_expected * float(N) / np.where(n > 0, n, 1.0), np.inf)
    # how many labels (a prefix of the sorted order) reach the need of each label
    counts = np.searchsorted(-sorted_n, -need, side="right")
    rows = np.repeat(np.arange(c), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    cols = order[np.arange(rows.size) - starts]
    off = rows != cols
    candidates = sp.csr_matrix((np.ones(int(off.sum())), (rows[off], cols[off])), shape=(c, c))
    seen = sp.csr_matrix(M).astype(bool).astype(np.float64)
    X = candidates - candidates.multiply(seen)
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    X.sort_indices()
    return X


def cosine_graph(E: Any, *, top_k: int | None = None, block: int = 1024) -> sp.csr_matrix:
    """``S_ij = max(cos(e_i, e_j), 0)`` for ``i ≠ j``, from C × d label embeddings.

    Computed ``block`` rows at a time; with ``top_k`` each block keeps only its rows'
    ``top_k`` largest entries, so memory stays ``O(C·top_k)``.  A zero vector has
    cosine 0 with every label.

    Examples
    --------
    >>> cosine_graph([[1.0, 0.0], [1.0, 1.0], [-1.0, 0.0]]).toarray().round(4).tolist()
    [[0.0, 0.7071, 0.0], [0.7071, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    E = np.asarray(E, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1)
    U = np.divide(E, norms[:, None], out=np.zeros_like(E), where=norms[:, None] > 0)
    c = U.shape[0]
    parts = []
    for start in range(0, c, block):
        with blas_threads(c):
            S = U[start:start + block] @ U.T
        S[S < 0] = 0.0
        S[np.arange(S.shape[0]), np.arange(start, start + S.shape[0])] = 0.0
        part = sp.csr_matrix(S)
        if top_k is not None:
            part = _top_k_block(part, start, top_k)
        parts.append(part)
    out = sp.csr_matrix(sp.vstack(parts)) if parts else sp.csr_matrix((0, 0))
    out.sort_indices()
    return out


def _top_k_block(part: sp.csr_matrix, start: int, k: int) -> sp.csr_matrix:
    """Top-k of rows ``start..`` of a larger matrix (the block's diagonal is already zero)."""
    from .sparsify import top_k_filter

    # place the block at its rows of the C x C matrix so the diagonal stays where top_k_filter expects it
    m = part.tocoo()
    square = sp.csr_matrix((m.data, (m.row + start, m.col)), shape=(part.shape[1], part.shape[1]))
    kept = top_k_filter(square, k)[start:start + part.shape[0]]
    return sp.csr_matrix(kept)
