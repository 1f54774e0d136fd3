"""The knowledge graph A_K of KSSNet Eq. (1), from ConceptNet edges and a label → concepts mapping.

``[A_K]_ij = max{ w_r : r ∈ S_ij }`` when ``S_ij`` is non-empty, else 0, where
``S_ij`` holds the edges (of the chosen relations) from a concept of label i to a
concept of label j — in either direction unless ``directed`` — and
``w_r = weight × multiplier[relation]`` (SPEC §2.5).  The diagonal is zero.

This module is pure: it takes edges as tuples and returns an array.  Reading the
edges from the ConceptNet store happens in :mod:`labelgraph.conceptnet`.
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

import numpy as np

from .._dense import check_dense
from ..errors import ConfigError, DataError

__all__ = [
    "DEFAULT_RELATIONS",
    "NEGATIVE_RELATIONS",
    "ALL_RELATIONS",
    "relation_name",
    "check_relations",
    "check_multipliers",
    "concept_of",
    "knowledge_graph",
]

#: The positive relations that count by default (SPEC §2.5).
DEFAULT_RELATIONS: tuple[str, ...] = (
    "RelatedTo", "IsA", "PartOf", "HasA", "UsedFor", "CapableOf", "AtLocation", "Causes",
    "HasSubevent", "HasPrerequisite", "HasProperty", "MotivatedByGoal", "Desires", "CreatedBy",
    "Synonym", "SimilarTo", "MadeOf", "ReceivesAction", "LocatedNear", "HasContext", "DerivedFrom",
    "FormOf", "EtymologicallyRelatedTo", "MannerOf", "InstanceOf",
)

#: Relations that say two concepts differ; excluded by default (SPEC §2.5).
NEGATIVE_RELATIONS: tuple[str, ...] = (
    "Antonym", "DistinctFrom", "NotDesires", "NotCapableOf", "NotHasProperty", "NotUsedFor",
)

#: Every relation of ConceptNet 5.7 (core relations, then the ``dbpedia/`` ones).
ALL_RELATIONS: tuple[str, ...] = DEFAULT_RELATIONS + NEGATIVE_RELATIONS + (
    "ExternalURL", "HasFirstSubevent", "HasLastSubevent", "ObstructedBy", "DefinedAs", "SymbolOf",
    "EtymologicallyDerivedFrom", "CausesDesire", "Entails",
    "dbpedia/capital", "dbpedia/field", "dbpedia/genre", "dbpedia/genus", "dbpedia/influencedBy",
    "dbpedia/knownFor", "dbpedia/language", "dbpedia/leader", "dbpedia/occupation", "dbpedia/product",
)

_BY_LOWER = {r.lower(): r for r in ALL_RELATIONS}


def relation_name(relation: str) -> str:
    """The canonical name of a relation given as ``IsA``, ``/r/IsA`` or ``isa``.

    Raises :class:`~labelgraph.errors.ConfigError` listing the known relations when
    the name is not a ConceptNet 5.7 relation.

    Examples
    --------
    >>> relation_name("/r/AtLocation"), relation_name("isa")
    ('AtLocation', 'IsA')
    """
    text = str(relation).strip()
    if text.startswith("/r/"):
        text = text[3:]
    name = _BY_LOWER.get(text.rstrip("/").lower())
    if name is None:
        raise ConfigError(f"unknown ConceptNet relation {relation!r} (known: {', '.join(ALL_RELATIONS)})")
    return name


def check_relations(relations: Iterable[str] | None) -> tuple[str, ...]:
    """Validate a relation set: canonical names, first-seen order, no duplicates; ``None`` → defaults.

    Examples
    --------
    >>> check_relations(["/r/IsA", "AtLocation", "IsA"])
    ('IsA', 'AtLocation')
    >>> len(check_relations(None))
    25
    """
    if relations is None:
        return DEFAULT_RELATIONS
    names = tuple(dict.fromkeys(relation_name(r) for r in relations))
    if not names:
        raise ConfigError("the relation set is empty: give at least one relation")
    return names


def check_multipliers(multipliers: Mapping[str, float] | None, relations: Sequence[str]) -> dict[str, float]:
    """Per-relation multipliers for ``relations``: 1.0 unless given; each finite and ≥ 0.

    A multiplier for a relation outside the set is an error (it would have no effect).

    Examples
    --------
    >>> check_multipliers({"/r/IsA": 2}, ["IsA", "AtLocation"])
    {'IsA': 2.0, 'AtLocation': 1.0}
    """
    out = {r: 1.0 for r in relations}
    for key, value in (multipliers or {}).items():
        name = relation_name(key)
        if name not in out:
            raise ConfigError(f"multiplier given for {name}, which is not in the relation set "
                              f"({', '.join(relations)})")
        try:
            w = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"multiplier for {name} must be a number, got {value!r}") from None
        if not math.isfinite(w) or w < 0:
            raise ConfigError(f"multiplier for {name} must be finite and >= 0, got {value!r}")
        out[name] = w
    return out


def concept_of(uri: str) -> str:
    """The concept a node URI belongs to: its sense suffix dropped (``/c/en/dog/n/wn/animal`` → ``/c/en/dog``).

    URIs that are not ``/c/<lang>/<term>...`` (e.g. ``http://`` ends of ExternalURL) come back unchanged.

    Examples
    --------
    >>> concept_of("/c/en/dog/n/wn/animal"), concept_of("/c/en/tennis_racket")
    ('/c/en/dog', '/c/en/tennis_racket')
    """
    if not uri.startswith("/c/"):
        return uri
    lang_end = uri.find("/", 3)
    if lang_end < 0:
        return uri
    term_end = uri.find("/", lang_end + 1)
    return uri if term_end < 0 else uri[:term_end]


def knowledge_graph(edges: Iterable[tuple[str, str, str, float]], concepts: Sequence[Iterable[str]], *,
                    relations: Iterable[str] | None = None, multipliers: Mapping[str, float] | None = None,
                    directed: bool = False) -> np.ndarray:
    """KSSNet Eq. (1): ``A_K[i, j]`` = the strongest relation between the concepts of labels i and j.

    Parameters
    ----------
    edges : iterable of (relation, start, end, weight)
        ConceptNet edges; ``relation`` as ``IsA`` or ``/r/IsA``, ``start``/``end`` node
        URIs (a sense suffix is dropped, :func:`concept_of`), ``weight`` the edge's own weight.
    concepts : sequence of C iterables of str
        The concepts of each label, in matrix order (label → concepts, SPEC §2.5).  A
        concept may belong to several labels.
    relations : iterable of str, optional
        The relation set; default :data:`DEFAULT_RELATIONS` (negative relations and
        ExternalURL excluded).  Edges of other relations are ignored.
    multipliers : mapping, optional
        relation → factor applied to the weight (default 1.0 each; finite, ≥ 0).
    directed : bool
        ``False`` (default): an edge a → b counts for (i, j) and (j, i).  ``True``: only
        for (i, j) with a a concept of i and b a concept of j.

    Returns
    -------
    ndarray of float64, shape (C, C)
        ``max`` over ``S_ij`` of ``weight × multiplier``; 0 where ``S_ij`` is empty; zero diagonal.

    Examples
    --------
    >>> edges = [("AtLocation", "/c/en/cat", "/c/en/bed/n", 9.4),
    ...          ("RelatedTo", "/c/en/bed", "/c/en/cat", 1.0),
    ...          ("Antonym", "/c/en/dog", "/c/en/cat", 3.7)]
    >>> knowledge_graph(edges, [["/c/en/cat"], ["/c/en/bed"], ["/c/en/dog"]]).tolist()
    [[0.0, 9.4, 0.0], [9.4, 0.0, 0.0], [0.0, 0.0, 0.0]]
    >>> knowledge_graph(edges, [["/c/en/cat"], ["/c/en/bed"]], directed=True).tolist()
    [[0.0, 9.4], [1.0, 0.0]]
    """
    rel_set = check_relations(relations)
    factor = check_multipliers(multipliers, rel_set)
    c = len(concepts)
    check_dense(c, "knowledge graph")
    owners: dict[str, list[int]] = {}
    for i, group in enumerate(concepts):
        for concept in dict.fromkeys(concept_of(x) for x in group):
            owners.setdefault(concept, []).append(i)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for rel, start, end, weight in edges:
        name = rel[3:] if rel.startswith("/r/") else rel
        mult = factor.get(name)
        if mult is None:
            continue
        heads = owners.get(concept_of(start))
        tails = owners.get(concept_of(end))
        if not heads or not tails:
            continue
        w = float(weight)
        if not math.isfinite(w):
            raise DataError(f"edge {start} -{name}-> {end} has a non-finite weight {weight!r}")
        w *= mult
        for i in heads:
            for j in tails:
                if i != j:
                    rows.append(i)
                    cols.append(j)
                    vals.append(w)

    A = np.full((c, c), -np.inf, dtype=np.float64)
    if rows:
        r = np.asarray(rows, dtype=np.int64)
        k = np.asarray(cols, dtype=np.int64)
        v = np.asarray(vals, dtype=np.float64)
        np.maximum.at(A, (r, k), v)
        if not directed:
            np.maximum.at(A, (k, r), v)
    A[np.isneginf(A)] = 0.0
    np.fill_diagonal(A, 0.0)
    return A
