"""The numeric core of graphs: arrays in, arrays out (no artifact, no file).

Statistical kinds (probability, binary, re-weighted, mlgcn), association and
baseline kinds, knowledge (Eq. 1) and KS (Eqs. 2–4) graphs, sparsification, one
normalization, the graph measures, and the kind registry :data:`STATISTICAL_KINDS`.
Artifacts are made from these by :mod:`labelgraph.assemble`.
"""
from __future__ import annotations

from .kinds import GRAPH_KINDS, STATISTICAL_KINDS
from .normalize import symmetric_normalize
from .statistical import binary_graph, check_unit, mlgcn_graph, reweighted_graph

__all__ = [
    "GRAPH_KINDS",
    "STATISTICAL_KINDS",
    "symmetric_normalize",
    "binary_graph",
    "reweighted_graph",
    "mlgcn_graph",
    "check_unit",
]
