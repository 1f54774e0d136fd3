"""The graph convolution of ML-GCN and KSSNet: ``H' = Â · H · W`` (Kipf & Welling, no renormalization here).

``Â`` is the graph file's matrix as saved (already normalized, SPEC §2); it is a
fixed buffer of the model, never trained.  Under ``--amp`` the models compute the
GCN and the logits inside :func:`full_precision`, so the label classifiers and the
scores stay fp32 (bf16's 8-bit mantissa would round nearby scores into ties).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

__all__ = ["GraphConvolution", "GCN", "full_precision"]


def full_precision(like: torch.Tensor) -> torch.autocast:
    """A context with autocast off on ``like``'s device: what runs inside it computes in fp32
    (given fp32 inputs), whatever ``--amp`` is.

    Examples
    --------
    >>> a = torch.randn(4, 4)
    >>> with torch.autocast("cpu", dtype=torch.bfloat16):
    ...     with full_precision(a):
    ...         inside = (a @ a).dtype
    ...     outside = (a @ a).dtype
    >>> inside, outside
    (torch.float32, torch.bfloat16)
    """
    return torch.autocast(like.device.type, enabled=False)


class GraphConvolution(nn.Module):
    """One layer ``Â · H · W`` (+ bias), ``W`` of shape ``in × out``.

    Initialized as ML-GCN's reference code: uniform in ``±1/sqrt(out)``.

    Examples
    --------
    >>> layer = GraphConvolution(3, 2)
    >>> layer(torch.ones(4, 3), torch.eye(4)).shape
    torch.Size([4, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = False) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.out_features)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, h: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        out = adjacency @ (h @ self.weight)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"{self.in_features} -> {self.out_features}, bias={self.bias is not None}"


class GCN(nn.Module):
    """Stacked graph convolutions with LeakyReLU(0.2) between them (none after the last).

    ``forward`` returns every layer's output ``[E⁽¹⁾, …, E⁽ᴸ⁾]``; KSSNet's lateral
    connections use the hidden ones, the last is the label classifier.

    Examples
    --------
    >>> gcn = GCN(300, [1024, 2048])
    >>> [e.shape[1] for e in gcn(torch.zeros(5, 300), torch.eye(5))]
    [1024, 2048]
    """

    def __init__(self, in_features: int, dims: Sequence[int], negative_slope: float = 0.2) -> None:
        super().__init__()
        sizes = [in_features, *dims]
        self.layers = nn.ModuleList(GraphConvolution(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = nn.LeakyReLU(negative_slope)

    def forward(self, h: torch.Tensor, adjacency: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for i, layer in enumerate(self.layers):
            h = layer(h, adjacency)
            if i < len(self.layers) - 1:
                h = self.act(h)
            outputs.append(h)
        return outputs
