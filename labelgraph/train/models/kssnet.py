"""KSSNet (Wang et al., AAAI 2020; SPEC §5): a 4-layer GCN whose hidden label embeddings
enter the backbone through lateral connections after res2, res3 and res4.

GCN widths follow the backbone's stage widths (256/512/1024/2048 for ResNet-101),
so layer l's embeddings ``E⁽ˡ⁾`` (C × channels of stage l) can meet that stage's
feature map; the 4th layer's output is the classifier of the pooled res5 feature.
The GCN and the logits run in fp32 under autocast; the lateral connections take the
backbone's dtype.
"""
from __future__ import annotations

import torch
from torch import nn

from .gcn import GCN, full_precision
from .mlgcn import global_pool

__all__ = ["LateralConnection", "KSSNet"]


class LateralConnection(nn.Module):
    """``y = g(reshape(reshape(x) · tanh(E)ᵀ)) + x`` (KSSNet Eq. 7).

    ``x`` (B × C × [T ×] H × W) as B × THW × C, times ``tanh(E)ᵀ`` (C × N) gives
    B × THW × N, reshaped to B × N × [T ×] H × W; ``g`` is a 1×1 (1×1×1) convolution
    N → C, added to ``x``.

    Examples
    --------
    >>> lc = LateralConnection(channels=4, num_labels=3)
    >>> lc(torch.randn(2, 4, 5, 5), torch.randn(3, 4)).shape
    torch.Size([2, 4, 5, 5])
    """

    def __init__(self, channels: int, num_labels: int, spatial_dims: int = 2) -> None:
        super().__init__()
        conv = nn.Conv3d if spatial_dims == 3 else nn.Conv2d
        self.g = conv(num_labels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        flat = x.flatten(2).transpose(1, 2)                              # B × HW × C
        corr = flat @ torch.tanh(embeddings).to(x.dtype).t()              # B × HW × N
        corr = corr.transpose(1, 2).reshape(b, -1, *x.shape[2:])          # B × N × H × W
        return self.g(corr) + x


class KSSNet(nn.Module):
    """KSSNet for images (2-D backbones); :class:`~.kssnet3d.KSSNet3D` is the video form.

    Parameters
    ----------
    backbone : a :class:`~labelgraph.train.models.backbones.Backbone` (four stages)
    adjacency : (C, C) tensor, ``Â_KS`` as saved in the graph file
    embeddings : (C, d) tensor
    pool : ``max`` (ML-GCN's GMP, default) or ``avg``
    dropout : dropout on the pooled feature

    Examples
    --------
    >>> from labelgraph.train.models.backbones import build_backbone
    >>> m = KSSNet(build_backbone("resnet18"), torch.eye(3), torch.randn(3, 7))
    >>> m(torch.randn(1, 3, 64, 64)).shape
    torch.Size([1, 3])
    """

    def __init__(self, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor, *,
                 pool: str = "max", dropout: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.pool = pool
        self.register_buffer("adjacency", adjacency.float().clone())
        self.register_buffer("embeddings", embeddings.float().clone())
        num_labels = adjacency.shape[0]
        self.gcn = GCN(embeddings.shape[1], list(backbone.channels))
        self.laterals = nn.ModuleList(
            LateralConnection(ch, num_labels, backbone.spatial_dims) for ch in backbone.channels[:3])
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def head_modules(self) -> list[nn.Module]:
        """The modules trained at the head's learning rate."""
        return [self.gcn, self.laterals]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with full_precision(x):
            hidden = self.gcn(self.embeddings, self.adjacency)
        x = self.backbone.stem(x)
        for i, stage in enumerate(self.backbone.stages):
            x = stage(x)
            if i < len(self.laterals):
                x = self.laterals[i](x, hidden[i])
        pooled = global_pool(x, self.pool)
        with full_precision(pooled):
            return self.dropout(pooled.float()) @ hidden[-1].t()
