"""Write a graph artifact for other tools: GraphML, GEXF, CSV, a tab-separated edge list, or PyTorch Geometric arrays.

What each format holds (every file is written atomically, and an existing file
is kept unless ``force``):

``graphml``, ``gexf``
    A networkx graph with label names as node ids, a ``weight`` on every edge
    and an ``index`` (the matrix position) on every node.  A symmetric matrix
    (``|A_ij − A_ji| ≤ 1e-7``) becomes an undirected graph holding each pair once,
    an asymmetric one a directed graph.  Self loops (the diagonal) are kept, so
    the matrix the GCN consumes can be rebuilt exactly.
``csv``
    ``source,target,weight`` with a header: one row per non-zero matrix entry,
    row-major, the diagonal included (both directions of a symmetric pair).
``edgelist``
    The same rows, tab-separated and without a header (label names may hold
    spaces); ``networkx.read_weighted_edgelist(path, delimiter="\\t")`` reads it.
``pyg``
    A ``.npz`` with ``edge_index`` (int64, 2 × E: row indices, column indices),
    ``edge_weight`` (float32, E), ``labels`` and ``num_nodes`` — every non-zero
    entry, as PyTorch Geometric expects (both directions, self loops included;
    use ``GCNConv(normalize=False)`` to apply the saved ``Â`` as is).
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Callable

import numpy as np

from .._atomic import atomic_write, check_writable
from ..artifact import Artifact
from ..errors import ArtifactError, ConfigError

__all__ = ["EXPORT_FORMATS", "export_graph", "default_export_path", "matrix_entries"]

#: format name → default file suffix
EXPORT_FORMATS: dict[str, str] = {
    "graphml": ".graphml",
    "gexf": ".gexf",
    "csv": ".csv",
    "edgelist": ".edgelist",
    "pyg": ".pyg.npz",
}


def matrix_entries(artifact: Artifact) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, weights)`` of every non-zero entry, row-major (int64, int64, float32).

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b"], [[0.5, 1], [0, 0]])
    >>> [x.tolist() for x in matrix_entries(g)]
    [[0, 0], [0, 1], [0.5, 1.0]]
    """
    if artifact.kind in ("embeddings", "statistics"):
        raise ArtifactError(f"only graph artifacts can be exported, got {artifact.kind}")
    m = artifact.matrix.tocoo()
    order = np.lexsort((m.col, m.row))
    return (m.row[order].astype(np.int64), m.col[order].astype(np.int64),
            m.data[order].astype(np.float32))


def default_export_path(source: str | os.PathLike[str], fmt: str) -> Path:
    """The default output path: the source file with the format's suffix.

    Examples
    --------
    >>> default_export_path("graphs/coco2014_ks.npz", "pyg").as_posix()
    'graphs/coco2014_ks.pyg.npz'
    """
    _check_format(fmt)
    source = Path(source)
    stem = source.name[:-4] if source.name.endswith(".npz") else source.stem
    return source.with_name(stem + EXPORT_FORMATS[fmt])


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")


def _networkx_bytes(artifact: Artifact, fmt: str) -> bytes:
    import networkx as nx

    graph = artifact.to_networkx(self_loops=True)
    for i, label in enumerate(artifact.labels):
        graph.nodes[label]["index"] = i
    buffer = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(graph, buffer)
    else:
        graph.graph = {}  # GEXF has no typed graph-level attributes; keep the file plain
        nx.write_gexf(graph, buffer)
    return buffer.getvalue()


def _rows_text(artifact: Artifact, delimiter: str, header: bool) -> str:
    rows, cols, weights = matrix_entries(artifact)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(["source", "target", "weight"])
    labels = artifact.labels
    for i, j, w in zip(rows.tolist(), cols.tolist(), weights.tolist()):
        writer.writerow([labels[i], labels[j], repr(float(w))])
    return out.getvalue()


def _pyg_bytes(artifact: Artifact) -> bytes:
    rows, cols, weights = matrix_entries(artifact)
    buffer = io.BytesIO()
    np.savez(buffer, edge_index=np.stack([rows, cols]).astype(np.int64), edge_weight=weights,
             labels=np.array(artifact.labels, dtype=str), num_nodes=np.array(artifact.num_labels, dtype=np.int64))
    return buffer.getvalue()


_WRITERS: dict[str, Callable[[Artifact], bytes]] = {
    "graphml": lambda a: _networkx_bytes(a, "graphml"),
    "gexf": lambda a: _networkx_bytes(a, "gexf"),
    "csv": lambda a: _rows_text(a, ",", True).encode("utf-8"),
    "edgelist": lambda a: _rows_text(a, "\t", False).encode("utf-8"),
    "pyg": _pyg_bytes,
}


def export_graph(artifact: Artifact, path: str | os.PathLike[str], fmt: str, *, force: bool = False) -> Path:
    """Write ``artifact`` to ``path`` in format ``fmt`` (one of :data:`EXPORT_FORMATS`), atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> g = Artifact.graph("binary", ["cat", "dog"], [[0, 1], [1, 0]])
    >>> out = export_graph(g, pathlib.Path(tempfile.mkdtemp()) / "g.csv", "csv")
    >>> print(out.read_text().strip())
    source,target,weight
    cat,dog,1.0
    dog,cat,1.0
    """
    _check_format(fmt)
    if artifact.kind in ("embeddings", "statistics"):
        raise ArtifactError(f"only graph artifacts can be exported, got {artifact.kind}")
    path = check_writable(path, force=force)
    payload = _WRITERS[fmt](artifact)
    with atomic_write(path, "wb") as handle:
        handle.write(payload)
    return path
