"""Graphs from label statistics: probability, binary (ML-GCN Eq. 7), re-weighted (Eq. 8), and ``mlgcn``.

SPEC §2.1–2.4.  Every function takes arrays and returns arrays: a dense float64
C × C array from dense input, a float64 CSR matrix from sparse input (SPEC §6:
the sparse form keeps the sparsity of ``M`` plus the diagonal and never allocates
C × C).  Both forms do the same floating-point steps, so they agree to 1e-6.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError
from ..stats import conditional_probability
from .normalize import symmetric_normalize

__all__ = ["check_unit", "binary_graph", "reweighted_graph", "mlgcn_graph"]


def check_unit(name: str, value: float) -> float:
    """Return ``value`` as float if it lies in [0, 1], else raise :class:`ConfigError` naming it.

    Examples
    --------
    >>> check_unit("tau", 0.4)
    0.4
    """
    value = float(value)
    if not (0.0 <= value <= 1.0) or np.isnan(value):
        raise ConfigError(f"{name} must be in [0, 1], got {value:g}")
    return value


def _entries(S: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Row and column index of every stored entry of a CSR matrix."""
    return np.repeat(np.arange(S.shape[0]), np.diff(S.indptr)), S.indices


def binary_graph(P: Any, tau: float = 0.4) -> np.ndarray | sp.csr_matrix:
    """ML-GCN Eq. (7): ``B_ij = 1 if P_ij ≥ τ`` for ``i ≠ j``; ``B_ii = 0``.

    A sparse ``P`` gives a sparse ``B`` from its stored entries only.  That is exact
    for τ > 0 (an absent pair has ``P_ij = 0 < τ``); τ = 0 would make every pair an
    edge, a dense C × C graph, so the sparse form refuses it (use kind ``complete``).

    Examples
    --------
    >>> binary_graph([[0, 0.5], [0.2, 0]], tau=0.4).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    >>> binary_graph([[0, 0.4], [0.39, 0]], tau=0.4).tolist()   # τ itself is kept (≥)
    [[0.0, 1.0], [0.0, 0.0]]
    >>> binary_graph(sp.csr_matrix([[0, 0.5], [0.2, 0]]), tau=0.4).toarray().tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    tau = check_unit("tau", tau)
    if sp.issparse(P):
        if tau == 0.0:
            raise ConfigError(f"tau = 0 makes every pair of the {P.shape[0]} labels an edge (a dense graph); "
                              "the sparse path needs tau > 0 (use kind complete, or --dense)")
        S = sp.csr_matrix(P, dtype=np.float64)
        rows, cols = _entries(S)
        keep = (S.data >= tau) & (rows != cols)
        B = sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=S.shape)
        B.sort_indices()
        return B
    P = np.asarray(P, dtype=np.float64)
    B = (P >= tau).astype(np.float64)
    np.fill_diagonal(B, 0.0)
    return B


def reweighted_graph(B: Any, p: float = 0.2) -> np.ndarray | sp.csr_matrix:
    """ML-GCN Eq. (8), paper form: ``A'_ij = p·B_ij / Σ_{k≠i} B_ik`` (``i ≠ j``), ``A'_ii = 1 − p``.

    A row with no neighbour keeps only ``1 − p`` on its diagonal, so rows sum to 1 or ``1 − p``.
    A sparse ``B`` gives a sparse ``A'``.

    Examples
    --------
    >>> reweighted_graph([[0, 1, 1], [1, 0, 0], [0, 0, 0]], p=0.2).round(3).tolist()
    [[0.8, 0.1, 0.1], [0.2, 0.8, 0.0], [0.0, 0.0, 0.8]]
    >>> reweighted_graph(sp.csr_matrix([[0, 1], [0, 0]]), p=0.2).toarray().round(3).tolist()
    [[0.8, 0.2], [0.0, 0.8]]
    """
    p = check_unit("p", p)
    if sp.issparse(B):
        S = sp.csr_matrix(B, dtype=np.float64, copy=True)
        S.setdiag(0.0)
        S.eliminate_zeros()
        rows_sum = np.asarray(S.sum(axis=1)).ravel()
        rows, _ = _entries(S)
        S.data = np.divide(p * S.data, rows_sum[rows], out=np.zeros_like(S.data), where=rows_sum[rows] > 0)
        A = sp.csr_matrix(S + (1.0 - p) * sp.identity(S.shape[0], format="csr"))
        A.eliminate_zeros()
        A.sort_indices()
        return A
    B = np.array(B, dtype=np.float64)
    np.fill_diagonal(B, 0.0)
    rows = B.sum(axis=1, keepdims=True)
    A = np.divide(p * B, rows, out=np.zeros_like(B), where=rows > 0)
    np.fill_diagonal(A, 1.0 - p)
    return A


def mlgcn_graph(M: Any, n: Any, tau: float = 0.4, p: float = 0.25, *, normalize: bool = True,
                sparse: bool = False) -> np.ndarray | sp.csr_matrix:
    """The ML-GCN reference code's graph (``util.py``: ``gen_A`` then ``gen_adj``), SPEC §2.4.

    ``B = [M/n ≥ τ]``; ``R = p·B / (column sums of B + 1e-6)``; ``A = R + I``;
    ``Â = D^{-1/2} Aᵀ D^{-1/2}`` with ``D`` from the row sums of ``A``.  The code
    divides by *column* sums and transposes, unlike the paper; both are kept so
    that published checkpoints match.  A label with ``n_i = 0`` gets a zero row
    of ``B`` (the code would produce NaN there).  With ``sparse`` every step keeps
    the sparsity of ``M`` and the result is a CSR matrix (τ > 0 needed, see
    :func:`binary_graph`).

    Examples
    --------
    >>> A = mlgcn_graph([[0, 2], [2, 0]], [2, 4], tau=0.4, p=0.25, normalize=False)
    >>> A.round(4).tolist()
    [[1.0, 0.25], [0.25, 1.0]]
    >>> mlgcn_graph(sp.csr_matrix([[0, 2], [2, 0]]), [2, 4], normalize=False, sparse=True).toarray().round(4).tolist()
    [[1.0, 0.25], [0.25, 1.0]]
    """
    P = conditional_probability(sp.csr_matrix(M) if sparse else M, n, sparse=sparse)
    A = _mlgcn_adjacency(P, tau, p)
    return symmetric_normalize(A, transpose=True) if normalize else A


def _mlgcn_adjacency(P: Any, tau: float, p: float) -> np.ndarray | sp.csr_matrix:
    """``gen_A`` from ``P``: ``R + I`` with ``R = p·B / (column sums of B + 1e-6)`` (dense, or CSR from a sparse ``P``)."""
    tau = check_unit("tau", tau)
    p = check_unit("p", p)
    B = binary_graph(P, tau)
    if sp.issparse(B):
        R = B.copy()
        R.data = B.data * p / (np.asarray(B.sum(axis=0)).ravel()[B.indices] + 1e-6)
        A = sp.csr_matrix(R + sp.identity(B.shape[0], format="csr"))
        A.sort_indices()
        return A
    R = B * p / (B.sum(axis=0, keepdims=True) + 1e-6)
    return R + np.identity(B.shape[0])
