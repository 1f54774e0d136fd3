"""Graph families: statistical (probability, binary, re-weighted, mlgcn), knowledge, ks; one normalization.

``build_graph`` turns a statistics artifact into a graph artifact by kind name.
"""
from __future__ import annotations

from .build import GRAPH_KINDS, STATISTICAL_KINDS, build_graph, graph_filename
from .normalize import symmetric_normalize
from .statistical import binary_graph, check_unit, mlgcn_graph, reweighted_graph

__all__ = [
    "GRAPH_KINDS",
    "STATISTICAL_KINDS",
    "build_graph",
    "graph_filename",
    "symmetric_normalize",
    "binary_graph",
    "reweighted_graph",
    "mlgcn_graph",
    "check_unit",
]
