"""KSSNet-3D for video (Charades): KSSNet with 3-D lateral connections (``g`` a 1×1×1 convolution)
on a torchvision video ResNet (``r3d_18``, ``r2plus1d_18``, ``mc3_18``).

As in the paper's Charades set-up, the res5 feature is average-pooled and
followed by dropout 0.5 by default.
"""
from __future__ import annotations

import torch
from torch import nn

from ...errors import ConfigError
from .kssnet import KSSNet

__all__ = ["KSSNet3D"]


class KSSNet3D(KSSNet):
    """KSSNet on clips B × 3 × T × H × W.

    Examples
    --------
    >>> from labelgraph.train.models.backbones import build_backbone
    >>> m = KSSNet3D(build_backbone("r3d_18"), torch.eye(3), torch.randn(3, 7))
    >>> m.eval()(torch.randn(1, 3, 4, 32, 32)).shape
    torch.Size([1, 3])
    """

    def __init__(self, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor, *,
                 pool: str = "avg", dropout: float = 0.5) -> None:
        if getattr(backbone, "spatial_dims", None) != 3:
            raise ConfigError(f"KSSNet3D needs a video backbone, got {getattr(backbone, 'name', backbone)!r}")
        super().__init__(backbone, adjacency, embeddings, pool=pool, dropout=dropout)
