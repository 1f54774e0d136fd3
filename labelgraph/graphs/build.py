"""From a statistics artifact to a graph artifact, by kind name (SPEC §2: what each file holds)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp

from .._version import __version__
from ..artifact import Artifact
from ..errors import ArtifactError, ConfigError, LabelMismatchError
from ..stats import conditional_probability
from .association import cosine_graph, exclusive_graph, jaccard_graph, npmi_graph, ppmi_graph
from .baselines import check_seed, complete_graph, identity_graph, random_graph, shuffled_graph
from .normalize import symmetric_normalize
from .sparsify import (
    SYMMETRIZE,
    check_min_count,
    check_top_k,
    min_count_filter,
    sparse_normalize,
    top_k_filter,
)
from .sparsify import symmetrize as symmetrize_matrix
from .statistical import binary_graph, check_unit, mlgcn_graph, reweighted_graph

__all__ = ["GraphKind", "KindInputs", "GRAPH_KINDS", "STATISTICAL_KINDS", "build_graph", "check_param",
           "graph_filename", "ks_variant", "sparsify_graph"]


@dataclass(frozen=True)
class GraphKind:
    """A graph kind built by :func:`build_graph`: its parameters, their defaults, and how to compute it.

    ``compute(P, M, n, **params) -> (raw, normalized)`` is the ML-GCN family's form
    (dense, from ``P``); ``make(inputs, **params) -> (raw, normalized)`` the general
    one (sparse, from :class:`KindInputs`).  Exactly one is set.
    """

    name: str
    params: tuple[str, ...]
    defaults: dict[str, float]
    summary: str
    compute: Callable[..., tuple[np.ndarray, np.ndarray]] | None = None  # (raw, normalized)
    make: Callable[..., tuple[Any, Any]] | None = None
    needs: str = "statistics"
    """``statistics``, ``embeddings`` (cosine) or ``base`` (a graph of another kind: shuffled, random)."""


@dataclass(frozen=True)
class KindInputs:
    """What a kind's ``make`` may use: the statistics (``M`` after ``--min-count``), embeddings, a base graph."""

    stats: Artifact
    M: sp.csr_matrix
    top_k: int | None
    symmetrize: str
    embeddings: np.ndarray | None = None
    base: Artifact | None = None


def _probability(P: np.ndarray, M: Any, n: Any, **_: float) -> tuple[np.ndarray, np.ndarray]:
    return P, P


def _binary(P: np.ndarray, M: Any, n: Any, *, tau: float, **_: float) -> tuple[np.ndarray, np.ndarray]:
    B = binary_graph(P, tau)
    return B, symmetric_normalize(B + np.identity(B.shape[0]))


def _reweighted(P: np.ndarray, M: Any, n: Any, *, tau: float, p: float, **_: float) -> tuple[np.ndarray, np.ndarray]:
    A = reweighted_graph(binary_graph(P, tau), p)
    return A, symmetric_normalize(A)


def _mlgcn(P: np.ndarray, M: Any, n: Any, *, tau: float, p: float, **_: float) -> tuple[np.ndarray, np.ndarray]:
    A = mlgcn_graph(M, n, tau, p, normalize=False)
    return A, mlgcn_graph(M, n, tau, p)


def _with_self_loops(X: sp.csr_matrix, inputs: KindInputs) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``--top-k`` and ``--symmetrize`` on the raw ``X``, then the saved ``norm(X + I)`` (SPEC §2.7)."""
    if inputs.top_k is not None:
        X = top_k_filter(X, inputs.top_k)
    X = symmetrize_matrix(X, inputs.symmetrize)
    return X, sparse_normalize(X + sp.identity(X.shape[0], format="csr"))


def _association(fn: Callable[..., sp.csr_matrix]) -> Callable[..., tuple[Any, Any]]:
    def make(inputs: KindInputs, **params: float) -> tuple[Any, Any]:
        return _with_self_loops(fn(inputs, **params), inputs)
    return make


def _cosine(inputs: KindInputs) -> sp.csr_matrix:
    return cosine_graph(inputs.embeddings, top_k=inputs.top_k)


def _identity(inputs: KindInputs, **_: float) -> tuple[Any, Any]:
    eye = identity_graph(inputs.stats.num_labels)
    return eye, eye


def _shuffled(inputs: KindInputs, *, seed: float) -> tuple[Any, Any]:
    base = inputs.base.matrix
    return shuffled_graph(base, int(seed)), shuffled_graph(base, int(seed))


def _random(inputs: KindInputs, *, seed: float) -> tuple[Any, Any]:
    m = inputs.base.matrix
    edges = int(m.nnz - np.count_nonzero(m.diagonal()))
    X = random_graph(m.shape[0], edges, int(seed))
    return X, sparse_normalize(X + sp.identity(X.shape[0], format="csr"))


#: Every graph kind built from statistics (and, for cosine, embeddings), in the order the CLI lists
#: them.  Adding a kind is one entry here: build, sweep, inspect, export and the trainer read this.
STATISTICAL_KINDS: dict[str, GraphKind] = {
    k.name: k
    for k in (
        GraphKind("probability", (), {}, "P = M / n, the conditional-probability graph (saved raw)", _probability),
        GraphKind("binary", ("tau",), {"tau": 0.4}, "ML-GCN Eq. 7, saved as norm(B + I)", _binary),
        GraphKind("reweighted", ("tau", "p"), {"tau": 0.4, "p": 0.2}, "ML-GCN Eq. 8 (paper form), saved as norm(A')", _reweighted),
        GraphKind("mlgcn", ("tau", "p"), {"tau": 0.4, "p": 0.25}, "ML-GCN reference code (gen_A/gen_adj), bit-compatible", _mlgcn),
        GraphKind("ppmi", (), {}, "positive PMI, max(log(N M_ij / (n_i n_j)), 0), saved as norm(X + I)",
                  make=_association(lambda i: ppmi_graph(i.M, i.stats.n, i.stats.num_samples))),
        GraphKind("npmi", (), {}, "positive normalized PMI in [0, 1], saved as norm(X + I)",
                  make=_association(lambda i: npmi_graph(i.M, i.stats.n, i.stats.num_samples))),
        GraphKind("jaccard", (), {}, "M_ij / (n_i + n_j - M_ij), saved as norm(X + I)",
                  make=_association(lambda i: jaccard_graph(i.M, i.stats.n))),
        GraphKind("exclusive", ("min_expected",), {"min_expected": 5.0},
                  "never together although chance predicts >= min_expected, saved as norm(X + I)",
                  make=_association(lambda i, min_expected: exclusive_graph(i.M, i.stats.n, i.stats.num_samples,
                                                                            min_expected))),
        GraphKind("cosine", (), {}, "max(cos(e_i, e_j), 0) of label embeddings, saved as norm(X + I)",
                  make=_association(_cosine), needs="embeddings"),
        GraphKind("identity", (), {}, "baseline: I, no propagation", make=_identity),
        GraphKind("complete", (), {}, "baseline: every pair, uniform (C <= 5000)",
                  make=_association(lambda i: complete_graph(i.stats.num_labels))),
        GraphKind("shuffled", ("seed",), {"seed": 0}, "baseline: the base graph with permuted labels",
                  make=_shuffled, needs="base"),
        GraphKind("random", ("seed",), {"seed": 0}, "baseline: as many random edges as the base graph, uniform",
                  make=_random, needs="base"),
    )
}

class _KindNames(Sequence[str]):
    """The kind names, read from :data:`STATISTICAL_KINDS` on every use: a kind registered later is known."""

    def _names(self) -> tuple[str, ...]:
        return (*STATISTICAL_KINDS, "knowledge", "ks")

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(self._names())


#: Every graph kind the toolkit writes (knowledge and ks need more than statistics).
GRAPH_KINDS: Sequence[str] = _KindNames()


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


def check_param(name: str, value: float) -> float:
    """Check one kind parameter: τ, p (and λ, η) in [0, 1], ``min_expected`` > 0, ``seed`` an integer ≥ 0.

    Examples
    --------
    >>> check_param("tau", 0.4), check_param("min_expected", 5), check_param("seed", 3)
    (0.4, 5.0, 3)
    """
    if name == "seed":
        return check_seed(value)
    if name == "min_expected":
        value = float(value)
        if not np.isfinite(value) or value <= 0:
            raise ConfigError(f"min_expected must be > 0, got {value:g}")
        return value
    return check_unit(name, value)


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
                base: str = "binary", **params: float | None) -> Artifact:
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
        P = conditional_probability(M, stats.n, labels=stats.labels)
        raw_matrix, normalized = spec.compute(P, M, stats.n, **values)
    else:
        vectors = _aligned_vectors(stats, embeddings) if spec.needs == "embeddings" else None
        base_art = None
        if spec.needs == "base":
            if base not in STATISTICAL_KINDS or STATISTICAL_KINDS[base].needs == "base":
                raise ConfigError(f"--base must be a kind built from statistics, got {base!r}")
            base_art = build_graph(stats, base, raw=raw, min_count=min_count, top_k=top_k, symmetrize=symmetrize,
                                   embeddings=embeddings, **params)
            extra["base"] = base
            extra["base_hash"] = base_art.content_hash
        if vectors is not None:
            extra["embeddings_hash"] = embeddings.content_hash
        inputs = KindInputs(stats, M, top_k, symmetrize, vectors, base_art)
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
    meta = {k: v for k, v in raw_graph.meta.items() if k != "content_hash"}
    meta.update({"top_k": top_k} if top_k is not None else {})
    meta.update({"symmetrize": symmetrize} if symmetrize != "none" else {})
    if normalize:
        X = sparse_normalize(X)
        meta["normalized"] = True
    return Artifact.graph(raw_graph.kind, raw_graph.labels, X, meta)
