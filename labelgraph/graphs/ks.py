"""KSSNet's superimposed graph (KS graph), Eqs. (2)–(4), SPEC §2.6.

::

    Â_S = norm(A_S),  Â_K = norm(A_K)
    A    = λ Â_S + (1 − λ) Â_K                 # Eq. 2
    A_τ  = A ⊙ [A ≥ τ]                         # Eq. 3
    A_KS = η A_τ + (1 − η) I                   # Eq. 4
    Â_KS = norm(A_KS)                          # what the GCN consumes (Eq. 6)

``norm`` is :func:`~labelgraph.graphs.normalize.symmetric_normalize`.  The
three steps after the normalizations are separate small functions so that a
parameter sweep (:mod:`labelgraph.inspect.sweep`) can share the work between
settings and still compute exactly the same numbers.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._dense import check_dense
from .._version import __version__
from ..artifact import Artifact, require_same_labels
from ..errors import ArtifactError, ConfigError, DataError
from .normalize import symmetric_normalize
from .statistical import binary_graph, check_unit, reweighted_graph

__all__ = [
    "KSParts",
    "KSPreset",
    "PRESETS",
    "STAT_GRAPHS",
    "check_tau",
    "ks_graph",
    "ks_params",
    "statistical_adjacency",
    "align_knowledge",
    "ks_artifact",
]

log = logging.getLogger(__name__)

#: What ``A_S`` may be (``stat_graph``): P itself, ML-GCN's binary B (Eq. 7) or re-weighted A' (Eq. 8).
STAT_GRAPHS: tuple[str, ...] = ("probability", "binary", "reweighted")


@dataclass(frozen=True)
class KSPreset:
    """The KS-graph parameters a paper used for one dataset.

    Examples
    --------
    >>> PRESETS["kssnet-coco"].params
    {'lam': 0.4, 'tau': 0.02, 'eta': 0.4}
    """

    name: str
    lam: float
    tau: float
    eta: float
    source: str

    @property
    def params(self) -> dict[str, float]:
        """``{"lam": λ, "tau": τ, "eta": η}``, ready for ``ks_artifact(..., **preset.params)``."""
        return {"lam": self.lam, "tau": self.tau, "eta": self.eta}


#: The KSSNet paper's settings (AAAI 2020, "Implementation details" of each experiment).
PRESETS: dict[str, KSPreset] = {
    p.name: p
    for p in (
        KSPreset("kssnet-coco", 0.4, 0.02, 0.4, "KSSNet, MS-COCO: λ = 0.4, τ = 0.02, η = 0.4"),
        KSPreset("kssnet-charades", 0.6, 0.03, 0.4, "KSSNet, Charades: λ = 0.6, η = 0.4, τ = 0.03"),
    )
}


class KSParts(NamedTuple):
    """Every intermediate of Eqs. (2)–(4), each a dense float64 C × C array."""

    A_S_hat: np.ndarray
    """``Â_S = norm(A_S)``."""
    A_K_hat: np.ndarray
    """``Â_K = norm(A_K)``."""
    A: np.ndarray
    """``λ Â_S + (1 − λ) Â_K`` (Eq. 2)."""
    A_tau: np.ndarray
    """``A ⊙ [A ≥ τ]`` (Eq. 3)."""
    A_KS: np.ndarray
    """``η A_τ + (1 − η) I`` (Eq. 4)."""
    A_KS_hat: np.ndarray
    """``norm(A_KS)``, the matrix the GCN consumes."""


def check_tau(value: float, name: str = "tau") -> float:
    """Return ``value`` as float if it is a finite number ≥ 0, else raise :class:`ConfigError`.

    Eq. (3) only needs ``τ ∈ ℝ``; a negative τ would keep every entry, so it is refused.

    Examples
    --------
    >>> check_tau(0.02)
    0.02
    >>> check_tau(-0.1)
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: tau must be >= 0, got -0.1
    """
    value = float(value)
    if not np.isfinite(value) or value < 0.0:
        raise ConfigError(f"{name} must be >= 0, got {value:g}")
    return value


def _dense(A: Any, name: str) -> np.ndarray:
    check_dense(A.shape[0] if sp.issparse(A) else len(A), name)
    A = A.toarray() if sp.issparse(A) else np.asarray(A)
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise DataError(f"{name} must be a square C x C matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise DataError(f"{name} holds NaN or inf")
    if (A < 0).any():
        raise DataError(f"{name} holds negative weights; Eqs. (2)-(4) need non-negative adjacency matrices")
    return A


def _blend(A_S_hat: np.ndarray, A_K_hat: np.ndarray, lam: float) -> np.ndarray:
    """Eq. (2)."""
    return lam * A_S_hat + (1.0 - lam) * A_K_hat


def _threshold(A: np.ndarray, tau: float) -> np.ndarray:
    """Eq. (3): entries below τ become 0; τ itself is kept (``≥``)."""
    return np.where(A >= tau, A, 0.0)


def _self_weight(A_tau: np.ndarray, eta: float) -> np.ndarray:
    """Eq. (4)."""
    A_KS = eta * A_tau
    A_KS[np.diag_indices_from(A_KS)] += 1.0 - eta
    return A_KS


def ks_graph(A_S: Any, A_K: Any, lam: float, tau: float, eta: float,
             parts: bool = False) -> np.ndarray | KSParts:
    """The KS graph of KSSNet, Eqs. (2)–(4), from a statistical and a knowledge adjacency matrix.

    Parameters
    ----------
    A_S : array_like or sparse, C × C
        The statistical graph (``P`` by default in :func:`ks_artifact`), non-negative.
    A_K : array_like or sparse, C × C
        The knowledge graph of Eq. (1), non-negative, same label order as ``A_S``.
    lam : float
        λ ∈ [0, 1], the weight of the statistical graph in Eq. (2).
    tau : float
        τ ≥ 0, the threshold of Eq. (3); entries ``≥ τ`` are kept.
    eta : float
        η ∈ [0, 1], the weight of the thresholded graph against the identity in Eq. (4).
    parts : bool
        Return a :class:`KSParts` of every intermediate instead of ``Â_KS`` alone.

    Returns
    -------
    ndarray of float64, C × C, or KSParts
        ``Â_KS = norm(η A_τ + (1 − η) I)``.  A label without any weight in ``A_S``
        or ``A_K`` gets a zero row there (no NaN); with ``η < 1`` every label keeps
        its self loop.

    Raises
    ------
    ConfigError
        λ or η outside [0, 1], or τ < 0.
    DataError
        Non-square, mismatched, negative or non-finite inputs.

    Examples
    --------
    >>> A_S = [[0, 1], [1, 0]]
    >>> A_K = [[0, 0], [0, 0]]
    >>> ks_graph(A_S, A_K, lam=0.5, tau=0.1, eta=0.5).round(4).tolist()
    [[0.6667, 0.3333], [0.3333, 0.6667]]
    >>> ks_graph(A_S, A_K, lam=0.5, tau=0.1, eta=0.5, parts=True).A.tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    lam = check_unit("lam", lam)
    eta = check_unit("eta", eta)
    tau = check_tau(tau)
    A_S = _dense(A_S, "A_S")
    A_K = _dense(A_K, "A_K")
    if A_S.shape != A_K.shape:
        raise DataError(f"A_S is {A_S.shape[0]} x {A_S.shape[1]} but A_K is {A_K.shape[0]} x {A_K.shape[1]}")
    A_S_hat = symmetric_normalize(A_S)
    A_K_hat = symmetric_normalize(A_K)
    A = _blend(A_S_hat, A_K_hat, lam)
    A_tau = _threshold(A, tau)
    A_KS = _self_weight(A_tau, eta)
    A_KS_hat = symmetric_normalize(A_KS)
    if parts:
        return KSParts(A_S_hat, A_K_hat, A, A_tau, A_KS, A_KS_hat)
    return A_KS_hat


def ks_params(preset: str | None = None, *, lam: float | None = None, tau: float | None = None,
              eta: float | None = None) -> dict[str, float]:
    """λ, τ, η from a preset name, with explicit values winning; no preset means ``kssnet-coco``.

    Examples
    --------
    >>> ks_params("kssnet-charades")
    {'lam': 0.6, 'tau': 0.03, 'eta': 0.4}
    >>> ks_params(tau=0.05)
    {'lam': 0.4, 'tau': 0.05, 'eta': 0.4}
    """
    name = preset or "kssnet-coco"
    if name not in PRESETS:
        raise ConfigError(f"unknown KS preset {name!r} (known: {', '.join(PRESETS)})")
    params = PRESETS[name].params
    given = {"lam": lam, "tau": tau, "eta": eta}
    params.update({k: float(v) for k, v in given.items() if v is not None})
    check_unit("lam", params["lam"])
    check_unit("eta", params["eta"])
    check_tau(params["tau"])
    return params


def statistical_adjacency(stats: Artifact, stat_graph: str = "probability", *, stat_tau: float = 0.4,
                          p: float = 0.2) -> np.ndarray:
    """``A_S`` of a statistics artifact: ``P``, binary ``B`` (Eq. 7, τ = ``stat_tau``) or re-weighted ``A'`` (Eq. 8).

    ``B`` has a zero diagonal (the identity of Eq. 4 supplies the self loops);
    ``A'`` keeps its ``1 − p`` diagonal, as ML-GCN defines it.

    Examples
    --------
    >>> s = Artifact.statistics(["a", "b"], [2, 4], [[0, 2], [2, 0]], 5)
    >>> statistical_adjacency(s).tolist()
    [[0.0, 1.0], [0.5, 0.0]]
    >>> statistical_adjacency(s, "binary", stat_tau=0.6).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    if stats.kind != "statistics":
        raise ArtifactError(f"A_S is built from a statistics artifact, got {stats.kind}")
    if stat_graph not in STAT_GRAPHS:
        raise ConfigError(f"unknown statistical graph {stat_graph!r} (known: {', '.join(STAT_GRAPHS)})")
    P = stats.conditional_probability()
    if stat_graph == "probability":
        return P
    B = binary_graph(P, stat_tau)
    return B if stat_graph == "binary" else reweighted_graph(B, p)


def align_knowledge(stats_labels: tuple[str, ...], knowledge: Artifact, *, align: bool = False,
                    what: str = "knowledge") -> Artifact:
    """``knowledge`` in the label order ``stats_labels``: checked as is, or reordered by name with ``align``.

    Either way the two label *sets* must be equal; otherwise a
    :class:`~labelgraph.errors.LabelMismatchError` lists the labels only in one.

    Examples
    --------
    >>> k = Artifact.graph("knowledge", ["b", "a"], [[0, 1], [1, 0]])
    >>> align_knowledge(("a", "b"), k, align=True).labels
    ('a', 'b')
    """
    if knowledge.labels == tuple(stats_labels):
        return knowledge
    if align and set(knowledge.labels) == set(stats_labels) and len(knowledge.labels) == len(stats_labels):
        return knowledge.reorder(list(stats_labels))
    require_same_labels(stats_labels, knowledge.labels, "statistics", what)
    return knowledge  # pragma: no cover - require_same_labels raised


def _ks_meta(stats: Artifact, knowledge: Artifact, params: Mapping[str, float], stat_graph: str,
             stat_tau: float, p: float, aligned: bool, raw: bool) -> dict[str, Any]:
    meta: dict[str, Any] = dict(kind="ks", **params, stat_graph=stat_graph)
    if stat_graph in ("binary", "reweighted"):
        meta["stat_tau"] = stat_tau
    if stat_graph == "reweighted":
        meta["p"] = p
    source = {k: stats.meta[k] for k in ("dataset", "split", "files", "reader", "origin") if k in stats.meta}
    meta.update(normalized=not raw, aligned=aligned, statistics_hash=stats.content_hash,
                knowledge_hash=knowledge.content_hash, num_samples=stats.num_samples,
                source=source, labelgraph_version=__version__)
    knowledge_source = {k: knowledge.meta[k] for k in ("source", "relations", "directed") if k in knowledge.meta}
    if knowledge_source:
        meta["knowledge_source"] = knowledge_source
    return meta


def ks_artifact(stats: Artifact, knowledge: Artifact, *, lam: float, tau: float, eta: float,
                stat_graph: str = "probability", stat_tau: float = 0.4, p: float = 0.2,
                align: bool = False, raw: bool = False) -> Artifact:
    """The ``ks`` graph artifact of a statistics and a knowledge artifact (SPEC §2.6).

    Parameters
    ----------
    stats : Artifact
        Kind ``statistics``; ``A_S`` is derived from it by ``stat_graph``.
    knowledge : Artifact
        Kind ``knowledge``: the raw ``A_K`` of Eq. (1), zero diagonal.
    lam, tau, eta : float
        λ ∈ [0, 1], τ ≥ 0, η ∈ [0, 1] of Eqs. (2)–(4); see :data:`PRESETS`.
    stat_graph : {"probability", "binary", "reweighted"}
        ``A_S`` = ``P``, ``B`` (Eq. 7 at ``stat_tau``) or ``A'`` (Eq. 8 at ``stat_tau``, ``p``).
    stat_tau, p : float
        Parameters of the binary / re-weighted statistical graph; ignored for ``probability``.
    align : bool
        Reorder ``knowledge`` by label name to the statistics' order; without it
        the orders must already agree.  The label sets must be equal either way.
    raw : bool
        Save ``A_KS`` (Eq. 4) instead of ``Â_KS``.

    Returns
    -------
    Artifact
        Kind ``ks`` (float32 CSR), ``meta`` with every parameter, ``normalized``,
        and the content hashes of both inputs.

    Examples
    --------
    >>> s = Artifact.statistics(["a", "b", "c"], [4, 2, 2], [[0, 2, 0], [2, 0, 0], [0, 0, 0]], 6)
    >>> k = Artifact.graph("knowledge", ["a", "b", "c"], [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    >>> g = ks_artifact(s, k, **PRESETS["kssnet-coco"].params)
    >>> g.kind, g.meta["lam"], g.meta["normalized"]
    ('ks', 0.4, True)
    >>> [name for name, _ in g.neighbors("a")]
    ['c', 'b']
    """
    if stats.kind != "statistics":
        raise ArtifactError(f"the KS graph needs a statistics artifact first, got {stats.kind}")
    if knowledge.kind != "knowledge":
        raise ArtifactError(f"the KS graph needs a knowledge artifact second, got {knowledge.kind}")
    params = {"lam": check_unit("lam", lam), "tau": check_tau(tau), "eta": check_unit("eta", eta)}
    stat_tau = check_unit("stat_tau", stat_tau)
    p = check_unit("p", p)
    aligned = knowledge.labels != stats.labels
    knowledge = align_knowledge(stats.labels, knowledge, align=align)
    A_K = knowledge.matrix
    if A_K.diagonal().any():
        log.warning("the knowledge graph has a non-zero diagonal; it is dropped (SPEC §2.5: zero diagonal)")
        A_K = knowledge.without_diagonal().matrix
    A_S = statistical_adjacency(stats, stat_graph, stat_tau=stat_tau, p=p)
    result = ks_graph(A_S, A_K, parts=True, **params)
    matrix = result.A_KS if raw else result.A_KS_hat
    meta = _ks_meta(stats, knowledge, params, stat_graph, stat_tau, p, aligned, raw)
    log.info("ks graph: lam=%g tau=%g eta=%g stat_graph=%s", params["lam"], params["tau"], params["eta"], stat_graph)
    return Artifact.graph("ks", stats.labels, matrix, meta)
