"""Looking at label graphs: summaries, comparisons, exports, plots, notebook views and parameter sweeps.

Everything here works on :class:`~labelgraph.artifact.Artifact` objects or plain
matrices; matplotlib and networkx are imported inside the functions that draw
or export, so ``import labelgraph.inspect`` stays light.

Examples
--------
>>> from labelgraph import Artifact
>>> from labelgraph.inspect import graph_summary
>>> g = Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
>>> s = graph_summary(g)
>>> s.num_edges, s.isolated
(2, ('c',))
"""
from __future__ import annotations

from .compare import GraphComparison, compare_graphs
from .export import EXPORT_FORMATS, default_export_path, export_graph
from .html import artifact_html
from .summary import GraphSummary, graph_matrix, graph_summary, structure_measures
from .sweep import SweepResult, graph_measures, oversmoothing, parse_values, spectral_gap, sweep

__all__ = [
    "GraphSummary",
    "graph_summary",
    "graph_matrix",
    "structure_measures",
    "GraphComparison",
    "compare_graphs",
    "EXPORT_FORMATS",
    "export_graph",
    "default_export_path",
    "artifact_html",
    "SweepResult",
    "sweep",
    "parse_values",
    "graph_measures",
    "spectral_gap",
    "oversmoothing",
]
