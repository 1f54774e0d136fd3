"""Models by name (``--model``): a small registry in the manner of timm.

Examples
--------
>>> from labelgraph.train.models import MODELS
>>> sorted(MODELS)
['kssnet', 'kssnet3d', 'mlgcn']
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from ...errors import ConfigError
from .backbones import FeatureBackbone, backbone_names, build_backbone
from .gcn import GCN, GraphConvolution
from .kssnet import KSSNet, LateralConnection
from .kssnet3d import KSSNet3D
from .mlgcn import MLGCN

__all__ = ["MODELS", "ModelSpec", "register_model", "build_model", "backbone_names", "build_backbone",
           "FeatureBackbone", "GCN", "GraphConvolution", "KSSNet", "KSSNet3D", "LateralConnection", "MLGCN"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: its class and one line of description."""

    name: str
    cls: Callable[..., nn.Module]
    summary: str


MODELS: dict[str, ModelSpec] = {}


def register_model(name: str, cls: Callable[..., nn.Module], summary: str) -> ModelSpec:
    """Add an architecture to :data:`MODELS`."""
    MODELS[name] = spec = ModelSpec(name, cls, summary)
    return spec


register_model("mlgcn", MLGCN, "ML-GCN: 2-layer GCN classifier over a CNN's max-pooled feature (CVPR 2019)")
register_model("kssnet", KSSNet, "KSSNet: 4-layer GCN with lateral connections into res2-res4 (AAAI 2020)")
register_model("kssnet3d", KSSNet3D, "KSSNet-3D: KSSNet on a torchvision video ResNet (Charades)")


def build_model(name: str, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor,
                **options: Any) -> nn.Module:
    """Build architecture ``name`` around ``backbone``; options go to its constructor.

    Examples
    --------
    >>> m = build_model("mlgcn", FeatureBackbone(4), torch.eye(2), torch.zeros(2, 3), hidden=8)
    >>> type(m).__name__
    'MLGCN'
    """
    try:
        spec = MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r} (models: {', '.join(MODELS)})") from None
    return spec.cls(backbone, adjacency, embeddings, **{k: v for k, v in options.items() if v is not None})
