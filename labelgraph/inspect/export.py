"""Write an artifact for other tools and other repositories' code (SPEC §2.9).

Graph formats (a graph artifact only; every non-zero entry, diagonal included):

``graphml``, ``gexf``
    A networkx graph (GraphML: the same bytes, written straight from the sparse entries) with label names as node ids, a ``weight`` on every edge
    and an ``index`` (the matrix position) on every node.  A symmetric matrix
    (``|A_ij − A_ji| ≤ 1e-7``) becomes an undirected graph holding each pair once,
    an asymmetric one a directed graph with the edge ``i → j`` for ``A_ij``.
``csv``
    ``source,target,weight`` with a header: one row per non-zero matrix entry
    ``A_ij`` as ``i,j,A_ij``, row-major, the diagonal included.
``edgelist``
    The same rows, tab-separated and without a header (label names may hold
    spaces); ``networkx.read_weighted_edgelist(path, delimiter="\\t")`` reads it.
``pyg``
    A ``.npz`` with ``edge_index`` (int64, 2 × E), ``edge_weight`` (float32, E),
    ``labels`` and ``num_nodes``.  Oriented for message passing (SPEC §2.9):
    ``edge_index[0] = j`` (source), ``edge_index[1] = i`` (target),
    ``edge_weight = Â_ij``, so PyG's ``GCNConv(normalize=False)`` or DGL's
    ``update_all`` over these edges computes ``Â·H``, what the GCN of ML-GCN,
    KSSNet and ``labelgraph train`` computes.

Files other repositories load, written exactly as they read them:

``mlgcn``
    From a statistics file, ML-GCN's ``<name>_adj.pkl``: ``{'adj': M, 'nums': n}``
    (int64 arrays; its ``gen_A`` divides ``adj`` by ``nums``).  From an embeddings
    file, ML-GCN's ``<name>_glove_word2vec.pkl``: the C × d float32 array.
``ssgrl``
    From a statistics file (or a ``probability`` graph), SSGRL's ``prob_train.npy``
    (``P``, C × C float64); from an embeddings file, its ``vectors.npy`` (C × d float32).
``npy``, ``pt``
    The dense matrix (float32 graph, int64 counts ``M`` of a statistics file, or the
    vectors of an embeddings file) as a ``.npy`` or a PyTorch ``.pt`` tensor
    (``torch.load(path, weights_only=True)``), with ``<name>.labels.txt`` beside it
    (one label a line, in matrix order).

Every file is written atomically, every output path is checked before the first
write, and an existing file is kept unless ``force``.
"""
from __future__ import annotations

import csv
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .._atomic import StagedWrites
from ..artifact import Artifact
from ..errors import ArtifactError, ConfigError

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_artifact", "export_graph", "default_export_path",
           "matrix_entries", "graphml_bytes"]

_NOT_GRAPHS = ("statistics", "embeddings")


@dataclass(frozen=True)
class ExportFormat:
    """One export target: the artifact kinds it takes and the file names it writes."""

    name: str
    summary: str
    accepts: Callable[[str], bool]
    refuse: str
    """The error for another kind (``{kind}`` and ``{fmt}`` filled in)."""


def _graph_only(kind: str) -> bool:
    return kind not in _NOT_GRAPHS


#: format name → default file suffix for the graph formats (the others name their files per kind).
_GRAPH_SUFFIX: dict[str, str] = {
    "graphml": ".graphml",
    "gexf": ".gexf",
    "csv": ".csv",
    "edgelist": ".edgelist",
    "pyg": ".pyg.npz",
}
_GRAPH_ONLY = "only graph artifacts can be exported to {fmt}, got a {kind} artifact (build a graph first)"

#: Every export target, in the order the CLI lists them.
EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("graphml", "GraphML (networkx)", _graph_only, _GRAPH_ONLY),
        ExportFormat("gexf", "GEXF (networkx, Gephi)", _graph_only, _GRAPH_ONLY),
        ExportFormat("csv", "source,target,weight rows", _graph_only, _GRAPH_ONLY),
        ExportFormat("edgelist", "tab-separated weighted edge list", _graph_only, _GRAPH_ONLY),
        ExportFormat("pyg", "PyTorch Geometric edge_index / edge_weight (.npz)", _graph_only, _GRAPH_ONLY),
        ExportFormat("mlgcn", "ML-GCN's <name>_adj.pkl (statistics) or <name>_glove_word2vec.pkl (embeddings)",
                     lambda k: k in _NOT_GRAPHS,
                     "cannot export a {kind} artifact to mlgcn: ML-GCN builds its graph from counts, so its "
                     "adj.pkl comes from a statistics file (and its glove_word2vec.pkl from an embeddings file)"),
        ExportFormat("ssgrl", "SSGRL's prob_train.npy (statistics) or vectors.npy (embeddings)",
                     lambda k: k in _NOT_GRAPHS or k == "probability",
                     "cannot export a {kind} artifact to ssgrl: its prob_train.npy is P, from a statistics file "
                     "or a probability graph (its vectors.npy from an embeddings file)"),
        ExportFormat("npy", "the dense matrix as .npy, labels.txt beside it", lambda k: True, ""),
        ExportFormat("pt", "the dense matrix as a torch .pt tensor, labels.txt beside it", lambda k: True, ""),
    )
}


def matrix_entries(artifact: Artifact) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, weights)`` of every non-zero entry, row-major (int64, int64, float32).

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a", "b"], [[0.5, 1], [0, 0]])
    >>> [x.tolist() for x in matrix_entries(g)]
    [[0, 0], [0, 1], [0.5, 1.0]]
    """
    if artifact.kind in _NOT_GRAPHS:
        raise ArtifactError(f"only graph artifacts can be exported, got {artifact.kind}")
    m = artifact.matrix.tocoo()
    order = np.lexsort((m.col, m.row))
    return (m.row[order].astype(np.int64), m.col[order].astype(np.int64),
            m.data[order].astype(np.float32))


def _check_format(fmt: str) -> ExportFormat:
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
    return EXPORT_FORMATS[fmt]


def _stem(source: Path) -> str:
    stem = source.name[:-4] if source.name.endswith(".npz") else source.stem
    return stem[: -len("_statistics")] if stem.endswith("_statistics") and stem != "_statistics" else stem


def default_export_path(source: str | os.PathLike[str], fmt: str, kind: str | None = None) -> Path:
    """The default output path for exporting ``source`` (an artifact of ``kind``) to ``fmt``.

    Graph formats, ``npy`` and ``pt`` keep the file name with the format's suffix;
    ``mlgcn`` writes ``<stem>_adj.pkl`` (statistics) or ``<stem>_glove_word2vec.pkl``
    (embeddings); ``ssgrl`` writes ``<stem>_ssgrl/prob_train.npy`` or
    ``<stem>_ssgrl/vectors.npy``.  ``<stem>`` drops a ``_statistics`` ending.

    Examples
    --------
    >>> default_export_path("graphs/coco2014_ks.npz", "pyg").as_posix()
    'graphs/coco2014_ks.pyg.npz'
    >>> default_export_path("graphs/coco2014_statistics.npz", "mlgcn", "statistics").as_posix()
    'graphs/coco2014_adj.pkl'
    >>> default_export_path("graphs/coco2014_statistics.npz", "ssgrl", "statistics").as_posix()
    'graphs/coco2014_ssgrl/prob_train.npy'
    """
    _check_format(fmt)
    source = Path(source)
    if fmt in _GRAPH_SUFFIX:
        plain = source.name[:-4] if source.name.endswith(".npz") else source.stem
        return source.with_name(plain + _GRAPH_SUFFIX[fmt])
    if fmt in ("npy", "pt"):
        plain = source.name[:-4] if source.name.endswith(".npz") else source.stem
        return source.with_name(f"{plain}.{fmt}")
    vectors = kind == "embeddings"
    if fmt == "mlgcn":
        return source.with_name(_stem(source) + ("_glove_word2vec.pkl" if vectors else "_adj.pkl"))
    return source.parent / f"{_stem(source)}_ssgrl" / ("vectors.npy" if vectors else "prob_train.npy")


def labels_path(path: str | os.PathLike[str]) -> Path:
    """Where the labels of an ``npy``/``pt`` export go: ``<name>.labels.txt`` beside it.

    Examples
    --------
    >>> labels_path("out/coco_mlgcn.npy").as_posix()
    'out/coco_mlgcn.labels.txt'
    """
    path = Path(path)
    return path.with_name(path.name.rsplit(".", 1)[0] + ".labels.txt")


def _gexf_bytes(artifact: Artifact) -> bytes:
    import networkx as nx

    graph = artifact.to_networkx(self_loops=True)
    for i, label in enumerate(artifact.labels):
        graph.nodes[label]["index"] = i
    buffer = io.BytesIO()
    graph.graph = {}  # GEXF has no typed graph-level attributes; keep the file plain
    nx.write_gexf(graph, buffer)
    return buffer.getvalue()


def _xml_attribute(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;"))


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_GRAPHML_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}
_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)


def graphml_bytes(artifact: Artifact, *, chunk: int = 1 << 16) -> memoryview:
    """The GraphML file of a graph artifact, written from the sparse entries (memory O(nnz), no networkx graph).

    Byte for byte what ``networkx.write_graphml`` writes for :meth:`Artifact.to_networkx`
    with self loops and an ``index`` on every node (``tests/test_export_graphml.py``), at a
    fraction of the memory: networkx holds a dict per edge (1.6 GB at C = 2,000).

    Examples
    --------
    >>> g = Artifact.graph("binary", ["a&b", "c"], [[0, 1], [1, 0]])
    >>> text = bytes(graphml_bytes(g)).decode()
    >>> '<edge source="a&amp;b" target="c">' in text, text.count("<edge ")
    (True, 1)
    """
    from ..graphs.measures import is_symmetric

    if artifact.kind in _NOT_GRAPHS:
        raise ArtifactError(f"only graph artifacts can be exported, got {artifact.kind}")
    m = artifact.matrix.tocsr()
    symmetric = is_symmetric(m)
    coo = m.tocoo()
    keep = coo.col >= coo.row if symmetric else np.ones(coo.nnz, dtype=bool)
    order = np.lexsort((coo.col[keep], coo.row[keep]))  # networkx's order: rows, then columns as added
    rows, cols, weights = coo.row[keep][order], coo.col[keep][order], coo.data[keep][order]
    graph_data = {k: v for k, v in artifact.meta.items() if isinstance(v, (int, float, str))}
    graph_data["kind"] = artifact.kind
    keys = [("graph", name, _GRAPHML_TYPES[type(value)]) for name, value in graph_data.items()
            if type(value) in _GRAPHML_TYPES]
    if artifact.num_labels:
        keys.append(("node", "index", "long"))
    if rows.size:
        keys.append(("edge", "weight", "double"))
    ids = {(what, name): f"d{i}" for i, (what, name, _) in enumerate(keys)}
    out = io.BytesIO()
    out.write(_GRAPHML_HEAD.encode())
    for i in reversed(range(len(keys))):
        what, name, kind = keys[i]
        out.write(f'  <key id="d{i}" for="{what}" attr.name="{_xml_attribute(name)}" attr.type="{kind}" />\n'
                  .encode())
    out.write(f'  <graph edgedefault="{"undirected" if symmetric else "directed"}">\n'.encode())
    names = [_xml_attribute(x) for x in artifact.labels]
    index_key = ids.get(("node", "index"))
    for start in range(0, len(names), chunk):
        out.write("".join(f'    <node id="{names[i]}">\n      <data key="{index_key}">{i}</data>\n    </node>\n'
                          for i in range(start, min(start + chunk, len(names)))).encode())
    weight_key = ids.get(("edge", "weight"))
    for start in range(0, rows.size, chunk):
        stop = start + chunk
        out.write("".join(
            f'    <edge source="{names[i]}" target="{names[j]}">\n      <data key="{weight_key}">{w!r}</data>\n'
            "    </edge>\n"
            for i, j, w in zip(rows[start:stop].tolist(), cols[start:stop].tolist(), weights[start:stop].tolist())
        ).encode())
    for name, value in graph_data.items():
        if type(value) in _GRAPHML_TYPES:
            text = repr(value) if isinstance(value, float) else str(value)
            out.write(f'    <data key="{ids[("graph", name)]}">{_xml_text(text)}</data>\n'.encode())
    out.write(b"  </graph>\n</graphml>\n")
    return out.getbuffer()


def _rows_text(artifact: Artifact, delimiter: str, header: bool) -> bytes:
    rows, cols, weights = matrix_entries(artifact)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    if header:
        writer.writerow(["source", "target", "weight"])
    labels = artifact.labels
    for i, j, w in zip(rows.tolist(), cols.tolist(), weights.tolist()):
        writer.writerow([labels[i], labels[j], repr(float(w))])
    return out.getvalue().encode("utf-8")


def _pyg_bytes(artifact: Artifact) -> bytes:
    rows, cols, weights = matrix_entries(artifact)
    buffer = io.BytesIO()
    # source = j, target = i: messages flow edge_index[0] -> edge_index[1], and row i of Â gathers from j
    np.savez(buffer, edge_index=np.stack([cols, rows]).astype(np.int64), edge_weight=weights,
             labels=np.array(artifact.labels, dtype=str), num_nodes=np.array(artifact.num_labels, dtype=np.int64))
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _pickle_bytes(obj: object) -> bytes:
    # ML-GCN opens these with pickle.load; plain dicts of int arrays / one float array, protocol 2
    return pickle.dumps(obj, protocol=2)


def _mlgcn_bytes(artifact: Artifact) -> bytes:
    if artifact.kind == "embeddings":
        return _pickle_bytes(np.asarray(artifact.vectors, dtype=np.float32))
    return _pickle_bytes({"adj": artifact.matrix.toarray().astype(np.int64), "nums": artifact.n.astype(np.int64)})


def _ssgrl_bytes(artifact: Artifact) -> bytes:
    if artifact.kind == "embeddings":
        return _npy_bytes(np.asarray(artifact.vectors, dtype=np.float32))
    if artifact.kind == "statistics":
        return _npy_bytes(np.asarray(artifact.conditional_probability(), dtype=np.float64))
    return _npy_bytes(artifact.to_dense().astype(np.float64))


def _pt_bytes(artifact: Artifact) -> bytes:
    try:
        import torch
    except ImportError:
        raise ConfigError("--to pt needs PyTorch (pip install 'labelgraph[train]')") from None
    buffer = io.BytesIO()
    torch.save(torch.from_numpy(np.ascontiguousarray(artifact.to_dense())), buffer)
    return buffer.getvalue()


_WRITERS: dict[str, Callable[[Artifact], bytes | memoryview]] = {
    "graphml": graphml_bytes,
    "gexf": _gexf_bytes,
    "csv": lambda a: _rows_text(a, ",", True),
    "edgelist": lambda a: _rows_text(a, "\t", False),
    "pyg": _pyg_bytes,
    "mlgcn": _mlgcn_bytes,
    "ssgrl": _ssgrl_bytes,
    "npy": lambda a: _npy_bytes(a.to_dense()),
    "pt": _pt_bytes,
}


def export_artifact(artifact: Artifact, path: str | os.PathLike[str], fmt: str, *,
                    force: bool = False) -> list[Path]:
    """Write ``artifact`` to ``path`` in format ``fmt`` (one of :data:`EXPORT_FORMATS`); return every file written.

    ``npy`` and ``pt`` also write :func:`labels_path` beside ``path``.  The files are
    written all or none, atomically; a file that already holds the same bytes is left
    as it is, and one that would change needs ``force``.

    Raises
    ------
    ConfigError
        An unknown format (the known ones are listed).
    ArtifactError
        A kind the format cannot hold (a statistics file to a graph format, a graph to
        ML-GCN's adj format), or an existing output that would change, without ``force``.

    Examples
    --------
    >>> s = Artifact.statistics(["cat", "dog"], [3, 2], [[0, 1], [1, 0]], 4)
    >>> [p.name for p in export_artifact(s, tmp / "m.npy", "npy")]
    ['m.npy', 'm.labels.txt']
    """
    spec = _check_format(fmt)
    if not spec.accepts(artifact.kind):
        raise ArtifactError(spec.refuse.format(kind=artifact.kind, fmt=fmt))
    outputs = [Path(path)] + ([labels_path(path)] if fmt in ("npy", "pt") else [])
    payloads = [_WRITERS[fmt](artifact)]
    if len(outputs) > 1:
        payloads.append("".join(f"{x}\n" for x in artifact.labels).encode("utf-8"))
    with StagedWrites(force=force) as run:  # all files or none; the same bytes again are left as they are
        for out, payload in zip(outputs, payloads):
            run.add(out, payload)
    return outputs


def export_graph(artifact: Artifact, path: str | os.PathLike[str], fmt: str, *, force: bool = False) -> Path:
    """Write ``artifact`` to ``path`` in format ``fmt`` atomically; return the main file (see :func:`export_artifact`).

    Examples
    --------
    >>> g = Artifact.graph("binary", ["cat", "dog"], [[0, 1], [1, 0]])
    >>> out = export_graph(g, tmp / "g.csv", "csv")
    >>> print(out.read_text().strip())
    source,target,weight
    cat,dog,1.0
    dog,cat,1.0
    """
    return export_artifact(artifact, path, fmt, force=force)[0]
