"""Graph artifacts from statistics artifacts, by kind name (SPEC §2: what each file holds).

The kinds and their pure functions are the registry :data:`labelgraph.graphs.kinds.STATISTICAL_KINDS`;
this module checks the options, runs the kind on the arrays and makes the artifact
(parameters, normalization and provenance in ``meta``), and names its file.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._dense import use_sparse
from .._version import __version__
from ..artifact import Artifact
from ..errors import ArtifactError, ConfigError, LabelMismatchError
from ..graphs.kinds import GRAPH_KINDS, STATISTICAL_KINDS, GraphKind, KindInputs, check_param
from ..graphs.sparsify import (
    SYMMETRIZE,
    check_min_count,
    check_top_k,
    min_count_filter,
    sparse_normalize,
    top_k_filter,
)
from ..graphs.sparsify import symmetrize as symmetrize_matrix
from ..stats import conditional_probability

__all__ = ["GraphKind", "GRAPH_KINDS", "STATISTICAL_KINDS", "build_graph", "check_param", "graph_filename",
           "ks_variant", "sparsify_graph"]


def _fmt(value: float) -> str:
    return f"{value:g}"


def ks_variant(stat_graph: str = "probability", stat_tau: float = 0.4, p: float = 0.2) -> str | None:
    """The part of a KS file name that names a non-default ``A_S``: None for ``probability``.

    ``stat_tau`` and ``p`` appear only when they differ from their defaults (0.4, 0.2).

    Examples
    --------
    >>> ks_variant("probability") is None
    True
    >>> ks_variant("binary"), ks_variant("reweighted", 0.5, 0.25)
    ('binary', 'reweighted-t0.5-p0.25')
    """
    if stat_graph == "probability":
        return None
    parts = [stat_graph]
    if stat_tau != 0.4:
        parts.append(f"t{_fmt(stat_tau)}")
    if stat_graph == "reweighted" and p != 0.2:
        parts.append(f"p{_fmt(p)}")
    return "-".join(parts)


def graph_filename(stem: str, kind: str, params: dict[str, float], raw: bool = False,
                   variant: str | None = None) -> str:
    """The file name carrying the parameters, e.g. ``coco2014_reweighted_t0.4_p0.2.npz``.

    ``variant`` (see :func:`ks_variant`) follows the kind, so that KS graphs built on
    different statistical graphs never share a name.

    Examples
    --------
    >>> graph_filename("coco2014", "reweighted", {"tau": 0.4, "p": 0.2})
    'coco2014_reweighted_t0.4_p0.2.npz'
    >>> graph_filename("voc2007", "ks", {"lam": 0.4, "tau": 0.02, "eta": 0.4}, raw=True)
    'voc2007_ks_l0.4_t0.02_e0.4_raw.npz'
    >>> graph_filename("voc2007", "ks", {"lam": 0.4, "tau": 0.02, "eta": 0.4}, variant="binary")
    'voc2007_ks_binary_l0.4_t0.02_e0.4.npz'
    """
    short = {"tau": "t", "p": "p", "lam": "l", "eta": "e"}
    parts = [stem, kind] + ([variant] if variant else []) + [f"{short.get(k, k)}{_fmt(v)}" for k, v in params.items()]
    return "_".join(parts) + ("_raw" if raw else "") + ".npz"


def _aligned_vectors(stats: Artifact, embeddings: Artifact | None) -> np.ndarray:
    if embeddings is None:
        raise ConfigError("kind cosine needs label embeddings (--embeddings FILE, from `labelgraph embed`)")
    if embeddings.kind != "embeddings":
        raise ArtifactError(f"--embeddings must be an embeddings artifact, got {embeddings.kind}")
    have = set(embeddings.labels)
    missing = [x for x in stats.labels if x not in have]
    if missing:
        more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        raise LabelMismatchError(f"the embeddings have no vector for {len(missing)} label(s): "
                                 f"{', '.join(missing[:10])}{more}")
    return embeddings.reorder(stats.labels).vectors


def build_graph(stats: Artifact, kind: str, *, raw: bool = False, min_count: int | None = None,
                top_k: int | None = None, symmetrize: str = "none", embeddings: Artifact | None = None,
                base: str = "binary", sparse: bool | None = None, **params: float | None) -> Artifact:
    """Build a graph artifact of ``kind`` (a key of :data:`STATISTICAL_KINDS`) from a statistics artifact.

    Parameters
    ----------
    stats : Artifact
        Kind ``statistics``.
    kind : str
        A key of :data:`STATISTICAL_KINDS`.
    raw : bool
        Save the un-normalized matrix (``meta["normalized"]`` says which).
    min_count : int, optional
        Pairs with ``M_ij < min_count`` count as never seen (SPEC §2.7).
    top_k : int, optional
        Keep the ``top_k`` largest off-diagonal entries of each row, ties by lower
        column index (SPEC §2.8).  The ML-GCN family (probability, binary,
        reweighted, mlgcn) ranks the counts ``M`` (the same order as ``P``'s row),
        other kinds their raw matrix ``X``; both before normalization.
    symmetrize : {"none", "max", "mean"}
        Applied after ``top_k``, to the same matrix.
    embeddings : Artifact, optional
        Label embeddings (``cosine``), aligned to the statistics' labels by name.
    base : str
        The kind whose graph ``shuffled`` permutes and ``random`` matches in edges.
    sparse : bool, optional
        Build ``P`` and the ML-GCN family sparse (CSR from ``M`` to the artifact);
        by default sparse above ``SPARSE_ABOVE`` = 2,000 labels.  The other kinds
        are sparse always.  Both paths agree to 1e-6 (``docs/graphs.md``).
    **params
        The kind's parameters (``tau``, ``p``, ``min_expected``, ``seed``); ``None``
        or absent takes the kind's default; parameters of other kinds are ignored.

    Examples
    --------
    >>> import labelgraph
    >>> stats = labelgraph.load(labelgraph.bundled_path("voc2007"))
    >>> g = build_graph(stats, "binary", tau=0.4)
    >>> g.kind, g.meta["tau"], g.meta["normalized"]
    ('binary', 0.4, True)
    >>> build_graph(stats, "ppmi", top_k=3).meta["top_k"]
    3
    """
    if stats.kind != "statistics":
        raise ArtifactError(f"graphs are built from a statistics artifact, got {stats.kind}")
    if kind not in STATISTICAL_KINDS:
        known = ", ".join(STATISTICAL_KINDS)
        raise ConfigError(f"unknown graph kind {kind!r} for statistics (known: {known})")
    spec = STATISTICAL_KINDS[kind]
    values = {name: check_param(name, params[name] if params.get(name) is not None else spec.defaults[name])
              for name in spec.params}
    if min_count is not None:
        min_count = check_min_count(min_count)
    if top_k is not None:
        top_k = check_top_k(top_k, stats.num_labels)
    if symmetrize not in SYMMETRIZE:
        raise ConfigError(f"--symmetrize must be one of {', '.join(SYMMETRIZE)}, got {symmetrize!r}")
    modifiers = {k: v for k, v in (("min_count", min_count), ("top_k", top_k)) if v is not None}
    if symmetrize != "none":
        modifiers["symmetrize"] = symmetrize
    M = min_count_filter(stats.matrix, min_count or 0)
    extra: dict[str, Any] = {}
    if spec.compute is not None:
        if top_k is not None:
            M = top_k_filter(M, top_k)
        M = symmetrize_matrix(M, symmetrize)
        P = conditional_probability(M, stats.n, labels=stats.labels,
                                    sparse=use_sparse(stats.num_labels, sparse))
        raw_matrix, normalized = spec.compute(P, M, stats.n, **values)
    else:
        vectors = _aligned_vectors(stats, embeddings) if spec.needs == "embeddings" else None
        base_matrix = None
        if spec.needs == "base":
            if base not in STATISTICAL_KINDS or STATISTICAL_KINDS[base].needs == "base":
                raise ConfigError(f"--base must be a kind built from statistics, got {base!r}")
            base_art = build_graph(stats, base, raw=raw, min_count=min_count, top_k=top_k, symmetrize=symmetrize,
                                   embeddings=embeddings, sparse=sparse, **params)
            extra["base"] = base
            extra["base_hash"] = base_art.content_hash
            base_matrix = base_art.matrix
        if vectors is not None:
            extra["embeddings_hash"] = embeddings.content_hash
        inputs = KindInputs(M, stats.n, stats.num_samples, top_k, symmetrize, vectors, base_matrix)
        raw_matrix, normalized = spec.make(inputs, **values)
    matrix = raw_matrix if raw else normalized
    source = {k: stats.meta[k] for k in ("dataset", "split", "files", "reader", "origin") if k in stats.meta}
    # a shuffled graph is its base graph, permuted: normalized exactly when the base is
    normalized_flag = bool(not raw and (base if kind == "shuffled" else kind) != "probability")
    meta = dict(kind=kind, **values, **modifiers, **extra, normalized=normalized_flag,
                statistics_hash=stats.content_hash, num_samples=stats.num_samples,
                source=source, labelgraph_version=__version__)
    return Artifact.graph(kind, stats.labels, matrix, meta)


def sparsify_graph(raw_graph: Artifact, *, top_k: int | None = None, symmetrize: str = "none",
                   normalize: bool = False) -> Artifact:
    """``--top-k`` / ``--symmetrize`` for a graph built outside the registry (``knowledge``, ``ks``).

    Takes the *raw* artifact (``A_K``, or ``A_KS`` of Eq. 4 from ``ks_artifact(..., raw=True)``),
    keeps each row's ``top_k`` largest off-diagonal entries (ties: lower column index),
    symmetrizes, and with ``normalize`` returns ``norm(·)``, what the GCN consumes.

    Examples
    --------
    >>> k = Artifact.graph("knowledge", ["a", "b", "c"], [[0, 2, 1], [2, 0, 0], [1, 0, 0]])
    >>> sparsify_graph(k, top_k=1).to_dense().tolist()
    [[0.0, 2.0, 0.0], [2.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    """
    if raw_graph.kind in ("statistics", "embeddings"):
        raise ArtifactError(f"only graph artifacts can be sparsified, got {raw_graph.kind}")
    if symmetrize not in SYMMETRIZE:
        raise ConfigError(f"--symmetrize must be one of {', '.join(SYMMETRIZE)}, got {symmetrize!r}")
    X = raw_graph.matrix.astype(np.float64)
    if top_k is not None:
        X = top_k_filter(X, check_top_k(top_k, raw_graph.num_labels))
    X = symmetrize_matrix(X, symmetrize)
    changes: dict[str, Any] = {"top_k": top_k} if top_k is not None else {}
    changes.update({"symmetrize": symmetrize} if symmetrize != "none" else {})
    if normalize:
        X = sparse_normalize(X)
        changes["normalized"] = True
    return raw_graph.replace(matrix=X, meta={**raw_graph.meta, **changes})
