"""Models by name (``--model``): the architectures of :mod:`labelgraph.train.registry`, built here.

Examples
--------
>>> from labelgraph.train.models import MODELS
>>> sorted(MODELS)
['kssnet', 'kssnet3d', 'learned', 'linear', 'mlgcn']
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..registry import MODELS, ModelSpec, get_model, model_class, register_model
from .backbones import FeatureBackbone, backbone_names, build_backbone
from .gcn import GCN, GraphConvolution
from .kssnet import KSSNet, LateralConnection
from .kssnet3d import KSSNet3D
from .learned import LearnedAdjacency, LearnedGraphMLGCN
from .linear import LinearHead
from .mlgcn import MLGCN

__all__ = ["MODELS", "ModelSpec", "register_model", "get_model", "build_model", "backbone_names", "build_backbone",
           "FeatureBackbone", "GCN", "GraphConvolution", "KSSNet", "KSSNet3D", "LateralConnection", "MLGCN",
           "LearnedAdjacency", "LearnedGraphMLGCN", "LinearHead"]


def build_model(name: str, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor,
                **options: Any) -> nn.Module:
    """Build architecture ``name`` around ``backbone``; options go to its constructor.

    Examples
    --------
    >>> m = build_model("mlgcn", FeatureBackbone(4), torch.eye(2), torch.zeros(2, 3), hidden=8)
    >>> type(m).__name__
    'MLGCN'
    """
    return model_class(name)(backbone, adjacency, embeddings, **{k: v for k, v in options.items() if v is not None})
