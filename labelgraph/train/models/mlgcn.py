"""ML-GCN (Chen et al., CVPR 2019; SPEC §5): a CNN image feature times GCN-made label classifiers.

``feature = GMP(backbone(x))`` (B × D); ``W = GCN(E, Â)`` (C × D, two layers
d → 1024 → D with LeakyReLU 0.2); ``logits = feature · Wᵀ``.  ``W`` and the
logits are fp32 under autocast (the backbone runs in the autocast dtype).
"""
from __future__ import annotations

import torch
from torch import nn

from .gcn import GCN, full_precision

__all__ = ["MLGCN", "global_pool"]


def global_pool(x: torch.Tensor, mode: str) -> torch.Tensor:
    """Global max or average pooling over every axis after the channels (B × C × … → B × C).

    Examples
    --------
    >>> global_pool(torch.arange(8.).reshape(1, 2, 2, 2), "max").tolist()
    [[3.0, 7.0]]
    """
    if x.dim() == 2:
        return x
    flat = x.flatten(2)
    return flat.amax(dim=2) if mode == "max" else flat.mean(dim=2)


class MLGCN(nn.Module):
    """ML-GCN.

    Parameters
    ----------
    backbone : a :class:`~labelgraph.train.models.backbones.Backbone` or ``FeatureBackbone``
    adjacency : (C, C) tensor, the graph file's matrix (a fixed buffer)
    embeddings : (C, d) tensor, the GCN's input ``E⁽⁰⁾`` (a fixed buffer)
    hidden : width of the hidden GCN layer (1024 in the paper)
    pool : ``max`` (the paper's GMP) or ``avg``
    dropout : dropout on the pooled feature

    Examples
    --------
    >>> from labelgraph.train.models.backbones import FeatureBackbone
    >>> m = MLGCN(FeatureBackbone(8), torch.eye(3), torch.randn(3, 5), hidden=4)
    >>> m(torch.randn(2, 8)).shape
    torch.Size([2, 3])
    """

    def __init__(self, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor, *,
                 hidden: int = 1024, pool: str = "max", dropout: float = 0.0) -> None:
        super().__init__()
        self.backbone = backbone
        self.pool = pool
        self.register_buffer("adjacency", adjacency.float().clone())
        self.register_buffer("embeddings", embeddings.float().clone())
        self.gcn = GCN(embeddings.shape[1], [hidden, backbone.feature_dim])
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def head_modules(self) -> list[nn.Module]:
        """The modules trained at the head's learning rate."""
        return [self.gcn]

    def label_classifier(self) -> torch.Tensor:
        """``W = GCN(E, Â)``, C × D, in fp32 (autocast off)."""
        with full_precision(self.embeddings):
            return self.gcn(self.embeddings, self.adjacency)[-1]

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled image feature, B × D (what the frozen-backbone cache stores)."""
        return global_pool(self.backbone(x), self.pool)

    def classify(self, feature: torch.Tensor) -> torch.Tensor:
        """Logits from pooled features: ``feature · Wᵀ``, in fp32 (autocast off)."""
        with full_precision(feature):
            weight = self.label_classifier()
            return self.dropout(feature.float()) @ weight.t()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.extract(x))
