"""The one artifact type: a labelled matrix in a ``.npz`` that numpy and scipy open directly.

Layout (SPEC §4): the sparse matrix under scipy's keys ``data``, ``indices``,
``indptr``, ``shape``, ``format``; ``labels`` (unicode array), ``kind`` and
``meta`` (a JSON string).  Statistics files add ``n`` and ``num_samples``;
embeddings files hold ``vectors`` (C × d float32) instead of the sparse keys.
Nothing in a file is ever unpickled.

An artifact is immutable: its arrays are read-only and ``meta`` is a read-only
mapping; :meth:`Artifact.replace` and :meth:`Artifact.with_meta` make changed
copies with a recomputed content hash.  This module depends only on the numeric
core (:mod:`labelgraph.stats`, the kind registry), validation and the file layer;
views such as the notebook HTML are registered from above (:func:`register_html_view`).
"""
from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import json
import logging
import os
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ._dense import check_dense
from ._validate import KIND_RULES, KindRule, known_kinds
from ._version import __version__
from .errors import ArtifactError, LabelMismatchError
from .files import unique_names
from .stats import conditional_probability

__all__ = ["Artifact", "KINDS", "load", "require_same_labels", "content_hash", "npz_bytes", "save_artifacts",
           "register_html_view"]

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    if name == "KINDS":  # derived from the graph-kind registry (labelgraph.graphs.kinds.STATISTICAL_KINDS)
        return known_kinds()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _FrozenDict(dict):
    """A dict that refuses changes (a nested ``meta`` value); JSON encoders see a plain dict."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("an artifact's meta is read-only; make a changed copy with Artifact.with_meta(...)")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenDict, (dict(self),))


class _FrozenList(list):
    """A list that refuses changes (a nested ``meta`` value); it still equals a list with the same items."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("an artifact's meta is read-only; make a changed copy with Artifact.with_meta(...)")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = clear = extend = insert = pop = remove = \
        reverse = sort = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_FrozenList, (list(self),))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return _FrozenDict({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return _FrozenList(_freeze(v) for v in value)
    return value


def _frozen_meta(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only deep copy of ``meta`` as it will be saved (through JSON: tuples become lists, paths strings)."""
    try:
        plain = json.loads(json.dumps({k: v for k, v in meta.items() if k != "content_hash"}, default=_json_default))
    except (TypeError, ValueError) as exc:
        raise ArtifactError(f"artifact meta must be JSON-serializable: {exc}") from None
    return _freeze(plain)


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.setflags(write=False)
    return arr


_html_view: list[Callable[["Artifact"], str]] = []


def register_html_view(view: Callable[["Artifact"], str]) -> None:
    """Make ``view(artifact) -> str`` the notebook view (``Artifact._repr_html_``) of every artifact.

    :mod:`labelgraph.inspect.html` registers its summary-and-heatmap view when it is
    imported (``import labelgraph`` arranges that on first use); until then an
    artifact shows a short table of its own.

    Examples
    --------
    >>> before = list(_html_view)
    >>> register_html_view(lambda a: f"<b>{a.kind}</b>")
    >>> Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])._repr_html_()
    '<b>binary</b>'
    >>> _html_view[:] = before
    """
    _html_view[:] = [view]


def _shareable(matrix: Any, dtype: np.dtype | type) -> bool:
    """A CSR matrix whose arrays are read-only and already in the artifact's form (dtype, sorted, no zeros)."""
    if not (sp.issparse(matrix) and matrix.format == "csr" and matrix.dtype == dtype):
        return False
    arrays = (matrix.data, matrix.indices, matrix.indptr)
    if any(a.flags.writeable for a in arrays) or matrix.indices.dtype != np.int32:
        return False
    if matrix.indptr.dtype != (np.int32 if matrix.nnz < 2**31 else np.int64):
        return False
    return bool(matrix.has_canonical_format and matrix.data.all())


def _plain_html(art: "Artifact") -> str:
    size = (f"{art.vectors.shape[1]} dimensions" if art.kind == "embeddings"
            else f"{art.matrix.nnz - int(np.count_nonzero(art.matrix.diagonal()))} off-diagonal entries")
    names = ", ".join(html.escape(x) for x in art.labels[:30]) + (" …" if art.num_labels > 30 else "")
    return (f"<div><b>labelgraph {html.escape(art.kind)} artifact</b>: {art.num_labels} labels, {size}"
            f"<div style='font-size:11px'>labels: {names}</div></div>")


def _canonical_csr(matrix: Any, dtype: np.dtype | type) -> sp.csr_matrix:
    if _shareable(matrix, dtype):  # read-only and canonical already: nobody can change it, so no copy
        return sp.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=matrix.shape)
    m = sp.csr_matrix(matrix, dtype=dtype, copy=True)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    m.indices = m.indices.astype(np.int32, copy=False)
    m.indptr = m.indptr.astype(np.int32 if m.nnz < 2**31 else np.int64, copy=False)
    return m


#: zlib level of an artifact whose arrays hold at least :data:`NPZ_LARGE` bytes: level 1 writes a
#: C = 20,000 statistics file 4.8x faster than level 6 for 98 % of its saving in bytes (docs/benchmarks.md).
NPZ_FAST_LEVEL = 1
#: Smaller artifacts keep ``np.savez_compressed``'s level 6 (milliseconds either way, and smaller files).
NPZ_LARGE = 2**20
#: Every member's zip timestamp, so that the same arrays give the same bytes.
_NPZ_DATE = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: Mapping[str, np.ndarray], compresslevel: int | None = None) -> bytes:
    """The ``.npz`` of ``arrays``, as ``np.savez_compressed`` writes it but at zlib ``compresslevel``.

    By default level 6 (numpy's) below :data:`NPZ_LARGE` bytes of arrays; from there on
    level :data:`NPZ_FAST_LEVEL` (1), deflated in blocks on threads by
    :func:`labelgraph._npz.zip_npz` (one deflate stream a member, as any unzip reads it).

    A zip of ``<name>.npy`` members (deflated, fixed timestamps, no pickle), so
    ``numpy.load(allow_pickle=False)`` and ``scipy.sparse.load_npz`` read it, and the
    same arrays always give the same bytes.

    Examples
    --------
    >>> data = npz_bytes({"x": np.arange(3)})
    >>> np.load(io.BytesIO(data), allow_pickle=False)["x"].tolist()
    [0, 1, 2]
    >>> data == npz_bytes({"x": np.arange(3)})
    True
    """
    import zipfile
    from numpy.lib import format as npy_format

    if compresslevel is None:
        if sum(np.asanyarray(v).nbytes for v in arrays.values()) >= NPZ_LARGE:
            from ._npz import Zip64Needed, zip_npz

            try:
                return zip_npz(arrays, NPZ_FAST_LEVEL)
            except Zip64Needed:  # over 4 GiB: zipfile writes the ZIP64 records
                pass
            compresslevel = NPZ_FAST_LEVEL
        else:
            compresslevel = 6
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, value in arrays.items():
            member = io.BytesIO()
            npy_format.write_array(member, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_NPZ_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, member.getbuffer(), compresslevel=compresslevel)
    return buffer.getvalue()


def content_hash(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 over the named arrays (name, dtype, shape, bytes), in sorted name order.

    Examples
    --------
    >>> content_hash({"a": np.arange(3)}) == content_hash({"a": np.arange(3)})
    True
    """
    digest = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])  # (a 0-d array hashes as shape (1,), as it always has)
        digest.update(name.encode())
        digest.update(str(arr.dtype.str).encode())
        digest.update(repr(arr.shape).encode())
        digest.update(arr.data)  # the bytes, not copied
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Artifact:
    """A labelled C × C matrix (graph or statistics) or C × d label vectors.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    labels : tuple of str
        Row (and column) names, in matrix order.
    matrix : scipy.sparse.csr_matrix, optional
        The C × C matrix (``M`` for statistics: int64 counts, zero diagonal).
    meta : dict
        Parameters, variant, sources with sha256, package version.
    n : ndarray of int64, optional
        Per-label sample counts (statistics only).
    num_samples : int, optional
        ``N`` (statistics only).
    vectors : ndarray of float32, optional
        C × d label embeddings (``kind == "embeddings"`` only).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> a = Artifact.graph("binary", ["cat", "dog"], np.array([[0, 1], [1, 0]]), {"tau": 0.4})
    >>> a.to_dense().tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    >>> a.neighbors("cat")
    [('dog', 1.0)]
    """

    kind: str
    labels: tuple[str, ...]
    matrix: sp.csr_matrix | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    n: np.ndarray | None = None
    num_samples: int | None = None
    vectors: np.ndarray | None = None

    # -- construction -------------------------------------------------------------------------
    def __post_init__(self) -> None:
        if self.kind not in known_kinds():
            raise ArtifactError(f"unknown artifact kind {self.kind!r} (known: {', '.join(known_kinds())})")
        labels = tuple(str(x) for x in self.labels)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "meta", _frozen_meta(self.meta))
        unique_names(labels, error=ArtifactError)
        c = len(labels)
        if self.kind == "embeddings":
            if self.vectors is None or self.vectors.ndim != 2 or self.vectors.shape[0] != c:
                raise ArtifactError(f"embeddings need a {c} x d vectors array")
            if self.vectors.shape[1] < 1:
                raise ArtifactError("embeddings need vectors of width d >= 1, got d = 0")
            object.__setattr__(self, "vectors", _read_only(np.array(self.vectors, dtype=np.float32, order="C")))
        else:
            if self.matrix is None or self.matrix.shape != (c, c):
                shape = None if self.matrix is None else self.matrix.shape
                raise ArtifactError(f"a {self.kind} artifact needs a {c} x {c} matrix, got {shape}")
            dtype = np.int64 if self.kind == "statistics" else np.float32
            matrix = _canonical_csr(self.matrix, dtype)
            for arr in (matrix.data, matrix.indices, matrix.indptr):
                _read_only(arr)
            object.__setattr__(self, "matrix", matrix)
        if self.kind == "statistics":
            if self.n is None or self.num_samples is None:
                raise ArtifactError("a statistics artifact needs n and num_samples")
            n = np.array(self.n, dtype=np.int64)
            if n.shape != (c,):
                raise ArtifactError(f"n has shape {n.shape}, expected ({c},)")
            object.__setattr__(self, "n", _read_only(n))
            object.__setattr__(self, "num_samples", int(self.num_samples))
        meta = dict(self.meta)
        meta["content_hash"] = content_hash(self._arrays())
        object.__setattr__(self, "meta", types.MappingProxyType(meta))

    def replace(self, **changes: Any) -> "Artifact":
        """A copy with some fields changed (``matrix``, ``meta``, ``labels``, ``n``, …), checked and re-hashed.

        A ``content_hash`` in the new ``meta`` is ignored: the copy's is computed from its arrays.

        Examples
        --------
        >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]], {"tau": 0.4})
        >>> b = a.replace(matrix=[[0, 1], [0, 0]])
        >>> b.meta["tau"], b.content_hash == a.content_hash, a.matrix.nnz
        (0.4, False, 2)
        """
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ArtifactError(f"an artifact has no field {unknown[0]!r}")
        if "matrix" in changes and changes["matrix"] is not None:
            changes["matrix"] = sp.csr_matrix(changes["matrix"])
        return dataclasses.replace(self, **changes)

    def with_meta(self, **changes: Any) -> "Artifact":
        """A copy whose ``meta`` has ``changes`` added or replaced (the arrays, and so the content hash, stay).

        Examples
        --------
        >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]], {"tau": 0.4})
        >>> a.with_meta(note="toy").meta["note"], "note" in a.meta
        ('toy', False)
        """
        return self.replace(meta={**self.meta, **changes})

    def __reduce__(self) -> tuple[Any, ...]:
        meta = json.loads(json.dumps(dict(self.meta)))
        return (Artifact, (self.kind, self.labels, self.matrix, meta, self.n, self.num_samples, self.vectors))

    @classmethod
    def graph(cls, kind: str, labels: Sequence[str], matrix: Any,
              meta: Mapping[str, Any] | None = None) -> "Artifact":
        """A C × C graph artifact (stored as float32 CSR)."""
        return cls(kind=kind, labels=tuple(labels), matrix=sp.csr_matrix(matrix), meta=dict(meta or {}))

    @classmethod
    def statistics(cls, labels: Sequence[str], n: Any, M: Any, num_samples: int,
                   meta: Mapping[str, Any] | None = None) -> "Artifact":
        """A statistics artifact: ``n`` (C,), ``M`` (C × C, zero diagonal) and ``N``."""
        return cls(kind="statistics", labels=tuple(labels), matrix=sp.csr_matrix(M),
                   n=np.asarray(n), num_samples=int(num_samples), meta=dict(meta or {}))

    @classmethod
    def embeddings(cls, labels: Sequence[str], vectors: Any,
                   meta: Mapping[str, Any] | None = None) -> "Artifact":
        """A label-embeddings artifact (C × d float32)."""
        return cls(kind="embeddings", labels=tuple(labels), vectors=np.asarray(vectors), meta=dict(meta or {}))

    # -- views --------------------------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        """C, the number of labels."""
        return len(self.labels)

    @property
    def content_hash(self) -> str:
        """sha256 of the arrays (not of the zip container)."""
        return str(self.meta["content_hash"])

    def index(self, label: str) -> int:
        """Position of ``label``; an error suggesting close names when it is absent."""
        try:
            return self.labels.index(label)
        except ValueError:
            import difflib

            close = difflib.get_close_matches(label, self.labels, n=3, cutoff=0.5)
            hint = f" (did you mean: {', '.join(close)}?)" if close else ""
            raise LabelMismatchError(f"label {label!r} is not in this {self.kind} artifact{hint}") from None

    def to_dense(self) -> np.ndarray:
        """The matrix as a dense array (float32 for graphs, int64 for statistics, the vectors for embeddings)."""
        if self.kind == "embeddings":
            return np.array(self.vectors)
        check_dense(self.num_labels, f"this {self.kind} artifact's to_dense()")
        return self.matrix.toarray()

    def without_diagonal(self) -> "Artifact":
        """The same graph with its diagonal set to zero (a knowledge graph's rule, SPEC §2.5).

        Examples
        --------
        >>> Artifact.graph("knowledge", ["a", "b"], [[2, 1], [1, 0]]).without_diagonal().matrix.diagonal().tolist()
        [0.0, 0.0]
        """
        if self.kind == "embeddings":
            raise ArtifactError("an embeddings artifact has no diagonal")
        matrix = self.matrix.tolil()
        matrix.setdiag(0)
        return self.replace(matrix=matrix.tocsr())

    def conditional_probability(self) -> np.ndarray:
        """``P = M / n`` for a statistics artifact (SPEC §1); zero rows where ``n_i = 0``."""
        self._require("statistics")
        return conditional_probability(self.matrix, self.n, labels=self.labels)

    def to_networkx(self, *, self_loops: bool = False):
        """A networkx graph with label names as nodes and ``weight`` on edges.

        Symmetric matrices give a ``Graph``, asymmetric ones a ``DiGraph``.  The
        diagonal is left out unless ``self_loops``.
        """
        import networkx as nx

        if self.kind == "embeddings":
            raise ArtifactError("an embeddings artifact has no graph")
        m = self.matrix.tocoo()
        symmetric = (abs(self.matrix - self.matrix.T) > 1e-7).nnz == 0
        graph = nx.Graph() if symmetric else nx.DiGraph()
        graph.add_nodes_from(self.labels)
        for i, j, w in zip(m.row.tolist(), m.col.tolist(), m.data.tolist()):
            if (i == j and not self_loops) or (symmetric and j < i):
                continue
            graph.add_edge(self.labels[i], self.labels[j], weight=float(w))
        graph.graph.update({k: v for k, v in self.meta.items() if isinstance(v, (int, float, str))})
        graph.graph["kind"] = self.kind
        return graph

    def neighbors(self, label: str, k: int | None = None, *, direction: str = "both") -> list[tuple[str, float]]:
        """The strongest neighbours of ``label`` (diagonal excluded), strongest first, ties by name.

        Parameters
        ----------
        label : str
        k : int, optional
            How many to return (all by default).
        direction : {"both", "out", "in"}
            ``"out"``: row ``i``, the labels ``j`` with ``A_ij ≠ 0`` (what label ``i``
            gathers from in ``Â·H``); ``"in"``: column ``i``, the labels that gather
            from ``label``; ``"both"`` (default): either, weighted by the larger of
            ``A_ij`` and ``A_ji``.  Graphs built from ``P`` are asymmetric: COCO's
            ``person`` has no out-edges in the binary graph at τ = 0.4 (no label is
            likely given person) but many in-edges.

        Examples
        --------
        >>> g = Artifact.graph("binary", ["cat", "dog", "fox"], [[0, 0, 0], [1, 0, 0], [0.5, 0, 0]])
        >>> g.neighbors("cat", direction="out")
        []
        >>> g.neighbors("cat")
        [('dog', 1.0), ('fox', 0.5)]
        """
        if self.kind == "embeddings":
            raise ArtifactError("an embeddings artifact has no neighbours")
        if direction not in ("both", "out", "in"):
            raise ArtifactError(f"direction must be 'both', 'out' or 'in', got {direction!r}")
        i = self.index(label)
        weights: dict[int, float] = {}
        if direction in ("out", "both"):
            row = self.matrix.getrow(i).tocoo()
            weights.update(zip(row.col.tolist(), row.data.tolist()))
        if direction in ("in", "both"):
            column = self.matrix.getcol(i).tocoo()
            for j, w in zip(column.row.tolist(), column.data.tolist()):
                weights[j] = max(weights[j], w) if j in weights else w
        pairs = [(self.labels[j], float(w)) for j, w in weights.items() if j != i]
        pairs.sort(key=lambda t: (-t[1], t[0]))
        return pairs if k is None else pairs[:k]

    def reorder(self, labels: Sequence[str]) -> "Artifact":
        """The same artifact with its labels in the order ``labels`` (a permutation or a subset)."""
        idx = np.array([self.index(x) for x in labels], dtype=np.int64)
        if self.kind == "embeddings":
            return self.replace(labels=tuple(labels), vectors=self.vectors[idx])
        matrix = self.matrix[idx][:, idx]
        n = None if self.n is None else self.n[idx]
        return self.replace(labels=tuple(labels), matrix=matrix, n=n)

    def subgraph(self, labels: Iterable[str]) -> "Artifact":
        """The artifact restricted to ``labels`` (in the order given)."""
        return self.reorder(list(labels))

    def _repr_html_(self) -> str:
        return (_html_view[0] if _html_view else _plain_html)(self)

    def __repr__(self) -> str:
        c = self.num_labels
        if self.kind == "embeddings":
            return f"<Artifact embeddings: {c} labels x {self.vectors.shape[1]} dims>"
        edges = self.matrix.nnz - int(np.count_nonzero(self.matrix.diagonal()))
        return f"<Artifact {self.kind}: {c} labels, {edges} off-diagonal entries>"

    def _require(self, kind: str) -> None:
        if self.kind != kind:
            raise ArtifactError(f"expected a {kind} artifact, got {self.kind}")

    # -- persistence --------------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "labels": np.array(self.labels, dtype=str) if self.labels else np.zeros(0, dtype="<U1"),
            "kind": np.array(self.kind),
        }
        if self.kind == "embeddings":
            arrays["vectors"] = self.vectors
        else:
            m = self.matrix
            arrays.update(data=m.data, indices=m.indices, indptr=m.indptr,
                          shape=np.array(m.shape, dtype=np.int64), format=np.array(b"csr"))
        if self.kind == "statistics":
            arrays["n"] = self.n
            arrays["num_samples"] = np.array(self.num_samples, dtype=np.int64)
        return arrays

    def _npz_bytes(self) -> bytes:
        meta = dict(self.meta)
        meta.setdefault("labelgraph_version", __version__)
        arrays = self._arrays()
        meta["content_hash"] = content_hash(arrays)  # from the arrays written, so a file never carries a stale hash
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True, default=_json_default))
        return npz_bytes(arrays)

    def differences(self, path: str | os.PathLike[str]) -> str | None:
        """How the artifact in ``path`` differs from this one, or None when the content hashes agree.

        The phrase names what differs: ``kind``, ``labels``, ``parameters`` (the
        meta values that are not provenance), ``number of entries``, else ``values``.

        Examples
        --------
        >>> p = tmp / "g.npz"
        >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]], {"tau": 0.4})
        >>> _ = a.save(p)
        >>> a.differences(p) is None
        True
        >>> Artifact.graph("binary", ["a", "b"], [[0, 1], [0, 0]], {"tau": 0.5}).differences(p)
        'parameters: tau 0.4 -> 0.5; number of entries 2 -> 1'
        """
        try:
            old = load(path)
        except ArtifactError:
            return "not a readable labelgraph artifact"
        if old.content_hash == self.content_hash:
            return None
        parts: list[str] = []
        if old.kind != self.kind:
            parts.append(f"kind {old.kind} -> {self.kind}")
        if old.labels != self.labels:
            parts.append(f"labels ({old.num_labels} -> {self.num_labels})" if old.num_labels != self.num_labels
                         else "labels (names or order)")
        changed = [k for k in sorted(set(old.meta) | set(self.meta))
                   if k not in _PROVENANCE and old.meta.get(k) != self.meta.get(k)]
        if changed:
            parts.append("parameters: " + ", ".join(f"{k} {old.meta.get(k)} -> {self.meta.get(k)}"
                                                    for k in changed[:5]))
        size = {id(x): x.vectors.size if x.kind == "embeddings" else x.matrix.nnz for x in (old, self)}
        if size[id(old)] != size[id(self)]:
            parts.append(f"number of entries {size[id(old)]} -> {size[id(self)]}")
        return "; ".join(parts) or "values"

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the artifact atomically to ``path`` (a ``.npz``).

        An existing file with the same content (same content hash) is left as it is;
        one that would change needs ``force`` (the error says what differs).  An OS
        error while writing (disk full, …) is an :class:`ArtifactError` naming ``path``.

        Examples
        --------
        >>> p = tmp / "g.npz"
        >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])
        >>> load(a.save(p)).labels
        ('a', 'b')
        >>> a.save(p) == p  # the same content again: not an error
        True
        """
        return save_artifacts([(self, path)], force=force)[0][0]


    # -- into deep-learning code (torch imported here only) ---------------------------------------
    def _edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.kind == "embeddings":
            raise ArtifactError("an embeddings artifact has no graph")
        m = self.matrix.tocoo()
        order = np.lexsort((m.col, m.row))
        return m.row[order].astype(np.int64), m.col[order].astype(np.int64), m.data[order]

    def to_pyg(self):
        """``(edge_index, edge_weight)`` torch tensors for PyTorch Geometric, oriented so propagation gives ``Â·H``.

        ``edge_index[0] = j`` (source), ``edge_index[1] = i`` (target), ``edge_weight = A_ij``
        for every non-zero entry, the diagonal included (SPEC §2.9): PyG passes messages
        from ``edge_index[0]`` to ``edge_index[1]``, and row i of ``Â`` gathers from column j.

        Examples
        --------
        >>> a = Artifact.graph("binary", ["a", "b"], [[0.5, 1.0], [0.0, 0.0]])
        >>> edge_index, edge_weight = a.to_pyg()
        >>> edge_index.tolist(), edge_weight.tolist()
        ([[0, 1], [0, 0]], [0.5, 1.0])
        """
        import torch

        rows, cols, weights = self._edges()
        edge_index = torch.from_numpy(np.stack([cols, rows]))
        return edge_index, torch.from_numpy(weights.astype(np.float32))

    def to_torch(self, sparse: bool = False):
        """The matrix as a torch tensor: dense, or a coalesced sparse COO tensor with ``sparse=True``.

        float32 for graphs, int64 for statistics (``M``); an embeddings artifact gives its
        vectors (dense only).  ``torch.sparse.mm(A, H)`` / ``A @ H`` is then ``Â·H``.

        Examples
        --------
        >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [0.5, 0]])
        >>> a.to_torch().tolist(), a.to_torch(sparse=True).to_dense().tolist()
        ([[0.0, 1.0], [0.5, 0.0]], [[0.0, 1.0], [0.5, 0.0]])
        """
        import torch

        if self.kind == "embeddings":
            if sparse:
                raise ArtifactError("an embeddings artifact is dense; use to_torch() without sparse")
            return torch.from_numpy(np.array(self.vectors))
        if not sparse:
            return torch.from_numpy(self.to_dense())
        rows, cols, weights = self._edges()
        # the CSR entries are unique and row-major sorted: already a valid coalesced COO tensor
        return torch.sparse_coo_tensor(torch.from_numpy(np.stack([rows, cols])), torch.from_numpy(weights.copy()),
                                       size=self.matrix.shape, check_invariants=False, is_coalesced=True)

    def to_dgl(self):
        """A DGL graph with edges ``j → i`` and weight ``A_ij`` in ``edata["weight"]`` (SPEC §2.9 orientation).

        ``update_all(fn.u_mul_e("h", "weight", "m"), fn.sum("m", "h"))`` then computes ``Â·H``.
        Needs ``dgl`` (and torch); an import failure is a one-line :class:`ArtifactError`.

        Examples
        --------
        >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [0, 0]])
        >>> g = a.to_dgl()  # doctest: +SKIP
        >>> g.edges()  # doctest: +SKIP
        (tensor([1]), tensor([0]))
        """
        try:
            import dgl
        except Exception as exc:  # dgl's import fails in several ways when its build does not match torch
            raise ArtifactError(f"to_dgl needs the dgl package, which did not import ({type(exc).__name__}: {exc})") from None
        edge_index, edge_weight = self.to_pyg()
        graph = dgl.graph((edge_index[0], edge_index[1]), num_nodes=self.num_labels)
        graph.edata["weight"] = edge_weight
        return graph


#: Meta keys that record where an artifact came from, not what it holds.
_PROVENANCE = frozenset({"content_hash", "labelgraph_version", "source", "files", "created", "statistics_hash",
                         "knowledge_hash", "embeddings_hash", "path", "origin", "reader"})


def save_artifacts(items: Iterable[tuple["Artifact", str | os.PathLike[str]]], *,
                   force: bool = False) -> list[tuple[Path, str]]:
    """Save several artifacts as one unit: either every file is written, or none of them.

    Returns ``(path, status)`` pairs, status ``"new"``, ``"replaced"`` or ``"unchanged"``
    (see :meth:`Artifact.save` for the rules on existing files).

    Examples
    --------
    >>> d = tmp
    >>> a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])
    >>> [s for _, s in save_artifacts([(a, d / "a.npz"), (a, d / "b.npz")])]
    ['new', 'new']
    >>> [s for _, s in save_artifacts([(a, d / "a.npz")])]
    ['unchanged']
    """
    from ._atomic import StagedWrites

    out: list[tuple[Path, str]] = []
    with StagedWrites(force=force) as run:
        for art, path in items:
            path = Path(path)
            reason = art.differences(path) if path.is_file() else None
            data = b"" if path.is_file() and reason is None else art._npz_bytes()
            out.append((path, run.add(path, data, differs=lambda _, r=reason: r)))
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def load(path: str | os.PathLike[str]) -> Artifact:
    """Open a ``.npz`` artifact (ours or any file in the SPEC §4 layout) without unpickling.

    Every file is validated once, here (``docs/graphs.md``, "Validation at load"):
    the zip members against their declared sizes, the sparse structure, finite
    values and the per-kind rules of :data:`labelgraph._validate.KIND_RULES`.  A
    file that fails raises :class:`~labelgraph.errors.ArtifactError` naming the
    file and the member.

    Examples
    --------
    >>> import labelgraph
    >>> stats = labelgraph.load(labelgraph.bundled_path("coco2014"))
    >>> stats.kind, stats.num_labels
    ('statistics', 80)
    """
    from ._validate import check_arrays, member_text, parse_meta, read_arrays

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if not magic.startswith(b"PK"):
        raise ArtifactError(f"{path}: not a readable .npz (not a zip archive)")
    try:
        arrays = read_arrays(path)
    except ArtifactError:
        raise
    except Exception as exc:  # zipfile.BadZipFile (CRC), OSError, EOFError, zlib.error …
        raise ArtifactError(f"{path}: not a readable .npz ({type(exc).__name__}: {exc})") from None
    kind = member_text(path, "kind", arrays["kind"]).strip()
    raw_labels = arrays["labels"].tolist()
    labels = tuple(x.decode("utf-8", "replace") if isinstance(x, bytes) else x for x in raw_labels)
    check_arrays(path, kind, arrays)
    meta = parse_meta(path, arrays.get("meta"))
    stored_hash = meta.pop("content_hash", None)
    try:
        if kind == "embeddings":
            art = Artifact.embeddings(labels, arrays["vectors"], meta)
        else:
            shape = (len(labels), len(labels))
            fmt = member_text(path, "format", arrays["format"])
            if fmt == "coo":
                matrix = sp.coo_matrix((arrays["data"], (arrays["row"], arrays["col"])), shape=shape)
            else:
                ctor = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
                matrix = ctor((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
            if kind == "statistics":
                num_samples = int(arrays["num_samples"].ravel()[0])
                art = Artifact.statistics(labels, arrays["n"].astype(np.int64), matrix, num_samples, meta)
            else:
                art = Artifact.graph(kind, labels, matrix, meta)
    except ArtifactError as exc:
        msg = str(exc)
        raise ArtifactError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None
    except (ValueError, IndexError, TypeError) as exc:
        raise ArtifactError(f"{path}: inconsistent arrays ({exc})") from None
    if stored_hash is not None and stored_hash != art.content_hash:
        log.warning("%s: stored content hash differs from the arrays' (file modified after writing?)", path)
    if KIND_RULES.get(kind, KindRule()).zero_diagonal and art.matrix.diagonal().any():
        log.warning("%s: the %s matrix has a non-zero diagonal; it is dropped (SPEC: zero diagonal)", path, kind)
        art = art.without_diagonal()
    return art


def require_same_labels(a: Sequence[str], b: Sequence[str], what_a: str = "first",
                        what_b: str = "second") -> None:
    """Raise :class:`LabelMismatchError` listing the differences unless ``a == b`` (same order).

    Examples
    --------
    >>> require_same_labels(["a", "b"], ["a", "b"])
    >>> require_same_labels(["a", "b"], ["b", "a"])
    Traceback (most recent call last):
    ...
    labelgraph.errors.LabelMismatchError: label orders differ: same names in another order (first position 0: 'a' vs 'b'); align them by name (--align)
    """
    a, b = list(a), list(b)
    if a == b:
        return
    set_a, set_b = set(a), set(b)
    only_a = [x for x in a if x not in set_b]
    only_b = [x for x in b if x not in set_a]
    if not only_a and not only_b and len(a) == len(b):
        pos = next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
        raise LabelMismatchError(
            f"label orders differ: same names in another order (first position {pos}: {a[pos]!r} vs {b[pos]!r}); "
            "align them by name (--align)")
    parts = []
    if only_a:
        parts.append(f"only in {what_a}: {', '.join(only_a[:10])}" + (" …" if len(only_a) > 10 else ""))
    if only_b:
        parts.append(f"only in {what_b}: {', '.join(only_b[:10])}" + (" …" if len(only_b) > 10 else ""))
    raise LabelMismatchError("label sets differ: " + "; ".join(parts))
