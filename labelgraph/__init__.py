"""labelgraph: label-correlation graphs for multi-label recognition (ML-GCN, KSSNet).

``import labelgraph`` is light: numpy and scipy only.  torch lives in
``labelgraph.train``, gensim is imported where a vector file is read, and
matplotlib where a plot is drawn.

Examples
--------
>>> import labelgraph
>>> stats = labelgraph.load(labelgraph.bundled_path("coco"))
>>> g = labelgraph.build_graph(stats, "reweighted", tau=0.4, p=0.2)
>>> g.kind, g.num_labels
('reweighted', 80)
"""
from __future__ import annotations

from ._version import __version__
from .artifact import KINDS, Artifact, load, require_same_labels
from .bundled import BUNDLED, bundled_path
from .errors import (
    ArtifactError,
    ConfigError,
    DataError,
    LabelGraphError,
    LabelMismatchError,
    NetworkError,
)
from .graphs import binary_graph, build_graph, mlgcn_graph, reweighted_graph, symmetric_normalize
from .labelset import LabelSet
from .stats import conditional_probability, cooccurrence_counts, label_statistics

__all__ = [
    "__version__",
    "Artifact",
    "KINDS",
    "load",
    "require_same_labels",
    "BUNDLED",
    "bundled_path",
    "LabelSet",
    "cooccurrence_counts",
    "conditional_probability",
    "label_statistics",
    "build_graph",
    "binary_graph",
    "reweighted_graph",
    "mlgcn_graph",
    "symmetric_normalize",
    "LabelGraphError",
    "DataError",
    "ConfigError",
    "LabelMismatchError",
    "ArtifactError",
    "NetworkError",
]
