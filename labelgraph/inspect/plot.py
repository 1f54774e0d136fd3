"""Figures of label graphs: a heatmap ordered by hierarchical clustering, and a network drawing.

matplotlib is an optional extra (``pip install 'labelgraph[plot]'``), imported
inside the functions.  Figures are built with :class:`matplotlib.figure.Figure`
on the Agg canvas, never through ``pyplot``: drawing a graph changes no global
matplotlib state, works without a display, and the saved PNG has exactly
``figsize × dpi`` pixels.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .._atomic import StagedWrites
from .._dense import check_dense
from .._threads import blas_threads
from ..artifact import Artifact
from ..errors import ConfigError, missing_dependency
from .summary import graph_matrix

__all__ = ["NETWORK_MAX_LABELS", "HEATMAP_MAX_LABELS", "NETWORK_DRAW_MAX_LABELS", "cluster_order", "top_labels", "new_figure", "draw_heatmap", "draw_network",
           "plot_graph", "plot_heatmaps", "save_figure"]

#: Above this many labels a network drawing is unreadable and is left out.
NETWORK_MAX_LABELS = 100
#: The most labels a heatmap is drawn for (a C × C float64 array and its distances: about 0.6 GB at 5,000).
HEATMAP_MAX_LABELS = 5_000
#: The most labels a network drawing is made for even when asked (the spring layout is O(C²) a step).
NETWORK_DRAW_MAX_LABELS = 1_000
_SPARSE_GRAM_DENSITY = 0.05
_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def top_labels(artifact: Artifact, n: int) -> Artifact:
    """The artifact restricted to its ``n`` labels of highest degree (ties: the earlier label), in label order.

    What ``plot --top N`` draws when the whole graph is too large for a heatmap.

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 1], [1, 0, 0], [1, 0, 0]])
    >>> top_labels(g, 2).labels
    ('a', 'b')
    """
    from ..graphs.measures import label_degrees

    if n < 1:
        raise ConfigError(f"--top must be at least 1, got {n}")
    if n >= artifact.num_labels:
        return artifact
    degree = label_degrees(graph_matrix(artifact))
    keep = np.sort(np.argsort(-degree, kind="stable")[:n])
    return artifact.subgraph([artifact.labels[i] for i in keep])


def _check_drawable(c: int, limit: int, what: str) -> None:
    if c > limit:
        raise ConfigError(f"a {what} of {c:,} labels is more than can be drawn (at most {limit:,}): plot the "
                          f"strongest part with --top N (N <= {limit:,}), or export the graph (labelgraph export "
                          f"--to graphml|csv) for a graph tool")


def _condensed_euclidean(S: Any) -> np.ndarray:
    """Euclidean distances between the rows of ``S`` in ``pdist``'s condensed form, through one matrix product.

    ``‖a − b‖² = (−2 a·b + ‖a‖²) + ‖b‖²`` with the Gram matrix from BLAS (or a sparse
    product for a sparse ``S``), tiny negative round-off clamped to 0.  Written row by
    row into the condensed array (the upper triangle only): a sparse Gram matrix is
    never made dense, only its stored entries are placed, each with the same
    arithmetic as a zero entry's ``‖a‖² + ‖b‖²``.
    """
    import scipy.sparse as sp

    c = S.shape[0]
    out = np.empty(c * (c - 1) // 2, dtype=np.float64)
    starts = np.r_[0, np.cumsum(np.arange(c - 1, 0, -1))].astype(np.int64)  # where row i's (i, i+1..) begin
    if sp.issparse(S):
        G = (S @ S.T).tocoo()
        sq = np.zeros(c, dtype=np.float64)
        on = G.row == G.col
        sq[G.row[on]] = G.data[on]
        for i in range(c - 1):
            np.add(sq[i], sq[i + 1:], out=out[starts[i]:starts[i] + c - 1 - i])
        upper = G.row < G.col
        i, j, g = G.row[upper].astype(np.int64), G.col[upper].astype(np.int64), G.data[upper]
        out[starts[i] + (j - i - 1)] = (g * -2.0 + sq[i]) + sq[j]
    else:
        with blas_threads(c):
            G = S @ S.T
        sq = G.diagonal().copy()
        for i in range(c - 1):
            row = out[starts[i]:starts[i] + c - 1 - i]
            np.multiply(G[i, i + 1:], -2.0, out=row)
            row += sq[i]
            row += sq[i + 1:]
    np.maximum(out, 0.0, out=out)
    np.sqrt(out, out=out)
    return out


def cluster_order(matrix: Any) -> np.ndarray:
    """Label order from average-linkage hierarchical clustering of the rows of ``(A + Aᵀ) / 2``.

    Labels whose rows are alike end up next to each other; the order is
    deterministic (``scipy.cluster.hierarchy.leaves_list`` of the linkage tree).
    The Euclidean distances come from one matrix product (a sparse one for a
    sparse matrix), not from ``pdist``: 5–6× faster, the same tree
    (``tests/test_inspect_plot_scale.py``).

    Examples
    --------
    >>> A = [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]
    >>> order = cluster_order(A).tolist()
    >>> abs(order.index(0) - order.index(2)), abs(order.index(1) - order.index(3))
    (1, 1)
    """
    import scipy.sparse as sp
    from scipy.cluster.hierarchy import leaves_list, linkage

    c = matrix.shape[0] if sp.issparse(matrix) else len(matrix)
    check_dense(c, "cluster_order")
    if c <= 2:
        return np.arange(c)
    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix, dtype=np.float64)
        S = ((m + m.T) / 2.0).tocsr()
        if S.nnz > _SPARSE_GRAM_DENSITY * c * c:
            S = S.toarray()
    else:
        A = np.asarray(matrix, dtype=np.float64)
        S = (A + A.T) / 2.0
    return leaves_list(linkage(_condensed_euclidean(S), method="average")).astype(np.int64)


def new_figure(figsize: tuple[float, float], dpi: float = 100) -> Any:
    """A matplotlib ``Figure`` on the Agg canvas (no pyplot, no global backend change).

    Examples
    --------
    >>> fig = new_figure((2, 1), dpi=50)
    >>> fig.canvas.get_width_height()
    (100, 50)
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_dependency("matplotlib", "plot") from None
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def draw_heatmap(ax: Any, artifact: Artifact, order: Sequence[int] | None = None, *,
                 show_diagonal: bool = False, title: str | None = None, tick_labels: bool | None = None) -> Any:
    """Draw the matrix of ``artifact`` on ``ax`` in ``order`` (default: :func:`cluster_order`); returns the image.

    The diagonal is hidden unless ``show_diagonal`` (self loops of a normalized
    graph would otherwise dominate the colour scale).  Label names are written
    on the axes for at most 100 labels.

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> ax = new_figure((2, 2), dpi=40).add_subplot()
    >>> draw_heatmap(ax, g, order=[2, 0, 1]).get_array().shape
    (3, 3)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['c', 'a', 'b']
    """
    _check_drawable(artifact.num_labels, HEATMAP_MAX_LABELS, "heatmap")
    check_dense(artifact.num_labels, "heatmap")
    m = graph_matrix(artifact)
    order = cluster_order(m) if order is None else np.asarray(order, dtype=np.int64)
    c = len(order)
    bbox = ax.get_window_extent()
    pixels = max(1, int(2 * max(bbox.width, bbox.height)))
    if c > pixels:  # more rows than pixels: pick each pixel's nearest row here, not in matplotlib's resampler
        pick = order[((np.arange(pixels) + 0.5) * c / pixels).astype(np.int64)]
    else:
        pick = order
    shown = m[pick][:, pick].toarray()
    if not show_diagonal:
        np.fill_diagonal(shown, np.nan)
    vmin, vmax = _colour_range(m, show_diagonal)
    image = ax.imshow(shown, cmap="viridis", interpolation="nearest", vmin=vmin, vmax=vmax,
                      extent=(-0.5, c - 0.5, c - 0.5, -0.5))
    if tick_labels is None:
        tick_labels = c <= NETWORK_MAX_LABELS
    if tick_labels:
        size = max(2.0, min(8.0, 400.0 / max(c, 1)))
        names = [artifact.labels[i] for i in order]
        ax.set_xticks(range(c), names, rotation=90, fontsize=size)
        ax.set_yticks(range(c), names, fontsize=size)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(title if title is not None else f"{artifact.kind} ({c} labels, clustered order)", fontsize=9)
    return image


def _colour_range(m: Any, diagonal: bool) -> tuple[float, float]:
    """The smallest and largest value shown: stored entries (off the diagonal unless shown) and 0 where not all are stored."""
    coo = m.tocoo()
    keep = np.ones(coo.nnz, dtype=bool) if diagonal else coo.row != coo.col
    values = coo.data[keep]
    c = m.shape[0]
    cells = c * c if diagonal else c * (c - 1)
    if values.size < cells:
        values = np.append(values, 0.0)
    if values.size == 0:
        return 0.0, 1.0
    return float(values.min()), float(values.max())


def draw_network(ax: Any, artifact: Artifact, *, seed: int = 0, min_weight: float = 0.0) -> None:
    """Draw the graph's edges (diagonal left out) with a seeded spring layout on ``ax``.

    Edge width and opacity grow with weight; nodes are labelled.

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> ax = new_figure((2, 2), dpi=40).add_subplot()
    >>> draw_network(ax, g)
    >>> ax.get_title()
    'binary: 1 linked label pairs'
    """
    import networkx as nx
    from matplotlib.collections import LineCollection

    _check_drawable(artifact.num_labels, NETWORK_DRAW_MAX_LABELS, "network drawing")
    check_dense(artifact.num_labels, "network drawing")
    A = graph_matrix(artifact).toarray()
    W = np.maximum(A, A.T)
    np.fill_diagonal(W, 0.0)
    graph = nx.Graph()
    graph.add_nodes_from(range(artifact.num_labels))
    rows, cols = np.nonzero(np.triu(W > min_weight, k=1))
    graph.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), W[rows, cols].tolist()))
    pos = nx.spring_layout(graph, seed=seed, weight="weight")
    xy = np.array([pos[i] for i in range(artifact.num_labels)]).reshape(-1, 2)
    if rows.size:
        w = W[rows, cols]
        scale = w / w.max()
        segments = np.stack([xy[rows], xy[cols]], axis=1)
        colors = np.zeros((rows.size, 4))
        colors[:, 2] = 0.5
        colors[:, 3] = 0.15 + 0.6 * scale
        ax.add_collection(LineCollection(segments, linewidths=0.3 + 2.0 * scale, colors=colors))
    ax.scatter(xy[:, 0], xy[:, 1], s=18, c="tab:orange", zorder=3)
    size = max(4.0, min(8.0, 500.0 / max(artifact.num_labels, 1)))
    for (x, y), name in zip(xy, artifact.labels):
        ax.text(x, y, name, fontsize=size, ha="center", va="bottom", zorder=4)
    ax.set_axis_off()
    ax.set_title(f"{artifact.kind}: {rows.size} linked label pairs", fontsize=9)


#: Metadata that keeps a date out of the file (matplotlib writes one into SVG and PDF by default).
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_figure(fig: Any, path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Save ``fig`` atomically as PNG, SVG or PDF (by suffix); a file that would change needs ``force``.

    No creation date is written, so the same figure gives the same bytes and a second
    run leaves the file as it is.

    Examples
    --------
    >>> path = save_figure(new_figure((1, 1), dpi=20), tmp / "f.png")
    >>> path.read_bytes()[:4]
    b'\\x89PNG'
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"{path}: unknown figure format {path.suffix!r} (use .png, .svg or .pdf)")
    buffer = io.BytesIO()
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "labelgraph"}):  # SVG ids from a fixed salt, not a random one
        fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata=_NO_DATE.get(fmt))
    with StagedWrites(force=force) as run:  # the same figure again leaves the file as it is
        run.add(path, buffer.getvalue())
    return path


def plot_graph(artifact: Artifact, path: str | os.PathLike[str] | None = None, *, network: bool | None = None,
               size: float = 6.0, dpi: float = 100, force: bool = False, top: int | None = None) -> Any:
    """A clustered heatmap, and beside it a network drawing for at most 100 labels.

    Parameters
    ----------
    artifact : Artifact
        A graph (or statistics, drawn through ``P``).
    path : path, optional
        Where to save (``.png``, ``.svg``, ``.pdf``); without it the ``Figure`` is returned.
    network : bool, optional
        Draw the network panel; default: when the graph has ≤ 100 labels.
    size, dpi : float
        Each panel is ``size × size`` inches; a PNG is ``panels·size·dpi × size·dpi`` pixels.
    top : int, optional
        Draw only the ``top`` labels of highest degree (:func:`top_labels`).  A graph of
        more than :data:`HEATMAP_MAX_LABELS` labels is refused without it.

    Returns
    -------
    Path or matplotlib.figure.Figure

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> out = plot_graph(g, tmp / "g.png", size=2, dpi=50)
    >>> out.suffix
    '.png'
    """
    if top is not None:
        artifact = top_labels(artifact, top)
    _check_drawable(artifact.num_labels, HEATMAP_MAX_LABELS, "heatmap")
    if network is None:
        network = artifact.num_labels <= NETWORK_MAX_LABELS
    elif network:
        _check_drawable(artifact.num_labels, NETWORK_DRAW_MAX_LABELS, "network drawing")
    panels = 2 if network else 1
    fig = new_figure((size * panels, size), dpi)
    ax = fig.add_subplot(1, panels, 1)
    image = draw_heatmap(ax, artifact)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if network:
        draw_network(fig.add_subplot(1, panels, 2), artifact)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.18, top=0.93, wspace=0.25)
    return fig if path is None else save_figure(fig, path, force=force)


def plot_heatmaps(artifacts: Mapping[str, Artifact], path: str | os.PathLike[str] | None = None, *,
                  size: float = 4.0, dpi: float = 100, force: bool = False) -> Any:
    """Heatmaps of several graphs side by side, all in the clustered order of the first.

    Every artifact must hold the first one's labels (any order; they are aligned by name).

    Examples
    --------
    >>> a = Artifact.graph("binary", ["x", "y"], [[0, 1], [1, 0]])
    >>> fig = plot_heatmaps({"one": a, "two": a}, size=2, dpi=40)
    >>> len(fig.axes)
    2
    """
    from ..artifact import require_same_labels

    if not artifacts:
        raise ConfigError("plot_heatmaps needs at least one graph")
    names = list(artifacts)
    first = artifacts[names[0]]
    _check_drawable(first.num_labels, HEATMAP_MAX_LABELS, "heatmap")
    order = cluster_order(graph_matrix(first))
    fig = new_figure((size * len(names), size), dpi)
    for k, name in enumerate(names):
        art = artifacts[name]
        if art.labels != first.labels:
            require_same_labels(sorted(first.labels), sorted(art.labels), names[0], name)
            art = art.reorder(first.labels)
        draw_heatmap(fig.add_subplot(1, len(names), k + 1), art, order, title=name, tick_labels=False)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.04, top=0.9, wspace=0.08)
    return fig if path is None else save_figure(fig, path, force=force)
