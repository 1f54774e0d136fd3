"""The knowledge-graph artifact: label mapping + the store's edges + Eq. (1), with no network access."""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .._version import __version__
from ..artifact import Artifact
from ..errors import ConfigError, DataError
from ..files import sha256_file
from ..graphs.knowledge import check_multipliers, check_relations, knowledge_graph
from .mapping import LabelMapping, map_labels, packaged_overrides, read_overrides
from .store import Store, default_store_path

__all__ = ["knowledge_artifact", "resolve_overrides", "mapping_report", "map_from_store", "fetch_hint"]

log = logging.getLogger(__name__)


def resolve_overrides(labels: Sequence[str], overrides: str | os.PathLike[str] | None = None,
                      dataset: str | None = None) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    """The overrides in force: the file shipped for ``dataset`` (if any), then ``overrides`` on top.

    Returns the label → concepts map (only labels in ``labels``) and what it came from (for meta).

    Examples
    --------
    >>> table, source = resolve_overrides(["pottedplant", "cat"], dataset="voc")
    >>> table["pottedplant"][0], source["packaged"]
    ('/c/en/potted_plant', 'voc.csv')
    """
    table: dict[str, tuple[str, ...]] = {}
    source: dict[str, Any] = {"packaged": None, "file": None, "sha256": None}
    packaged = packaged_overrides(dataset)
    if packaged is not None:
        wanted = set(labels)
        table.update({k: v for k, v in read_overrides(packaged).items() if k in wanted})
        source["packaged"] = packaged.name
    if overrides is not None:
        path = Path(overrides)
        if not path.is_file():
            raise DataError(f"{path}: no such override file")
        table.update(read_overrides(path, labels))
        source["file"] = str(path)
        source["sha256"] = sha256_file(path)
    return table, source


def _check_labels(labels: Sequence[str]) -> list[str]:
    labels = [str(x) for x in labels]
    if not labels:
        raise ConfigError("no labels given")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise DataError(f"label {label!r} is given twice")
        seen.add(label)
    return labels


def _fetch_hint(dataset: str | None, store_path: Path) -> str:
    where = "" if store_path == default_store_path() else f" --store {store_path}"
    target = f"--dataset {dataset}" if dataset else "--labels FILE"
    return (f"run `labelgraph conceptnet fetch {target}{where}` (it resumes where it stopped), "
            f"or `labelgraph conceptnet ingest{where} --download`")


def map_from_store(store: Store, labels: Sequence[str], overrides: Mapping[str, Sequence[str]] | None = None,
                   dataset: str | None = None) -> tuple[list[LabelMapping], list[str]]:
    """Map ``labels`` with the store's edges; also return the concepts the store does not cover.

    A concept not covered (never fetched, or fetched only in part) counts as having no
    edge, so the mapping falls back past it; the caller decides whether that is an error.

    Examples
    --------
    >>> with Store(tmp / "cn.sqlite") as st:
    ...     _ = st.record_page("/c/en/cat", [], None)
    ...     mapping, missing = map_from_store(st, ["cat", "hot dog"])
    >>> mapping[0].source, missing
    ('none', ['/c/en/hot_dog', '/c/en/hot', '/c/en/dog'])
    """
    missing: list[str] = []

    def has_edges(concept: str) -> bool:
        if not store.is_covered(concept):
            if concept not in missing:
                missing.append(concept)
            return False
        return store.has_edges(concept)

    return map_labels(labels, has_edges, overrides, dataset=dataset), missing


def fetch_hint(dataset: str | None, store_path: Path) -> str:
    """The sentence telling which command fills the store.

    Examples
    --------
    >>> fetch_hint("coco", default_store_path())
    'run `labelgraph conceptnet fetch --dataset coco` (it resumes where it stopped), or `labelgraph conceptnet ingest --download`'
    """
    return _fetch_hint(dataset, store_path)


def mapping_report(store: Store, mapping: Sequence[LabelMapping],
                   relations: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Per label: its mapping and the number of store edges (of ``relations``) at its concepts.

    Examples
    --------
    >>> from labelgraph.conceptnet.store import edge_row
    >>> with Store(tmp / "cn.sqlite") as st:
    ...     _ = st.record_page("/c/en/cat", [edge_row("/a/[/r/IsA/,/c/en/cat/,/c/en/pet/]", "/r/IsA",
    ...                                               "/c/en/cat", "/c/en/pet", 2.0)], None)
    ...     mapping, _ = map_from_store(st, ["cat"])
    ...     mapping_report(st, mapping)[0]["edges"]
    1
    """
    return [dict(m.as_dict(), edges=store.edge_count_any(m.concepts, relations)) for m in mapping]


def knowledge_artifact(labels: Sequence[str], *, store: str | os.PathLike[str] | None = None,
                       relations: Sequence[str] | None = None, multipliers: Mapping[str, float] | None = None,
                       directed: bool = False, overrides: str | os.PathLike[str] | None = None,
                       dataset: str | None = None) -> Artifact:
    """The KSSNet knowledge graph ``A_K`` (Eq. (1), SPEC §2.5) of ``labels``, read from the local store only.

    Parameters
    ----------
    labels : sequence of str
        The labels, in matrix order.
    store : path, optional
        The ConceptNet store (default ``labelgraph.cache.home() / "conceptnet.sqlite"``).
    relations : sequence of str, optional
        Relation set (default :data:`~labelgraph.graphs.knowledge.DEFAULT_RELATIONS`).
    multipliers : mapping, optional
        relation → factor on the edge weight (default 1.0).
    directed : bool
        Keep edge direction (``A_K[i, j]`` from edges concept(i) → concept(j) only).
    overrides : path, optional
        Override file (CSV or TOML): label → concepts; wins over the phrase/word mapping.
    dataset : str, optional
        Dataset name: selects the override file shipped with labelgraph (``voc``) and is
        named in errors and meta.

    Returns
    -------
    Artifact
        ``kind == "knowledge"``, the raw (un-normalized) float32 ``A_K``; ``meta`` holds the
        store's fingerprint, the relation set, multipliers, ``directed``, the sha256 of the
        edges used and the mapping report (per label: concepts, source, edges found).

    Raises
    ------
    DataError
        No store, or concepts the mapping needs were never fetched (the message names the
        command that fetches them); an override for an unknown label.
    ConfigError
        An unknown relation (the message lists the known ones) or a bad multiplier.

    Examples
    --------
    >>> from labelgraph.conceptnet.store import Store, edge_row
    >>> path = tmp / "cn.sqlite"
    >>> with Store(path) as s:
    ...     s.record_page("/c/en/cat", [edge_row("/a/[/r/AtLocation/,/c/en/cat/,/c/en/bed/]", "/r/AtLocation",
    ...                                          "/c/en/cat", "/c/en/bed", 2.5)], None)
    ...     _ = s.record_page("/c/en/bed", [], None)
    1
    >>> a = knowledge_artifact(["cat", "bed"], store=path)
    >>> a.to_dense().tolist(), a.meta["mapping"][0]["concepts"]
    ([[0.0, 2.5], [2.5, 0.0]], ['/c/en/cat'])
    """
    labels = _check_labels(labels)
    rel_set = check_relations(relations)
    factors = check_multipliers(multipliers, rel_set)
    table, override_source = resolve_overrides(labels, overrides, dataset)
    store_path = Path(store) if store is not None else default_store_path()

    with Store(store_path, readonly=True) as st:
        mapping, missing = map_from_store(st, labels, table, dataset)
        if missing:
            shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
            raise DataError(f"{store_path}: {len(missing)} concepts were never fetched ({shown}); "
                            + _fetch_hint(dataset, store_path))
        concepts = sorted({c for m in mapping for c in m.concepts})
        edges = st.edges_between(concepts, rel_set)
        report = mapping_report(st, mapping, rel_set)
        fingerprint = st.fingerprint()

    A = knowledge_graph([(e.rel, e.start_concept, e.end_concept, e.weight) for e in edges],
                        [m.concepts for m in mapping], relations=rel_set, multipliers=factors, directed=directed)
    linked = (A > 0).sum(axis=1) + (A > 0).sum(axis=0)
    for row, k in zip(report, linked.tolist()):
        row["linked_labels"] = int(k if directed else k // 2)
    no_edge = [r["label"] for r in report if r["edges"] == 0]
    isolated = [r["label"] for r in report if r["edges"] > 0 and r["linked_labels"] == 0]
    if no_edge:
        log.warning("%d labels have no ConceptNet edge in the relation set: %s", len(no_edge), ", ".join(no_edge))
    if isolated:
        log.info("%d labels have edges but none to another label: %s", len(isolated), ", ".join(isolated))

    digest = hashlib.sha256()
    for e in edges:
        digest.update(f"{e.uri}\t{e.rel}\t{e.weight!r}\n".encode())
    meta = {
        "kind": "knowledge",
        "equation": "KSSNet Eq. (1): A_K[i, j] = max weight x multiplier over relations between i and j",
        "normalized": False,
        "dataset": dataset,
        "relations": list(rel_set),
        "multipliers": factors,
        "directed": bool(directed),
        "languages": ["en"],
        "store": fingerprint,
        "edges_used": len(edges),
        "edges_sha256": digest.hexdigest(),
        "overrides": override_source,
        "mapping": report,
        "labels_without_edges": no_edge,
        "isolated_labels": isolated,
        "labelgraph_version": __version__,
    }
    return Artifact.graph("knowledge", labels, A.astype(np.float32), meta)
