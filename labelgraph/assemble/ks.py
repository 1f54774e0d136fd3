"""The ``ks`` graph artifact (SPEC §2.6): statistics and knowledge artifacts in, an artifact out.

The numbers are :func:`labelgraph.graphs.ks.ks_graph`'s; this module checks and
aligns the inputs and writes the parameters and provenance into ``meta``.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

import numpy as np

from .._dense import use_sparse
from .._version import __version__
from ..artifact import Artifact, require_same_labels
from ..errors import ArtifactError
from ..graphs.ks import PRESETS, adjacency_from_probability, check_tau, ks_graph
from ..graphs.statistical import check_unit
from ..stats import conditional_probability

__all__ = ["statistical_adjacency", "align_to_labels", "ks_meta", "ks_artifact"]

log = logging.getLogger(__name__)


def statistical_adjacency(stats: Artifact, stat_graph: str = "probability", *, stat_tau: float = 0.4,
                          p: float = 0.2, sparse: bool = False) -> Any:
    """``A_S`` of a statistics artifact: ``P``, binary ``B`` (Eq. 7, τ = ``stat_tau``) or re-weighted ``A'`` (Eq. 8).

    ``B`` has a zero diagonal (the identity of Eq. 4 supplies the self loops);
    ``A'`` keeps its ``1 − p`` diagonal, as ML-GCN defines it.  A dense array, or
    with ``sparse`` a CSR matrix built from ``M`` without any C × C step.

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
    P = (conditional_probability(stats.matrix, stats.n, labels=stats.labels, sparse=True) if sparse
         else stats.conditional_probability())
    return adjacency_from_probability(P, stat_graph, stat_tau=stat_tau, p=p)


def align_to_labels(stats_labels: tuple[str, ...], knowledge: Artifact, *, align: bool = False,
                    what: str = "knowledge") -> Artifact:
    """``knowledge`` in the label order ``stats_labels``: checked as is, or reordered by name with ``align``.

    Either way the two label *sets* must be equal; otherwise a
    :class:`~labelgraph.errors.LabelMismatchError` lists the labels only in one.

    Examples
    --------
    >>> k = Artifact.graph("knowledge", ["b", "a"], [[0, 1], [1, 0]])
    >>> align_to_labels(("a", "b"), k, align=True).labels
    ('a', 'b')
    """
    if knowledge.labels == tuple(stats_labels):
        return knowledge
    if align and set(knowledge.labels) == set(stats_labels) and len(knowledge.labels) == len(stats_labels):
        return knowledge.reorder(list(stats_labels))
    require_same_labels(stats_labels, knowledge.labels, "statistics", what)
    return knowledge  # pragma: no cover - require_same_labels raised


def ks_meta(stats: Artifact, knowledge: Artifact, params: Mapping[str, float], stat_graph: str,
            stat_tau: float, p: float, aligned: bool, raw: bool) -> dict[str, Any]:
    """The ``meta`` of a ``ks`` artifact: its parameters, ``A_S``'s kind and both inputs' provenance.

    Examples
    --------
    >>> s = Artifact.statistics(["a", "b"], [2, 2], [[0, 1], [1, 0]], 3, {"dataset": "toy"})
    >>> k = Artifact.graph("knowledge", ["a", "b"], [[0, 1], [1, 0]])
    >>> m = ks_meta(s, k, {"lam": 0.4, "tau": 0.02, "eta": 0.4}, "binary", 0.4, 0.2, False, False)
    >>> m["stat_graph"], m["stat_tau"], m["source"]
    ('binary', 0.4, {'dataset': 'toy'})
    """
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
                align: bool = False, raw: bool = False, sparse: bool | None = None) -> Artifact:
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
    sparse : bool, optional
        Build every step sparse; by default sparse above ``SPARSE_ABOVE`` labels
        (:func:`labelgraph._dense.use_sparse`).  Both paths agree to 1e-6.

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
    knowledge = align_to_labels(stats.labels, knowledge, align=align)
    A_K = knowledge.matrix
    if A_K.diagonal().any():
        log.warning("the knowledge graph has a non-zero diagonal; it is dropped (SPEC §2.5: zero diagonal)")
        A_K = knowledge.without_diagonal().matrix
    sparse = use_sparse(stats.num_labels, sparse)
    A_S = statistical_adjacency(stats, stat_graph, stat_tau=stat_tau, p=p, sparse=sparse)
    result = ks_graph(A_S, A_K, parts=True, sparse=sparse, **params)
    matrix = result.A_KS if raw else result.A_KS_hat
    meta = ks_meta(stats, knowledge, params, stat_graph, stat_tau, p, aligned, raw)
    log.info("ks graph: lam=%g tau=%g eta=%g stat_graph=%s", params["lam"], params["tau"], params["eta"], stat_graph)
    return Artifact.graph("ks", stats.labels, matrix, meta)
