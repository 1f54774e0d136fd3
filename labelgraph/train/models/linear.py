"""The no-GCN baseline (ML-GCN's "GMP" row): a linear classifier on the pooled backbone feature.

``logits = W · GMP(backbone(x)) + b`` with ``W`` of shape C × D, the standard
torchvision classifier head; no graph and no label embeddings take part.
"""
from __future__ import annotations

import torch
from torch import nn

from .mlgcn import global_pool

__all__ = ["LinearHead"]


class LinearHead(nn.Module):
    """A linear head on the pooled feature (the baseline every graph is compared with).

    Built like every registered model, ``(backbone, adjacency, embeddings, **options)``; the graph
    and embeddings only give the label count C.  They are kept as buffers so a checkpoint records
    the inputs of its run and loads through the same code as the GCN models; the forward never
    reads them.

    Parameters
    ----------
    backbone : an image/video backbone or ``FeatureBackbone``
    adjacency : (C, C) tensor (unused by the forward)
    embeddings : (C, d) tensor (unused by the forward)
    pool : ``max`` (GMP, as ML-GCN's baseline) or ``avg``
    dropout : dropout on the pooled feature
    bias : a bias per label (torchvision's classifier has one)

    Examples
    --------
    >>> from labelgraph.train.models.backbones import FeatureBackbone
    >>> m = LinearHead(FeatureBackbone(8), torch.eye(3), torch.zeros(3, 5))
    >>> m(torch.randn(2, 8)).shape, tuple(m.fc.weight.shape)
    (torch.Size([2, 3]), (3, 8))
    """

    def __init__(self, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor, *,
                 pool: str = "max", dropout: float = 0.0, bias: bool = True) -> None:
        super().__init__()
        self.backbone = backbone
        self.pool = pool
        self.register_buffer("adjacency", adjacency.float().clone())
        self.register_buffer("embeddings", embeddings.float().clone())
        self.fc = nn.Linear(backbone.feature_dim, adjacency.shape[0], bias=bias)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def head_modules(self) -> list[nn.Module]:
        """The modules trained at the head's learning rate."""
        return [self.fc]

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled feature, B × D (what the frozen-backbone cache stores)."""
        return global_pool(self.backbone(x), self.pool)

    def classify(self, feature: torch.Tensor) -> torch.Tensor:
        """Logits from pooled features."""
        return self.fc(self.dropout(feature))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.extract(x))
