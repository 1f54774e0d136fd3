"""The graph-kind registry: every kind built from statistics, its parameters, defaults and pure function.

Data, not code paths: the CLI's choices, ``build_graph``, sweeps, the docs tables and
the artifact's kind check all read :data:`STATISTICAL_KINDS` / :data:`GRAPH_KINDS`.
The functions take and return arrays (no artifact); ``docs/architecture.md`` shows
how a kind is added.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError
from .association import cosine_graph, exclusive_graph, jaccard_graph, npmi_graph, ppmi_graph
from .baselines import check_seed, complete_graph, identity_graph, random_graph, shuffled_graph
from .normalize import symmetric_normalize
from .sparsify import sparse_normalize, top_k_filter
from .sparsify import symmetrize as symmetrize_matrix
from .statistical import _mlgcn_adjacency, binary_graph, check_unit, reweighted_graph

__all__ = ["GraphKind", "KindInputs", "STATISTICAL_KINDS", "OTHER_GRAPH_KINDS", "GRAPH_KINDS", "association_kind",
           "check_param"]


@dataclass(frozen=True)
class GraphKind:
    """A graph kind built by :func:`build_graph`: its parameters, their defaults, and how to compute it.

    ``compute(P, M, n, **params) -> (raw, normalized)`` is the ML-GCN family's form
    (from ``P``: dense arrays from a dense ``P``, CSR from a sparse one);
    ``make(inputs, **params) -> (raw, normalized)`` the general
    one (sparse, from :class:`KindInputs`).  Exactly one is set.  Both take arrays and
    return arrays; :func:`labelgraph.assemble.build_graph` makes the artifact.

    Examples
    --------
    >>> STATISTICAL_KINDS["binary"].params, STATISTICAL_KINDS["binary"].defaults
    (('tau',), {'tau': 0.4})
    """

    name: str
    params: tuple[str, ...]
    defaults: dict[str, float]
    summary: str
    compute: Callable[..., tuple[Any, Any]] | None = None  # (raw, normalized)
    make: Callable[..., tuple[Any, Any]] | None = None
    needs: str = "statistics"
    """``statistics``, ``embeddings`` (cosine) or ``base`` (a graph of another kind: shuffled, random)."""


@dataclass(frozen=True)
class KindInputs:
    """What a kind's ``make`` may use, all arrays: the counts (``M`` after ``--min-count``), embeddings, a base graph.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> i = KindInputs(sp.csr_matrix([[0, 1], [1, 0]]), np.array([1, 1]), 2, None, "none")
    >>> i.num_labels
    2
    """

    M: sp.csr_matrix
    n: np.ndarray
    num_samples: int
    top_k: int | None
    symmetrize: str
    embeddings: np.ndarray | None = None
    base: sp.csr_matrix | None = None

    @property
    def num_labels(self) -> int:
        """C, the number of labels."""
        return int(self.M.shape[0])


def _probability(P: Any, M: Any, n: Any, **_: float) -> tuple[Any, Any]:
    return P, P


def _plus_identity(A: Any) -> Any:
    c = A.shape[0]
    return sp.csr_matrix(A + sp.identity(c, format="csr")) if sp.issparse(A) else A + np.identity(c)


def _binary(P: Any, M: Any, n: Any, *, tau: float, **_: float) -> tuple[Any, Any]:
    B = binary_graph(P, tau)
    return B, symmetric_normalize(_plus_identity(B))


def _reweighted(P: Any, M: Any, n: Any, *, tau: float, p: float, **_: float) -> tuple[Any, Any]:
    A = reweighted_graph(binary_graph(P, tau), p)
    return A, symmetric_normalize(A)


def _mlgcn(P: Any, M: Any, n: Any, *, tau: float, p: float, **_: float) -> tuple[Any, Any]:
    A = _mlgcn_adjacency(P, tau, p)
    return A, symmetric_normalize(A, transpose=True)


def _with_self_loops(X: sp.csr_matrix, inputs: KindInputs) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``--top-k`` and ``--symmetrize`` on the raw ``X``, then the saved ``norm(X + I)`` (SPEC §2.7)."""
    if inputs.top_k is not None:
        X = top_k_filter(X, inputs.top_k)
    X = symmetrize_matrix(X, inputs.symmetrize)
    return X, sparse_normalize(X + sp.identity(X.shape[0], format="csr"))


def association_kind(fn: Callable[..., sp.csr_matrix]) -> Callable[..., tuple[Any, Any]]:
    """A kind's ``make`` from ``fn(inputs, **params) -> X``: ``--top-k`` and ``--symmetrize`` on ``X``, saved as ``norm(X + I)``.

    Examples
    --------
    >>> make = association_kind(lambda i: i.M.astype(float))
    >>> inputs = KindInputs(sp.csr_matrix([[0, 2], [2, 0]]), np.array([2, 2]), 2, None, "none")
    >>> raw, normalized = make(inputs)
    >>> raw.toarray().tolist(), normalized.toarray().round(3).tolist()
    ([[0.0, 2.0], [2.0, 0.0]], [[0.333, 0.667], [0.667, 0.333]])
    """
    def make(inputs: KindInputs, **params: float) -> tuple[Any, Any]:
        return _with_self_loops(fn(inputs, **params), inputs)
    return make


def _cosine(inputs: KindInputs) -> sp.csr_matrix:
    return cosine_graph(inputs.embeddings, top_k=inputs.top_k)


def _identity(inputs: KindInputs, **_: float) -> tuple[Any, Any]:
    eye = identity_graph(inputs.num_labels)
    return eye, eye


def _shuffled(inputs: KindInputs, *, seed: float) -> tuple[Any, Any]:
    base = inputs.base
    return shuffled_graph(base, int(seed)), shuffled_graph(base, int(seed))


def _random(inputs: KindInputs, *, seed: float) -> tuple[Any, Any]:
    m = inputs.base
    edges = int(m.nnz - np.count_nonzero(m.diagonal()))
    X = random_graph(m.shape[0], edges, int(seed))
    return X, sparse_normalize(X + sp.identity(X.shape[0], format="csr"))


#: Every graph kind built from statistics (and, for cosine, embeddings), in the order the CLI lists
#: them.  Adding a kind is one entry here (and its pure function): build, sweep, inspect, export,
#: the trainer and the artifact's kind check read this.
STATISTICAL_KINDS: dict[str, GraphKind] = {
    k.name: k
    for k in (
        GraphKind("probability", (), {}, "P = M / n, the conditional-probability graph (saved raw)", _probability),
        GraphKind("binary", ("tau",), {"tau": 0.4}, "ML-GCN Eq. 7, saved as norm(B + I)", _binary),
        GraphKind("reweighted", ("tau", "p"), {"tau": 0.4, "p": 0.2}, "ML-GCN Eq. 8 (paper form), saved as norm(A')", _reweighted),
        GraphKind("mlgcn", ("tau", "p"), {"tau": 0.4, "p": 0.25}, "ML-GCN reference code (gen_A/gen_adj), bit-compatible", _mlgcn),
        GraphKind("ppmi", (), {}, "positive PMI, max(log(N M_ij / (n_i n_j)), 0), saved as norm(X + I)",
                  make=association_kind(lambda i: ppmi_graph(i.M, i.n, i.num_samples))),
        GraphKind("npmi", (), {}, "positive normalized PMI in [0, 1], saved as norm(X + I)",
                  make=association_kind(lambda i: npmi_graph(i.M, i.n, i.num_samples))),
        GraphKind("jaccard", (), {}, "M_ij / (n_i + n_j - M_ij), saved as norm(X + I)",
                  make=association_kind(lambda i: jaccard_graph(i.M, i.n))),
        GraphKind("exclusive", ("min_expected",), {"min_expected": 5.0},
                  "never together although chance predicts >= min_expected, saved as norm(X + I)",
                  make=association_kind(lambda i, min_expected: exclusive_graph(i.M, i.n, i.num_samples,
                                                                            min_expected))),
        GraphKind("cosine", (), {}, "max(cos(e_i, e_j), 0) of label embeddings, saved as norm(X + I)",
                  make=association_kind(_cosine), needs="embeddings"),
        GraphKind("identity", (), {}, "baseline: I, no propagation", make=_identity),
        GraphKind("complete", (), {}, "baseline: every pair, uniform (C <= 5000)",
                  make=association_kind(lambda i: complete_graph(i.num_labels))),
        GraphKind("shuffled", ("seed",), {"seed": 0}, "baseline: the base graph with permuted labels",
                  make=_shuffled, needs="base"),
        GraphKind("random", ("seed",), {"seed": 0}, "baseline: as many random edges as the base graph, uniform",
                  make=_random, needs="base"),
    )
}

#: Graph kinds built from more than statistics (``labelgraph.conceptnet``, :func:`labelgraph.assemble.ks_artifact`).
OTHER_GRAPH_KINDS: tuple[str, ...] = ("knowledge", "ks")
class _KindNames(Sequence[str]):
    """The kind names, read from :data:`STATISTICAL_KINDS` on every use: a kind registered later is known."""

    def _names(self) -> tuple[str, ...]:
        return (*STATISTICAL_KINDS, *OTHER_GRAPH_KINDS)

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __repr__(self) -> str:
        return repr(self._names())


#: Every graph kind the toolkit writes (read from the registry on each use).
GRAPH_KINDS: Sequence[str] = _KindNames()


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
