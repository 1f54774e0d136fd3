"""The assembly layer: artifacts made from the numeric core's arrays (statistics, graphs, KS graphs).

:mod:`labelgraph.stats` and :mod:`labelgraph.graphs` compute on arrays and know
no :class:`~labelgraph.artifact.Artifact`; the functions here check the input
artifacts, call them, and write parameters and provenance into the result's
``meta`` (``docs/architecture.md``).

Examples
--------
>>> import labelgraph
>>> from labelgraph.assemble import build_graph
>>> build_graph(labelgraph.load(labelgraph.bundled_path("voc")), "binary").kind
'binary'
"""
from __future__ import annotations

from .graphs import GRAPH_KINDS, STATISTICAL_KINDS, build_graph, graph_filename, ks_variant, sparsify_graph
from .ks import align_to_labels, ks_artifact, statistical_adjacency
from .statistics import label_statistics

__all__ = [
    "GRAPH_KINDS",
    "STATISTICAL_KINDS",
    "build_graph",
    "graph_filename",
    "ks_variant",
    "sparsify_graph",
    "align_to_labels",
    "ks_artifact",
    "statistical_adjacency",
    "label_statistics",
]
