"""One Python call per ``labelgraph`` command, for notebooks and scripts; the CLI parses, calls these, prints.

==================  ==========================================================
command             call
==================  ==========================================================
``build``           :func:`build_outputs` (``Source`` says where labels come from)
``stats``           :func:`write_statistics`
``show``            :func:`summarize`
``datasets``        :func:`dataset_rows`
``inspect``         :func:`neighbours`, :func:`strongest_out` (and ``labelgraph.inspect``)
``sweep``           :func:`sweep_outputs`
``embed``           :func:`label_source`, :func:`parse_aliases` (and ``labelgraph.embeddings``)
``ablate``          :func:`ablation_outputs` (trains: needs ``labelgraph[train]``)
==================  ==========================================================

Examples
--------
>>> from labelgraph.api import summarize
>>> import labelgraph
>>> summarize(labelgraph.bundled_path("coco"))["num_labels"]
80
"""
from __future__ import annotations

import importlib
from typing import Any

#: public name → the module of this package that defines it, imported on first use, so that
#: ``import labelgraph.api.build`` (the quickstart ``build``) loads neither ablate's nor sweep's code
_LAZY: dict[str, str] = {
    **dict.fromkeys(("ABLATION_MODELS", "AblationResult", "ablation_kinds", "ablation_outputs",
                     "parse_ablation_graphs"), "ablate"),
    **dict.fromkeys(("DEFAULT_KINDS", "BuildResult", "Source", "build_outputs", "file_kind", "modifiers",
                     "output_target", "parse_kinds", "parse_multipliers", "write_statistics"), "build"),
    **dict.fromkeys(("parse_aliases", "vectors_stem"), "embed"),
    **dict.fromkeys(("neighbours", "strongest_out"), "inspect"),
    **dict.fromkeys(("LabelSource", "file_stem", "label_source", "read_label_file"), "labels"),
    **dict.fromkeys(("dataset_rows", "summarize"), "show"),
    **dict.fromkeys(("load_statistics", "sweep_outputs"), "sweep"),
}

__all__ = ["DEFAULT_KINDS", "BuildResult", "Source", "build_outputs", "file_kind", "modifiers", "output_target",
           "parse_kinds", "parse_multipliers", "write_statistics", "parse_aliases", "vectors_stem", "neighbours",
           "strongest_out", "LabelSource", "file_stem", "label_source", "read_label_file", "dataset_rows",
           "summarize", "load_statistics", "sweep_outputs", "ABLATION_MODELS", "AblationResult", "ablation_kinds",
           "ablation_outputs", "parse_ablation_graphs"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labelgraph.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
