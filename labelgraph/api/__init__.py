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

from .ablate import ABLATION_MODELS, AblationResult, ablation_kinds, ablation_outputs, parse_ablation_graphs
from .build import (DEFAULT_KINDS, BuildResult, Source, build_outputs, file_kind, modifiers, output_target,
                    parse_kinds, parse_multipliers, write_statistics)
from .embed import parse_aliases, vectors_stem
from .inspect import neighbours, strongest_out
from .labels import LabelSource, file_stem, label_source, read_label_file
from .show import dataset_rows, summarize
from .sweep import load_statistics, sweep_outputs

__all__ = ["DEFAULT_KINDS", "BuildResult", "Source", "build_outputs", "file_kind", "modifiers", "output_target",
           "parse_kinds", "parse_multipliers", "write_statistics", "parse_aliases", "vectors_stem", "neighbours",
           "strongest_out", "LabelSource", "file_stem", "label_source", "read_label_file", "dataset_rows",
           "summarize", "load_statistics", "sweep_outputs", "ABLATION_MODELS", "AblationResult", "ablation_kinds",
           "ablation_outputs", "parse_ablation_graphs"]
