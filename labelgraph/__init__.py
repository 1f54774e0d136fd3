"""labelgraph: label-correlation graphs for multi-label recognition (ML-GCN, KSSNet).

``import labelgraph`` is light: names are imported on first use (scipy.sparse
alone costs about 0.4 s), torch lives in ``labelgraph.train``, gensim is
imported where a vector file is read, and matplotlib where a plot is drawn.

Examples
--------
>>> import labelgraph
>>> stats = labelgraph.load(labelgraph.bundled_path("coco"))
>>> g = labelgraph.build_graph(stats, "reweighted", tau=0.4, p=0.2)
>>> g.kind, g.num_labels
('reweighted', 80)
"""
from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

#: public name → submodule that defines it (imported on first attribute access)
_LAZY: dict[str, str] = {
    "Artifact": "artifact", "KINDS": "artifact", "load": "artifact", "require_same_labels": "artifact",
    "BUNDLED": "bundled", "bundled_path": "bundled",
    "LabelSet": "labelset",
    "cooccurrence_counts": "stats", "conditional_probability": "stats", "label_statistics": "stats",
    "build_graph": "graphs", "binary_graph": "graphs", "reweighted_graph": "graphs",
    "mlgcn_graph": "graphs", "symmetric_normalize": "graphs",
    "LabelGraphError": "errors", "DataError": "errors", "ConfigError": "errors",
    "LabelMismatchError": "errors", "ArtifactError": "errors", "NetworkError": "errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labelgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
