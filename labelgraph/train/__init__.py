"""The trainer: ML-GCN and KSSNet (SPEC §5) on labelgraph's graph and embedding files.

This package's ``__init__`` imports no torch, so ``labelgraph.train.metrics``
and ``labelgraph.train.config`` work without it; the modules that build models,
read images and run the loop (``models``, ``data``, ``engine`` …) import torch
and are imported only by the ``train`` and ``evaluate`` commands.

Examples
--------
>>> from labelgraph.train import PRESETS, TrainConfig
>>> TrainConfig.from_preset("mlgcn-coco").lr
0.1
"""
from __future__ import annotations

from .config import PRESETS, Preset, TrainConfig, get_preset

__all__ = ["PRESETS", "Preset", "TrainConfig", "get_preset"]
