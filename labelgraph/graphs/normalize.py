"""The one normalization used by every graph: ``Â = D^{-1/2} A D^{-1/2}`` (SPEC §2)."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["symmetric_normalize"]


def symmetric_normalize(A: Any, *, transpose: bool = False) -> np.ndarray:
    """``D^{-1/2} A D^{-1/2}`` with ``D_ii = Σ_j A_ij`` (row sums); a zero-degree row gets ``D^{-1/2}_ii = 0``.

    Parameters
    ----------
    A : array_like or sparse, C × C
    transpose : bool
        Return ``D^{-1/2} Aᵀ D^{-1/2}`` with ``D`` still from the row sums of ``A`` —
        what ML-GCN's ``gen_adj`` computes (SPEC §2.4).

    Returns
    -------
    ndarray of float64, C × C (no NaN, no inf)

    Examples
    --------
    >>> symmetric_normalize([[1, 1], [1, 1]]).round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> symmetric_normalize([[0, 0], [0, 4]]).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    A = A.astype(np.float64, copy=False)
    degree = A.sum(axis=1)
    with np.errstate(divide="ignore"):
        d = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
    base = A.T if transpose else A
    return d[:, None] * base * d[None, :]
