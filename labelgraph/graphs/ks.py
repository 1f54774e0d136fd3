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
settings and still compute exactly the same numbers.  Arrays in, arrays out: the
``ks`` artifact is made by :func:`labelgraph.assemble.ks_artifact`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._dense import check_dense
from ..errors import ConfigError, DataError
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
    "blend",
    "threshold",
    "self_weight",
    "adjacency_from_probability",
]

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
    """Every intermediate of Eqs. (2)–(4), each a float64 C × C matrix (dense, or CSR on the sparse path)."""

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


def _checked(A: Any, name: str, sparse: bool) -> Any:
    if sparse:
        A = sp.csr_matrix(A, dtype=np.float64)
        values = A.data
    else:
        check_dense(A.shape[0] if sp.issparse(A) else len(A), name)
        A = np.asarray(A.toarray() if sp.issparse(A) else A, dtype=np.float64)
        values = A
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise DataError(f"{name} must be a square C x C matrix, got shape {A.shape}")
    if not np.all(np.isfinite(values)):
        raise DataError(f"{name} holds NaN or inf")
    if (values < 0).any():
        raise DataError(f"{name} holds negative weights; Eqs. (2)-(4) need non-negative adjacency matrices")
    return A


def blend(A_S_hat: Any, A_K_hat: Any, lam: float) -> Any:
    """Eq. (2): ``λ Â_S + (1 − λ) Â_K``: CSR when both are sparse, else a dense array.

    Examples
    --------
    >>> blend(np.ones((1, 1)), np.zeros((1, 1)), 0.25).tolist()
    [[0.25]]
    """
    if sp.issparse(A_S_hat) and sp.issparse(A_K_hat):
        return sp.csr_matrix(lam * A_S_hat + (1.0 - lam) * A_K_hat)
    A_S_hat = A_S_hat.toarray() if sp.issparse(A_S_hat) else A_S_hat
    A_K_hat = A_K_hat.toarray() if sp.issparse(A_K_hat) else A_K_hat
    return lam * A_S_hat + (1.0 - lam) * A_K_hat


def threshold(A: Any, tau: float) -> Any:
    """Eq. (3): entries below τ become 0; τ itself is kept (``≥``).

    On a sparse ``A`` only the stored entries are compared: an absent entry is 0 and
    stays 0 for every τ ≥ 0, so the result is the dense one.

    Examples
    --------
    >>> threshold(np.array([[0.1, 0.2]]), 0.2).tolist()
    [[0.0, 0.2]]
    """
    if sp.issparse(A):
        out = sp.csr_matrix(A, copy=True)
        out.data[out.data < tau] = 0.0
        out.eliminate_zeros()
        return out
    return np.where(A >= tau, A, 0.0)


def self_weight(A_tau: Any, eta: float) -> Any:
    """Eq. (4): ``η A_τ + (1 − η) I`` (CSR from a sparse ``A_τ``).

    Examples
    --------
    >>> self_weight(np.array([[0.0, 1.0], [1.0, 0.0]]), 0.4).tolist()
    [[0.6, 0.4], [0.4, 0.6]]
    """
    if sp.issparse(A_tau):
        out = sp.csr_matrix(eta * A_tau + (1.0 - eta) * sp.identity(A_tau.shape[0], format="csr"))
        out.eliminate_zeros()
        return out
    A_KS = eta * A_tau
    A_KS[np.diag_indices_from(A_KS)] += 1.0 - eta
    return A_KS


def ks_graph(A_S: Any, A_K: Any, lam: float, tau: float, eta: float,
             parts: bool = False, *, sparse: bool | None = None) -> Any:
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
    sparse : bool, optional
        Keep every step sparse (CSR in, CSR out, never C × C); by default sparse
        exactly when both ``A_S`` and ``A_K`` are sparse matrices.

    Returns
    -------
    ndarray of float64, C × C (CSR on the sparse path), or KSParts
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
    if sparse is None:
        sparse = sp.issparse(A_S) and sp.issparse(A_K)
    A_S = _checked(A_S, "A_S", sparse)
    A_K = _checked(A_K, "A_K", sparse)
    if A_S.shape != A_K.shape:
        raise DataError(f"A_S is {A_S.shape[0]} x {A_S.shape[1]} but A_K is {A_K.shape[0]} x {A_K.shape[1]}")
    A_S_hat = symmetric_normalize(A_S)
    A_K_hat = symmetric_normalize(A_K)
    A = blend(A_S_hat, A_K_hat, lam)
    A_tau = threshold(A, tau)
    A_KS = self_weight(A_tau, eta)
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


def adjacency_from_probability(P: Any, stat_graph: str = "probability", *, stat_tau: float = 0.4,
                               p: float = 0.2) -> Any:
    """``A_S`` from ``P``: ``P`` itself, binary ``B`` (Eq. 7, τ = ``stat_tau``) or re-weighted ``A'`` (Eq. 8).

    A sparse ``P`` gives a sparse ``A_S`` (CSR).

    ``B`` has a zero diagonal (the identity of Eq. 4 supplies the self loops);
    ``A'`` keeps its ``1 − p`` diagonal, as ML-GCN defines it.

    Examples
    --------
    >>> P = np.array([[0.0, 1.0], [0.5, 0.0]])
    >>> adjacency_from_probability(P, "binary", stat_tau=0.6).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    if stat_graph not in STAT_GRAPHS:
        raise ConfigError(f"unknown statistical graph {stat_graph!r} (known: {', '.join(STAT_GRAPHS)})")
    P = sp.csr_matrix(P, dtype=np.float64) if sp.issparse(P) else np.asarray(P, dtype=np.float64)
    if stat_graph == "probability":
        return P
    B = binary_graph(P, stat_tau)
    return B if stat_graph == "binary" else reweighted_graph(B, p)
