"""ConceptNet for KSSNet's knowledge graph: a local SQLite store filled from the API or the dump.

- :mod:`~labelgraph.conceptnet.client` — a polite API client (:class:`FetchPolicy`, token bucket, retries);
- :mod:`~labelgraph.conceptnet.fetch` — fetch a label set's edges, about C requests, resumable;
- :mod:`~labelgraph.conceptnet.dump` — ingest ``conceptnet-assertions-5.7.0.csv.gz`` offline;
- :mod:`~labelgraph.conceptnet.store` — the SQLite store (WAL, fetch log, schema version);
- :mod:`~labelgraph.conceptnet.mapping` — label → concepts, override files;
- :func:`knowledge_artifact` — ``A_K`` (KSSNet Eq. (1)) from the store, no network.

Examples
--------
>>> from labelgraph.conceptnet import DEFAULT_RELATIONS, ALL_RELATIONS
>>> "AtLocation" in DEFAULT_RELATIONS, "Antonym" in DEFAULT_RELATIONS, "Antonym" in ALL_RELATIONS
(True, False, True)
"""
from __future__ import annotations

from ..graphs.knowledge import (
    ALL_RELATIONS,
    DEFAULT_RELATIONS,
    NEGATIVE_RELATIONS,
    concept_of,
    knowledge_graph,
    relation_name,
)
from .build import knowledge_artifact, mapping_report, resolve_overrides
from .client import DEFAULT_BASE_URL, ConceptNetClient, FetchPolicy, TokenBucket
from .dump import IngestReport, ingest_dump
from .fetch import FetchReport, fetch_concepts, fetch_labels
from .mapping import LabelMapping, map_labels, packaged_overrides, phrase_concept, read_overrides
from .store import SCHEMA_VERSION, Store, StoreBusyError, default_store_path

__all__ = [
    "ALL_RELATIONS",
    "DEFAULT_RELATIONS",
    "NEGATIVE_RELATIONS",
    "DEFAULT_BASE_URL",
    "SCHEMA_VERSION",
    "ConceptNetClient",
    "FetchPolicy",
    "TokenBucket",
    "FetchReport",
    "IngestReport",
    "LabelMapping",
    "Store",
    "StoreBusyError",
    "concept_of",
    "default_store_path",
    "fetch_concepts",
    "fetch_labels",
    "ingest_dump",
    "knowledge_artifact",
    "knowledge_graph",
    "map_labels",
    "mapping_report",
    "packaged_overrides",
    "phrase_concept",
    "read_overrides",
    "relation_name",
    "resolve_overrides",
]
