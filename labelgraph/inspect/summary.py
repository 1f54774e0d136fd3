"""Summary measures of a label graph: edges, density, isolated labels, degrees, asymmetry, components.

Definitions used everywhere in :mod:`labelgraph.inspect` (sweeps included):

* an **edge** is an off-diagonal non-zero entry ``A_ij ≠ 0`` (``i ≠ j``), counted
  per direction — an asymmetric graph can have ``i → j`` without ``j → i``, a
  symmetric one counts each pair twice; the diagonal (self loops) is never an edge;
* **density** = edges / (C (C − 1));
* the **degree** of a label is its number of distinct neighbours in either
  direction; a label of degree 0 is **isolated**; mean degree is the mean of these;
* **connected components** are those of the undirected edge graph (weak components);
* **asymmetry** = ‖A − Aᵀ‖_F / ‖A‖_F (0 for a symmetric or an empty matrix).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..artifact import Artifact
from ..errors import ArtifactError

__all__ = [
    "GraphSummary",
    "graph_matrix",
    "edge_support",
    "label_degrees",
    "structure_measures",
    "asymmetry",
    "is_symmetric",
    "degree_histogram",
    "strongest_edges",
    "graph_summary",
]


def graph_matrix(artifact: Artifact) -> sp.csr_matrix:
    """The C × C float64 matrix to inspect: the graph itself, or ``P`` for a statistics artifact.

    Examples
    --------
    >>> s = Artifact.statistics(["a", "b"], [2, 1], [[0, 1], [1, 0]], 2)
    >>> graph_matrix(s).toarray().tolist()
    [[0.0, 0.5], [1.0, 0.0]]
    """
    if artifact.kind == "embeddings":
        raise ArtifactError("an embeddings artifact has no graph to inspect (use `labelgraph show`)")
    if artifact.kind == "statistics":
        return sp.csr_matrix(artifact.conditional_probability())
    return sp.csr_matrix(artifact.matrix, dtype=np.float64)


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
        ``edges`` (int), ``density`` (float), ``isolated`` (int), ``mean_degree``
        (float), ``max_degree`` (int), ``components`` (int).

    Examples
    --------
    >>> structure_measures([[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
    {'edges': 2, 'density': 0.3333333333333333, 'isolated': 1, 'mean_degree': 0.6666666666666666, 'max_degree': 1, 'components': 2}
    """
    return _structure(matrix)[0]


def _structure(matrix: Any) -> tuple[dict[str, Any], np.ndarray]:
    """:func:`structure_measures` and the per-label degrees, computed once."""
    from scipy.sparse.csgraph import connected_components

    if sp.issparse(matrix):
        m = matrix.tocsr().copy()
        m.eliminate_zeros()
        entries = int(m.nnz - np.count_nonzero(m.diagonal()))
        support = edge_support(m)
        degree = np.asarray(support.sum(axis=1)).ravel()
    else:  # dense (what a sweep measures): stay dense until the component search
        nonzero = np.asarray(matrix) != 0
        np.fill_diagonal(nonzero, False)
        entries = int(np.count_nonzero(nonzero))
        dense = nonzero | nonzero.T
        degree = dense.sum(axis=1)
        support = sp.csr_matrix(dense)
    c = support.shape[0]
    components = int(connected_components(support, directed=False)[0]) if c else 0
    return {
        "edges": entries,
        "density": float(entries / (c * (c - 1))) if c > 1 else 0.0,
        "isolated": int(np.count_nonzero(degree == 0)),
        "mean_degree": float(degree.mean()) if c else 0.0,
        "max_degree": int(degree.max()) if c else 0,
        "components": components,
    }, np.asarray(degree, dtype=np.int64)


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
    norm = sp.linalg.norm(m)
    if norm == 0:
        return 0.0
    return float(sp.linalg.norm(m - m.T) / norm)


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


def strongest_edges(artifact: Artifact, k: int = 10) -> list[tuple[str, str, float]]:
    """The ``k`` largest off-diagonal entries ``(row label, column label, weight)``, strongest first.

    A symmetric matrix lists each pair once (row before column in label order).

    Examples
    --------
    >>> g = Artifact.graph("probability", ["a", "b", "c"], [[0, 0.5, 0.1], [0.2, 0, 0], [0, 0, 0]])
    >>> [(a, b, round(w, 4)) for a, b, w in strongest_edges(g, 2)]
    [('a', 'b', 0.5), ('b', 'a', 0.2)]
    """
    m = graph_matrix(artifact).tocoo()
    keep = m.row != m.col
    if is_symmetric(m):
        keep &= m.row < m.col
    row, col, w = m.row[keep], m.col[keep], m.data[keep]
    order = np.lexsort((col, row, -w))[: max(0, k)]
    labels = artifact.labels
    return [(labels[row[i]], labels[col[i]], float(np.float32(w[i]))) for i in order]


@dataclass(frozen=True)
class GraphSummary:
    """What :func:`graph_summary` measures (definitions in the module docstring)."""

    kind: str
    num_labels: int
    num_edges: int
    density: float
    isolated: tuple[str, ...]
    mean_degree: float
    max_degree: int
    max_degree_labels: tuple[str, ...]
    components: int
    asymmetry: float
    self_loops: int
    weight_min: float
    weight_max: float
    weight_mean: float
    degree_histogram: tuple[tuple[int, int, int], ...]
    strongest: tuple[tuple[str, str, float], ...]
    normalized: bool | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """``(measure, value)`` pairs for a two-column table.

        Examples
        --------
        >>> g = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])
        >>> dict(graph_summary(g).rows())["edges"]
        '2'
        """
        iso = ", ".join(self.isolated[:10]) + (" …" if len(self.isolated) > 10 else "")
        return [
            ("kind", self.kind + ("" if self.normalized is None else (" (normalized)" if self.normalized else " (raw)"))),
            ("labels", str(self.num_labels)),
            ("edges", str(self.num_edges)),
            ("density", f"{self.density:.4f}"),
            ("isolated labels", f"{len(self.isolated)}" + (f" ({iso})" if iso else "")),
            ("mean degree", f"{self.mean_degree:.2f}"),
            ("max degree", f"{self.max_degree} ({', '.join(self.max_degree_labels[:3])})"),
            ("connected components", str(self.components)),
            ("asymmetry", f"{self.asymmetry:.4f}"),
            ("self loops", str(self.self_loops)),
            ("edge weights", f"min {self.weight_min:.4g}, mean {self.weight_mean:.4g}, max {self.weight_max:.4g}"),
        ]


def graph_summary(artifact: Artifact, *, top: int = 10, bins: int = 10) -> GraphSummary:
    """Summarize a graph artifact (a statistics artifact is summarized through its ``P``).

    Parameters
    ----------
    artifact : Artifact
        Any kind but ``embeddings``.
    top : int
        How many of the strongest edges to keep.
    bins : int
        At most this many degree-histogram ranges.

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b", "c"], [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    >>> s = graph_summary(g)
    >>> s.num_edges, s.components, s.isolated, s.self_loops
    (2, 2, ('c',), 3)
    """
    m = graph_matrix(artifact)
    measures, degree = _structure(m)
    coo = m.tocoo()
    off = coo.data[coo.row != coo.col]
    max_deg = int(degree.max()) if degree.size else 0
    normalized = artifact.meta.get("normalized")
    return GraphSummary(
        kind=artifact.kind,
        num_labels=artifact.num_labels,
        num_edges=measures["edges"],
        density=measures["density"],
        isolated=tuple(artifact.labels[i] for i in np.flatnonzero(degree == 0)),
        mean_degree=measures["mean_degree"],
        max_degree=max_deg,
        max_degree_labels=tuple(artifact.labels[i] for i in np.flatnonzero(degree == max_deg)) if max_deg else (),
        components=measures["components"],
        asymmetry=asymmetry(m),
        self_loops=int(np.count_nonzero(m.diagonal())),
        weight_min=float(off.min()) if off.size else 0.0,
        weight_max=float(off.max()) if off.size else 0.0,
        weight_mean=float(off.mean()) if off.size else 0.0,
        degree_histogram=tuple(degree_histogram(degree, bins)),
        strongest=tuple(strongest_edges(artifact, top)),
        normalized=None if normalized is None else bool(normalized),
    )
