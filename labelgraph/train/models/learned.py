"""ML-GCN with a learned graph (ADD-GCN's static graph, Ye et al., ECCV 2020).

The C × C matrix the GCN propagates over is a trainable parameter, initialised from
the given graph file's matrix ``Â`` (already normalized, SPEC §2).  It is used as it
is in every forward, not normalized again: ADD-GCN's static graph is a free
1 × 1 convolution over the label nodes, and re-normalizing would let the
optimizer change only the pattern, not the scale, of the propagation.  It trains
at the head's learning rate with the head's weight decay.
"""
from __future__ import annotations

import torch
from torch import nn

from .mlgcn import MLGCN

__all__ = ["LearnedGraphMLGCN", "LearnedAdjacency"]


class LearnedAdjacency(nn.Module):
    """A trainable C × C matrix, ``weight``, initialised from ``initial``.

    Examples
    --------
    >>> LearnedAdjacency(torch.eye(2))().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """

    def __init__(self, initial: torch.Tensor) -> None:
        super().__init__()
        self.weight = nn.Parameter(initial.detach().float().clone())

    def forward(self) -> torch.Tensor:
        return self.weight


class LearnedGraphMLGCN(MLGCN):
    """ML-GCN whose adjacency is learned, starting from the given graph.

    The ``adjacency`` buffer keeps the initial graph (the file's matrix); the GCN uses
    ``graph.weight``.  Other parameters as :class:`~labelgraph.train.models.mlgcn.MLGCN`.

    Examples
    --------
    >>> from labelgraph.train.models.backbones import FeatureBackbone
    >>> m = LearnedGraphMLGCN(FeatureBackbone(8), torch.eye(3), torch.randn(3, 5), hidden=4)
    >>> m(torch.randn(2, 8)).sum().backward()
    >>> m.graph.weight.grad.shape, m.graph.weight.grad.abs().sum().item() > 0
    (torch.Size([3, 3]), True)
    """

    def __init__(self, backbone: nn.Module, adjacency: torch.Tensor, embeddings: torch.Tensor, *,
                 hidden: int = 1024, pool: str = "max", dropout: float = 0.0) -> None:
        super().__init__(backbone, adjacency, embeddings, hidden=hidden, pool=pool, dropout=dropout)
        self.graph = LearnedAdjacency(adjacency)

    def head_modules(self) -> list[nn.Module]:
        """The modules trained at the head's learning rate: the GCN and the graph."""
        return [self.gcn, self.graph]

    def label_classifier(self) -> torch.Tensor:
        """``W = GCN(E, A)`` over the learned ``A``, C × D."""
        return self.gcn(self.embeddings, self.graph())[-1]
