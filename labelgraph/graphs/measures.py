"""Measures of a C × C label graph, arrays in, numbers out: structure, spectral gap, over-smoothing.

Definitions (``docs/inspect.md``), used by ``build``, ``show``, ``inspect`` and ``sweep`` alike:

* an **edge** is an off-diagonal non-zero entry ``A_ij ≠ 0`` (``i ≠ j``), counted
  per direction — an asymmetric graph can have ``i → j`` without ``j → i``, a
  symmetric one counts each pair twice; the diagonal (self loops) is never an edge;
* **density** = edges / (C (C − 1));
* the **degree** of a label is its number of distinct neighbours in either
  direction; a label of degree 0 is **isolated**; mean degree is the mean of these;
* **connected components** are those of the undirected edge graph (weak components);
* **asymmetry** = ‖A − Aᵀ‖_F / ‖A‖_F (0 for a symmetric or an empty matrix);
* **spectral gap** = ``λ₁ − λ₂`` of the symmetric part ``(A + Aᵀ) / 2``;
* **over-smoothing** at ``k`` = the mean pairwise cosine similarity of the rows of ``Aᵏ E``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from .._threads import blas_threads
from ..errors import ConfigError

__all__ = [
    "edge_support",
    "label_degrees",
    "structure_measures",
    "structure_and_degrees",
    "asymmetry",
    "is_symmetric",
    "degree_histogram",
    "SPECTRAL_DENSE_MAX",
    "spectral_gap",
    "component_labels",
    "oversmoothing",
    "note_unmeasured",
    "graph_measures",
]


def edge_support(matrix: Any) -> sp.csr_matrix:
    """The symmetric boolean edge graph: ``A_ij ≠ 0 or A_ji ≠ 0`` for ``i ≠ j``.

    Examples
    --------
    >>> edge_support([[1, 2, 0], [0, 0, 0], [0, 0, 0]]).toarray().astype(int).tolist()
    [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    """
    m = sp.csr_matrix(matrix) if not sp.issparse(matrix) else matrix.tocsr()
    s = (m != 0).astype(np.int8)
    s = ((s + s.T) != 0).tocsr()
    s.setdiag(False)
    s.eliminate_zeros()
    return s


def label_degrees(matrix: Any) -> np.ndarray:
    """Number of edges at each label (int64, C).

    Examples
    --------
    >>> label_degrees([[0, 1, 1], [0, 0, 0], [0, 0, 5]]).tolist()
    [2, 1, 1]
    """
    return np.asarray(edge_support(matrix).sum(axis=1)).ravel().astype(np.int64)


def structure_measures(matrix: Any) -> dict[str, Any]:
    """Edges, density, isolated labels, mean and max degree and connected components of a C × C matrix.

    The one definition used by ``build``, ``show``, ``inspect`` and ``sweep``: an edge is
    an off-diagonal non-zero entry counted per direction, a label's degree is its
    distinct neighbours in either direction (``docs/graphs.md``).

    Returns
    -------
    dict
        ``num_edges`` (int), ``density`` (float), ``isolated`` (int), ``mean_degree``
        (float), ``max_degree`` (int), ``components`` (int).

    Examples
    --------
    >>> structure_measures([[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
    {'num_edges': 2, 'density': 0.3333333333333333, 'isolated': 1, 'mean_degree': 0.6666666666666666, 'max_degree': 1, 'components': 2}
    """
    return structure_and_degrees(matrix)[0]


def structure_and_degrees(matrix: Any) -> tuple[dict[str, Any], np.ndarray]:
    """:func:`structure_measures` and the per-label degrees (int64, C), computed once.

    Examples
    --------
    >>> measures, degree = structure_and_degrees([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    >>> measures["num_edges"], degree.tolist()
    (1, [1, 1, 0])
    """
    if sp.issparse(matrix):
        m = matrix.tocsr().copy()
        m.eliminate_zeros()
        entries = int(m.nnz - np.count_nonzero(m.diagonal()))
        support = edge_support(m)
        degree = np.diff(support.indptr)
    else:  # dense (what a sweep measures): stay dense until the component search
        nonzero = np.asarray(matrix) != 0
        np.fill_diagonal(nonzero, False)
        entries = int(np.count_nonzero(nonzero))
        dense = nonzero | nonzero.T
        degree = dense.sum(axis=1)
        support = sp.csr_matrix(dense)
    c = support.shape[0]
    components = int(np.unique(component_labels(support)).size) if c else 0
    return {
        "num_edges": entries,
        "density": float(entries / (c * (c - 1))) if c > 1 else 0.0,
        "isolated": int(np.count_nonzero(degree == 0)),
        "mean_degree": float(degree.mean()) if c else 0.0,
        "max_degree": int(degree.max()) if c else 0,
        "components": components,
    }, np.asarray(degree, dtype=np.int64)


def component_labels(support: Any) -> np.ndarray:
    """The connected component of each label in a symmetric edge graph: the smallest label index in it (int64, C).

    Minimum-label hooking with pointer jumping over the CSR's edges, in numpy: the
    same partition as ``scipy.sparse.csgraph.connected_components(directed=False)``
    without importing csgraph, whose import (it pulls in ``scipy.sparse.linalg``)
    costs more than ``build``'s whole computation on 80 labels.

    Examples
    --------
    >>> component_labels(edge_support([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0]])).tolist()
    [0, 1, 2, 1]
    """
    m = sp.csr_matrix(support)
    c = m.shape[0]
    rows = np.repeat(np.arange(c, dtype=np.int64), np.diff(m.indptr))
    cols = m.indices.astype(np.int64)
    parent = np.arange(c, dtype=np.int64)
    while True:
        pu, pv = parent[rows], parent[cols]
        low = np.minimum(pu, pv)
        hooked = parent.copy()
        np.minimum.at(hooked, pu, low)  # pu, pv are roots: parent is fully compressed here
        np.minimum.at(hooked, pv, low)
        while True:  # pointer jumping until every label points at its root
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, parent):
            return parent
        parent = hooked


def asymmetry(matrix: Any) -> float:
    """``‖A − Aᵀ‖_F / ‖A‖_F``: 0 for a symmetric matrix, at most √2.

    Examples
    --------
    >>> asymmetry([[0, 1], [1, 0]])
    0.0
    >>> round(asymmetry([[0, 1], [0, 0]]), 4)
    1.4142
    """
    m = sp.csr_matrix(matrix, dtype=np.float64)
    norm = math.sqrt(float(np.dot(m.data, m.data)))
    if norm == 0:
        return 0.0
    d = (m - m.T).data
    return float(math.sqrt(float(np.dot(d, d))) / norm)


def is_symmetric(matrix: Any, tol: float = 1e-7) -> bool:
    """Whether ``|A_ij − A_ji| ≤ tol`` everywhere (the test :meth:`Artifact.to_networkx` uses).

    Examples
    --------
    >>> is_symmetric([[0, 1], [1, 0]]), is_symmetric([[0, 1], [0, 0]])
    (True, False)
    """
    m = sp.csr_matrix(matrix, dtype=np.float64)
    return bool((abs(m - m.T) > tol).nnz == 0)


def degree_histogram(degree: Any, bins: int = 10) -> list[tuple[int, int, int]]:
    """Counts of labels by degree, in at most ``bins`` integer ranges ``(low, high, count)``, both ends inclusive.

    Examples
    --------
    >>> degree_histogram([0, 0, 1, 3], bins=10)
    [(0, 0, 2), (1, 1, 1), (2, 2, 0), (3, 3, 1)]
    >>> degree_histogram([0, 5, 9], bins=2)
    [(0, 4, 1), (5, 9, 2)]
    """
    degree = np.asarray(degree, dtype=np.int64)
    if degree.size == 0:
        return []
    top = int(degree.max())
    width = max(1, -(-(top + 1) // max(1, bins)))
    counts = np.bincount(degree // width, minlength=top // width + 1)
    return [(k * width, k * width + width - 1, int(n)) for k, n in enumerate(counts)]


#: Above this many labels :func:`spectral_gap` works on the sparse matrix (``method="auto"``).
SPECTRAL_DENSE_MAX = 1_000
_BLOCK_DENSE_MAX = 400


def spectral_gap(matrix: Any, *, method: str = "auto") -> float:
    """``λ₁ − λ₂`` of the symmetric part ``(A + Aᵀ) / 2`` (of ``A`` itself when symmetric).

    Returns NaN for fewer than two labels, a matrix with NaN or inf, or when no
    eigenvalue solver converges.

    Parameters
    ----------
    matrix : array or sparse matrix
        C × C.
    method : {"auto", "dense", "sparse"}
        ``dense``: LAPACK on the whole C × C array (``evr``, then ``evd``, then ``ev``).
        ``sparse``: nothing is densified; the spectrum is the union of those of the
        connected components, so each component's top two come from LAPACK (up to
        400 labels) or ARPACK (``scipy.sparse.linalg.eigsh``, ``k = 2``), and a label
        with no edge contributes its diagonal entry.  ``auto``: ``sparse`` above
        :data:`SPECTRAL_DENSE_MAX` labels.  Both agree to 1e-6 (``tests/test_measures_sparse.py``).

    Examples
    --------
    >>> round(spectral_gap([[0.5, 0.5], [0.5, 0.5]]), 6)
    1.0
    >>> round(spectral_gap([[1.0, 0.0], [0.0, 1.0]]), 6)
    0.0
    >>> round(spectral_gap([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 0.2]], method="sparse"), 6)
    0.8
    """
    if method not in ("auto", "dense", "sparse"):
        raise ConfigError(f"spectral_gap: method must be auto, dense or sparse, got {method!r}")
    c = matrix.shape[0] if sp.issparse(matrix) else len(matrix)
    if method == "auto":
        method = "sparse" if c > SPECTRAL_DENSE_MAX else "dense"
    if method == "sparse":
        return _sparse_spectral_gap(sp.csr_matrix(matrix, dtype=np.float64))
    A = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)
    A = A.astype(np.float64, copy=False)
    if A.shape[0] < 2 or not np.all(np.isfinite(A)):
        return float("nan")
    if not np.array_equal(A, A.T):
        A = (A + A.T) / 2.0
    top = _top_two_eigenvalues(A)
    return float("nan") if top is None else float(top[1] - top[0])


def _sparse_spectral_gap(m: sp.csr_matrix) -> float:
    c = m.shape[0]
    if c < 2 or not np.all(np.isfinite(m.data)):
        return float("nan")
    # a copy: ``m`` may share (read-only) arrays with the caller's matrix, and eliminate_zeros works in place
    S = m.copy() if (m != m.T).nnz == 0 else ((m + m.T) / 2.0).tocsr()
    S.eliminate_zeros()
    component = component_labels(edge_support(S))
    sizes = np.bincount(component, minlength=c)
    alone = sizes[component] == 1
    values = [S.diagonal()[alone]]
    order = np.argsort(component, kind="stable")
    order = order[~alone[order]]
    if order.size:
        Q = S[order][:, order].tocsr()
        bounds = np.flatnonzero(np.diff(component[order])) + 1
        for start, stop in zip(np.r_[0, bounds], np.r_[bounds, order.size]):
            top = _block_top_two(Q[start:stop, start:stop])
            if top is None:
                return float("nan")
            values.append(top)
    w = np.sort(np.concatenate(values))
    return float(w[-1] - w[-2])


def _block_top_two(block: sp.csr_matrix) -> np.ndarray | None:
    """The two largest eigenvalues of one connected symmetric block (LAPACK when small, else ARPACK)."""
    n = block.shape[0]
    if n <= _BLOCK_DENSE_MAX:
        return _top_two_eigenvalues(block.toarray())
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh

    v0 = np.random.default_rng(0).standard_normal(n)  # seeded: the same figures on every run
    for ncv in (min(n, 20), min(n, 60)):
        try:
            w = eigsh(block, k=2, which="LA", v0=v0, ncv=ncv, return_eigenvectors=False)
        except (ArpackNoConvergence, ArpackError):
            continue
        if np.all(np.isfinite(w)):
            return np.sort(w)
    return None


def _top_two_eigenvalues(A: np.ndarray) -> np.ndarray | None:
    """The two largest eigenvalues of a symmetric ``A``, or None when no LAPACK driver converges.

    ``evr`` (relatively robust representations, top two only) is fastest but can stop
    with "Internal Error" on matrices with many tiny clusters of eigenvalues; the full
    divide-and-conquer and QR drivers are tried next.
    """
    from numpy.linalg import LinAlgError
    from scipy.linalg import eigvalsh

    c = A.shape[0]
    for driver in ("evr", "evd", "ev"):
        try:
            subset = [c - 2, c - 1] if driver == "evr" else None
            w = eigvalsh(A, subset_by_index=subset, driver=driver, check_finite=False)
        except (LinAlgError, ValueError):
            continue
        if np.all(np.isfinite(w[-2:])):
            return w[-2:]
    return None


def note_unmeasured(row: dict[str, Any]) -> None:
    """Add a ``note`` to a measure row whose spectral gap is NaN, saying why.

    Examples
    --------
    >>> row = {"spectral_gap": float("nan")}
    >>> note_unmeasured(row); row["note"].split(":")[0]
    'spectral_gap'
    """
    gap = row.get("spectral_gap")
    if isinstance(gap, float) and math.isnan(gap):
        row["note"] = "spectral_gap: not computable (eigenvalue solver did not converge or fewer than 2 labels)"


def _mean_pairwise_cosine(X: np.ndarray) -> float:
    norms = np.linalg.norm(X, axis=1)
    U = X[norms > 0] / norms[norms > 0, None]
    m = U.shape[0]
    if m < 2:
        return float("nan")
    s = U.sum(axis=0)
    return float((s @ s - m) / (m * (m - 1)))


def oversmoothing(matrix: Any, embeddings: Any, ks: Sequence[int] = (2, 4)) -> dict[int, float]:
    """Mean pairwise cosine similarity of the rows of ``Aᵏ E`` for each ``k`` in ``ks``.

    Examples
    --------
    >>> E = [[1.0, 0.0], [0.0, 1.0]]
    >>> {k: round(v, 6) for k, v in oversmoothing([[0.5, 0.5], [0.5, 0.5]], E, ks=(1,)).items()}
    {1: 1.0}
    >>> oversmoothing([[1.0, 0.0], [0.0, 1.0]], E, ks=(2,))
    {2: 0.0}
    """
    if sp.issparse(matrix):
        A = sp.csr_matrix(matrix, dtype=np.float64)
    else:
        A = np.asarray(matrix, dtype=np.float64)
    X = np.asarray(embeddings, dtype=np.float64)
    if X.shape[0] != A.shape[0]:
        raise ConfigError(f"embeddings have {X.shape[0]} rows for a graph of {A.shape[0]} labels")
    out: dict[int, float] = {}
    done = 0
    for k in sorted(set(int(k) for k in ks)):
        if k < 0:
            raise ConfigError(f"propagation steps must be >= 0, got {k}")
        with blas_threads(A.shape[0]):
            for _ in range(k - done):
                X = np.asarray(A @ X)
        done = k
        out[k] = _mean_pairwise_cosine(X)
    return out


def graph_measures(matrix: Any, embeddings: Any | None = None, ks: Sequence[int] = (2, 4), *,
                   structure: dict[str, Any] | None = None, spectral: str = "auto") -> dict[str, Any]:
    """Every sweep measure of one C × C matrix (definitions in the module docstring).

    ``structure``: the :func:`structure_measures` of ``matrix`` when the caller already
    has them (a sweep whose settings share an edge set); they are copied, not recomputed.
    ``spectral``: the ``method`` of :func:`spectral_gap` (``sparse`` never densifies ``matrix``).

    Examples
    --------
    >>> m = graph_measures([[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1]])
    >>> m["num_edges"], m["components"], round(m["spectral_gap"], 6)
    (2, 2, 0.0)
    """
    row = dict(structure) if structure is not None else structure_measures(matrix)
    row["spectral_gap"] = spectral_gap(matrix, method=spectral)
    note_unmeasured(row)
    if embeddings is not None:
        for k, value in oversmoothing(matrix, embeddings, ks).items():
            row[f"oversmoothing_k{k}"] = value
    return row
