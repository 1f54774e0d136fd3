"""Backbones by name: any torchvision ResNet, the torchvision video ResNets, ``features``, and
``timm:<model>`` (:mod:`.timm_backbone`, with the ``timm`` extra).

A backbone is split into its stem and four stages (res2 … res5), so KSSNet can
put a lateral connection after each stage.  ``channels`` are the stages' output
widths (256/512/1024/2048 for ResNet-50/101; 64/128/256/512 for ResNet-18/34
and the video ResNets).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ...errors import ConfigError, missing_dependency

__all__ = ["Backbone", "FeatureBackbone", "VIDEO_BACKBONES", "backbone_names", "build_backbone"]

VIDEO_BACKBONES: tuple[str, ...] = ("r3d_18", "r2plus1d_18", "mc3_18")


def backbone_names() -> list[str]:
    """The names ``--backbone`` accepts.

    Examples
    --------
    >>> {"resnet18", "resnet101", "r3d_18", "features"} <= set(backbone_names())
    True
    """
    import torchvision

    image = [n for n in torchvision.models.list_models(module=torchvision.models)
             if n.startswith(("resnet", "resnext", "wide_resnet"))]
    return sorted(image) + list(VIDEO_BACKBONES) + ["features"]


def _stage_width(stage: nn.Module) -> int:
    norms = [m for m in stage.modules() if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d))]
    return int(norms[-1].num_features)


class Backbone(nn.Module):
    """A torchvision ResNet without pooling and classifier: ``stem`` then ``stages[0..3]``.

    Attributes
    ----------
    channels : output channels of res2 … res5
    spatial_dims : 2 for images (B×3×H×W), 3 for video (B×3×T×H×W)
    """

    def __init__(self, name: str, stem: nn.Module, stages: Sequence[nn.Module], spatial_dims: int) -> None:
        super().__init__()
        self.name = name
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        self.spatial_dims = spatial_dims
        self.channels: tuple[int, ...] = tuple(_stage_width(s) for s in stages)

    @property
    def feature_dim(self) -> int:
        return self.channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x


class FeatureBackbone(nn.Module):
    """Precomputed feature vectors as input: optional standardization, nothing learned.

    ``mean`` and ``std`` (from the training set) are buffers, so a checkpoint carries them.

    Examples
    --------
    >>> fb = FeatureBackbone(2, mean=torch.tensor([1.0, 0.0]), std=torch.tensor([2.0, 1.0]))
    >>> fb(torch.tensor([[3.0, 1.0]])).tolist()
    [[1.0, 1.0]]
    """

    spatial_dims = 0

    def __init__(self, dim: int, mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> None:
        super().__init__()
        self.name = "features"
        self.channels: tuple[int, ...] = (int(dim),)
        self.register_buffer("mean", torch.zeros(dim) if mean is None else mean.float().clone())
        self.register_buffer("std", torch.ones(dim) if std is None else std.float().clamp_min(1e-6).clone())

    @property
    def feature_dim(self) -> int:
        return self.channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def build_backbone(name: str, *, pretrained: bool = False, feature_dim: int | None = None,
                   weights: str | None = None) -> nn.Module:
    """Build backbone ``name``; ``pretrained`` loads torchvision's default weights from the torch cache
    (``timm:<model>``: timm's from the local Hugging Face cache).

    ``weights`` (``--weights``: ``IMAGENET1K_V1``, ``DEFAULT``, ``none``, a state_dict
    file; see :mod:`labelgraph.train.weights`) replaces ``pretrained`` when given; a timm
    backbone takes only ``DEFAULT`` (its pretrained weights) or ``none``.

    Examples
    --------
    >>> build_backbone("resnet18").channels
    (64, 128, 256, 512)
    >>> build_backbone("features", feature_dim=294).feature_dim
    294
    """
    import torchvision

    if name.startswith("timm:"):
        try:
            from .timm_backbone import build_timm_backbone
        except ModuleNotFoundError as exc:
            if exc.name != "timm":
                raise
            raise missing_dependency("timm", "timm") from None
        if weights is not None:
            if weights.lower() not in ("default", "none"):
                raise ConfigError(f"--weights {weights}: a timm backbone takes DEFAULT (timm's pretrained weights, "
                                  "from the local cache) or none")
            pretrained = weights.lower() == "default"
        return build_timm_backbone(name, pretrained=pretrained)
    if name == "features":
        if not feature_dim:
            raise ConfigError("the 'features' backbone needs the feature dimension of the data")
        return FeatureBackbone(feature_dim)
    if name not in backbone_names():
        raise ConfigError(f"unknown backbone {name!r} (known: resnet18 … resnet152, resnext*, wide_resnet*, "
                          f"{', '.join(VIDEO_BACKBONES)}, features, timm:<model>)")
    net = torchvision.models.get_model(name, weights=None)
    if weights is None:
        weights = "DEFAULT" if pretrained else "none"
    from ..weights import load_initial_weights

    load_initial_weights(net, name, weights)
    if name in VIDEO_BACKBONES:
        return Backbone(name, net.stem, [net.layer1, net.layer2, net.layer3, net.layer4], 3)
    stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
    return Backbone(name, stem, [net.layer1, net.layer2, net.layer3, net.layer4], 2)
