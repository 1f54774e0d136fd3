"""The summary of a graph artifact: edges, density, isolated labels, degrees, asymmetry, components.

The measures themselves, and their definitions, are :mod:`labelgraph.graphs.measures`
(arrays in, numbers out); this module names what they find with the artifact's labels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..artifact import Artifact
from ..errors import ArtifactError
from ..stats import conditional_probability
from ..graphs.measures import (
    asymmetry,
    degree_histogram,
    edge_support,
    is_symmetric,
    label_degrees,
    structure_and_degrees,
    structure_measures,
)

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
        return conditional_probability(artifact.matrix, artifact.n, artifact.labels, sparse=True)
    return sp.csr_matrix(artifact.matrix, dtype=np.float64)


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
    if 0 < k < w.size:  # only entries at least as strong as the k-th can be listed (ties all kept)
        strong = w >= np.partition(w, w.size - k)[w.size - k]
        row, col, w = row[strong], col[strong], w[strong]
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
    measures, degree = structure_and_degrees(m)
    coo = m.tocoo()
    off = coo.data[coo.row != coo.col]
    max_deg = int(degree.max()) if degree.size else 0
    normalized = artifact.meta.get("normalized")
    return GraphSummary(
        kind=artifact.kind,
        num_labels=artifact.num_labels,
        num_edges=measures["num_edges"],
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
