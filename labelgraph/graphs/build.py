"""From a statistics artifact to a graph artifact, by kind name (SPEC §2: what each file holds)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._version import __version__
from ..artifact import Artifact
from ..errors import ArtifactError, ConfigError
from .normalize import symmetric_normalize
from .statistical import binary_graph, check_unit, mlgcn_graph, reweighted_graph

__all__ = ["GraphKind", "GRAPH_KINDS", "STATISTICAL_KINDS", "build_graph", "graph_filename", "ks_variant"]


@dataclass(frozen=True)
class GraphKind:
    """A graph family built from statistics: its parameters and their defaults."""

    name: str
    params: tuple[str, ...]
    defaults: dict[str, float]
    summary: str
    compute: Callable[..., tuple[np.ndarray, np.ndarray]]  # (raw, normalized)


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


#: Graph kinds computed from statistics alone, in the order the CLI lists them.
STATISTICAL_KINDS: dict[str, GraphKind] = {
    k.name: k
    for k in (
        GraphKind("probability", (), {}, "P = M / n, the conditional-probability graph (saved raw)", _probability),
        GraphKind("binary", ("tau",), {"tau": 0.4}, "ML-GCN Eq. 7, saved as norm(B + I)", _binary),
        GraphKind("reweighted", ("tau", "p"), {"tau": 0.4, "p": 0.2}, "ML-GCN Eq. 8 (paper form), saved as norm(A')", _reweighted),
        GraphKind("mlgcn", ("tau", "p"), {"tau": 0.4, "p": 0.25}, "ML-GCN reference code (gen_A/gen_adj), bit-compatible", _mlgcn),
    )
}

#: Every graph kind the toolkit writes (knowledge and ks need more than statistics).
GRAPH_KINDS: tuple[str, ...] = ("probability", "binary", "reweighted", "mlgcn", "knowledge", "ks")


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


def build_graph(stats: Artifact, kind: str, *, tau: float | None = None, p: float | None = None,
                raw: bool = False) -> Artifact:
    """Build a statistical graph artifact of ``kind`` from a statistics artifact.

    Parameters not used by ``kind`` are ignored; ``None`` takes the kind's default
    (binary/reweighted τ = 0.4, reweighted p = 0.2, mlgcn τ = 0.4 and p = 0.25).
    The saved matrix is the normalized one the GCN consumes, or the raw one with
    ``raw=True`` (``meta["normalized"]`` says which).

    Examples
    --------
    >>> import labelgraph
    >>> stats = labelgraph.load(labelgraph.bundled_path("voc2007"))
    >>> g = build_graph(stats, "binary", tau=0.4)
    >>> g.kind, g.meta["tau"], g.meta["normalized"]
    ('binary', 0.4, True)
    """
    if stats.kind != "statistics":
        raise ArtifactError(f"graphs are built from a statistics artifact, got {stats.kind}")
    if kind not in STATISTICAL_KINDS:
        known = ", ".join(STATISTICAL_KINDS)
        raise ConfigError(f"unknown graph kind {kind!r} for statistics (known: {known})")
    spec = STATISTICAL_KINDS[kind]
    given = {"tau": tau, "p": p}
    params = {name: check_unit(name, given[name] if given[name] is not None else spec.defaults[name])
              for name in spec.params}
    P = stats.conditional_probability()
    raw_matrix, normalized = spec.compute(P, stats.matrix, stats.n, **params)
    matrix = raw_matrix if raw else normalized
    source = {k: stats.meta[k] for k in ("dataset", "split", "files", "reader", "origin") if k in stats.meta}
    meta = dict(kind=kind, **params, normalized=bool(not raw and kind != "probability"),
                statistics_hash=stats.content_hash, num_samples=stats.num_samples,
                source=source, labelgraph_version=__version__)
    return Artifact.graph(kind, stats.labels, matrix, meta)
