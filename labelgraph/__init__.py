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
    "cooccurrence_counts": "stats", "conditional_probability": "stats", "label_statistics": "assemble",
    "build_graph": "assemble", "binary_graph": "graphs", "reweighted_graph": "graphs",
    "mlgcn_graph": "graphs", "symmetric_normalize": "graphs",
    "LabelGraphError": "errors", "DataError": "errors", "ConfigError": "errors",
    "LabelMismatchError": "errors", "ArtifactError": "errors", "NetworkError": "errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labelgraph' has no attribute {name!r}")
    imported = importlib.import_module(f".{module}", __name__)
    if module == "artifact":
        imported.register_html_view(_notebook_view)
    value = getattr(imported, name)
    if name != "KINDS":  # KINDS follows the kind registry, which can grow at run time: never cached
        globals()[name] = value
    return value


def _notebook_view(artifact: Any) -> str:
    # this package is the composition root: it wires the inspect layer's view into the artifact
    # (which imports nothing above it), importing the view only when a notebook first asks for it
    return importlib.import_module(".inspect.html", __name__).artifact_html(artifact)


def __dir__() -> list[str]:
    return sorted(__all__)
