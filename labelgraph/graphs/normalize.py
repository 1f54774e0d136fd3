"""The one normalization used by every graph: ``Â = D^{-1/2} A D^{-1/2}`` (SPEC §2)."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["symmetric_normalize"]


def symmetric_normalize(A: Any, *, transpose: bool = False) -> np.ndarray | sp.csr_matrix:
    """``D^{-1/2} A D^{-1/2}`` with ``D_ii = Σ_j A_ij`` (row sums); a zero-degree row gets ``D^{-1/2}_ii = 0``.

    Parameters
    ----------
    A : array_like or sparse, C × C
    transpose : bool
        Return ``D^{-1/2} Aᵀ D^{-1/2}`` with ``D`` still from the row sums of ``A`` —
        what ML-GCN's ``gen_adj`` computes (SPEC §2.4).

    Returns
    -------
    ndarray of float64, C × C, or a float64 CSR matrix when ``A`` is sparse (no NaN, no inf)
        Each entry is ``(d_i · A_ij) · d_j`` in both forms, so they agree to rounding of the degrees.

    Examples
    --------
    >>> symmetric_normalize([[1, 1], [1, 1]]).round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> symmetric_normalize([[0, 0], [0, 4]]).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    >>> symmetric_normalize(sp.csr_matrix([[0, 0], [0, 4]])).toarray().tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    if sp.issparse(A):
        return _sparse_normalize(sp.csr_matrix(A, dtype=np.float64), transpose)
    A = np.asarray(A).astype(np.float64, copy=False)
    d = _inverse_sqrt(A.sum(axis=1))
    base = A.T if transpose else A
    return d[:, None] * base * d[None, :]


def _inverse_sqrt(degree: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)


def _sparse_normalize(A: sp.csr_matrix, transpose: bool) -> sp.csr_matrix:
    d = _inverse_sqrt(np.asarray(A.sum(axis=1)).ravel())
    out = sp.csr_matrix(A.T) if transpose else A.copy()
    out.sum_duplicates()
    rows = np.repeat(np.arange(out.shape[0]), np.diff(out.indptr))
    out.data = d[rows] * out.data * d[out.indices]
    out.eliminate_zeros()
    out.sort_indices()
    return out
