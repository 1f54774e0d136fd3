"""Compare two graphs over the same labels: alignment, edge Jaccard, Frobenius distance, rank correlation.

Edges are off-diagonal non-zero entries ``i → j``, counted per direction as in
:mod:`labelgraph.inspect.summary`; the edge Jaccard index is taken over these
entries.  The "only in one graph" lists give ``(row label, column label, weight)``,
each pair once (``i < j``) when both graphs are symmetric.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..artifact import Artifact
from ..errors import LabelMismatchError
from .summary import graph_matrix, is_symmetric

__all__ = ["GraphComparison", "compare_graphs"]


@dataclass(frozen=True)
class GraphComparison:
    """What :func:`compare_graphs` measures."""

    kinds: tuple[str, str]
    alignment: str
    """``"identical"`` (same labels, same order), ``"reordered"`` (same set, aligned by name) or ``"partial"``."""
    common_labels: int
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]
    edges_a: int
    edges_b: int
    edges_common: int
    edge_jaccard: float
    frobenius: float
    """``‖A − B‖_F`` over the common labels, diagonal included."""
    frobenius_relative: float
    """``‖A − B‖_F / max(‖A‖_F, ‖B‖_F)`` (0 when both are empty)."""
    spearman: float | None
    """Spearman rank correlation of the off-diagonal entries that are non-zero in either graph (None if undefined)."""
    edges_only_in_a: tuple[tuple[str, str, float], ...]
    edges_only_in_b: tuple[tuple[str, str, float], ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _edge_list(labels: tuple[str, ...], row: np.ndarray, col: np.ndarray, w: np.ndarray, k: int,
               upper: bool) -> tuple[tuple[str, str, float], ...]:
    if upper:
        keep = row < col
        row, col, w = row[keep], col[keep], w[keep]
    order = np.lexsort((col, row, -w))[:k]
    return tuple((labels[row[i]], labels[col[i]], float(np.float32(w[i]))) for i in order)


def _edges(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Sorted linear positions ``i·C + j`` of the off-diagonal non-zero entries, and their weights."""
    coo = m.tocoo()
    keep = (coo.row != coo.col) & (coo.data != 0)
    key = coo.row[keep].astype(np.int64) * m.shape[1] + coo.col[keep]
    order = np.argsort(key, kind="stable")
    return key[order], coo.data[keep][order]


def _frobenius(m: sp.csr_matrix) -> float:
    return math.sqrt(float(np.dot(m.data, m.data)))


def compare_graphs(a: Artifact, b: Artifact, *, top: int = 20) -> GraphComparison:
    """Compare two graph (or statistics) artifacts over the labels they share, aligned by name.

    Parameters
    ----------
    a, b : Artifact
        Graphs to compare; ``b`` is reordered to ``a``'s label order.
    top : int
        How many of the strongest edges found in only one graph to list.

    Raises
    ------
    LabelMismatchError
        Fewer than two labels in common.

    Examples
    --------
    >>> a = Artifact.graph("binary", ["x", "y", "z"], [[0, 1, 1], [1, 0, 0], [1, 0, 0]])
    >>> b = Artifact.graph("binary", ["z", "y", "x"], [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> c = compare_graphs(a, b)
    >>> c.alignment, c.edges_common, round(c.edge_jaccard, 4)
    ('reordered', 2, 0.3333)
    >>> c.edges_only_in_a, c.edges_only_in_b
    ((('x', 'z', 1.0),), (('y', 'z', 1.0),))
    """
    in_a, in_b = set(a.labels), set(b.labels)
    common = [x for x in a.labels if x in in_b]
    only_a = tuple(x for x in a.labels if x not in in_b)
    only_b = tuple(x for x in b.labels if x not in in_a)
    if len(common) < 2:
        raise LabelMismatchError(
            f"the two graphs share {len(common)} label(s); nothing to compare "
            f"(first has {a.num_labels}, second {b.num_labels})")
    if a.labels == b.labels:
        alignment = "identical"
    elif not only_a and not only_b:
        alignment = "reordered"
    else:
        alignment = "partial"
    if a.labels != tuple(common):
        a = a.reorder(common)
    if b.labels != tuple(common):
        b = b.reorder(common)
    A, B = graph_matrix(a), graph_matrix(b)
    c = len(common)
    ka, wa = _edges(A)
    kb, wb = _edges(B)
    n_a, n_b = int(ka.size), int(kb.size)
    n_ab = int(np.intersect1d(ka, kb, assume_unique=True).size)
    union = n_a + n_b - n_ab
    frob = _frobenius((A - B).tocsr())
    scale = max(_frobenius(A), _frobenius(B))
    spearman: float | None = None
    either = np.union1d(ka, kb)
    if either.size >= 2:
        from scipy.stats import spearmanr

        x, y = np.zeros(either.size), np.zeros(either.size)
        x[np.searchsorted(either, ka)] = wa
        y[np.searchsorted(either, kb)] = wb
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            spearman = float(spearmanr(x, y).statistic)
    upper = is_symmetric(A) and is_symmetric(B)
    in_a_only, in_b_only = ~np.isin(ka, kb, assume_unique=True), ~np.isin(kb, ka, assume_unique=True)
    labels = tuple(common)
    return GraphComparison(
        kinds=(a.kind, b.kind),
        alignment=alignment,
        common_labels=len(common),
        only_in_a=only_a,
        only_in_b=only_b,
        edges_a=n_a,
        edges_b=n_b,
        edges_common=n_ab,
        edge_jaccard=float(n_ab / union) if union else 1.0,
        frobenius=frob,
        frobenius_relative=float(frob / scale) if scale else 0.0,
        spearman=spearman,
        edges_only_in_a=_edge_list(labels, ka[in_a_only] // c, ka[in_a_only] % c, wa[in_a_only], top, upper),
        edges_only_in_b=_edge_list(labels, kb[in_b_only] // c, kb[in_b_only] % c, wb[in_b_only], top, upper),
    )
