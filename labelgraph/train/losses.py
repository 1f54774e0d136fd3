"""Training losses by name (``--loss``): ``bce``, ``asl`` (asymmetric loss, SPEC §5) and ``focal``.

Each loss maps logits (B × C) and 0/1 targets to a scalar, with an optional
per-entry ``weight`` (0 leaves an entry out: ``--difficult ignore``).

Reduction: every loss here is the **mean over labels and over the batch**, the
scale of ML-GCN's ``MultiLabelSoftMarginLoss`` (= BCE with logits, mean), so the
presets' learning rates carry over from one loss to another.  SPEC §5 writes ASL
as a sum over labels: with ``reduction="sum"`` the losses return that sum, then
the mean over the batch (``C`` times the default).  With weights, the weighted
entries are summed and divided by ``B × C`` (or ``B``), as torch's BCE ``weight=``.

Numerics: ``log p`` and ``log(1 − p)`` are ``logsigmoid(±x)``; with a margin
``log(1 − p_m) = log(min(σ(−x) + m, 1))``, which is at least ``log m``.  The
focusing factors are powers of probabilities clamped away from 0 (their value
there is multiplied by a log of 1, or is below 1e-12), so no gradient is NaN.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from . import config as _config

__all__ = ["AsymmetricLoss", "FocalLoss", "BCELoss", "LOSSES", "register_loss", "make_loss", "difficult_targets"]

_TINY = 1e-12
_REDUCTIONS = ("mean", "sum")


def _reduce(loss: torch.Tensor, weight: torch.Tensor | None, reduction: str) -> torch.Tensor:
    if weight is not None:
        loss = loss * weight
    if reduction == "sum":
        return loss.sum(dim=-1).mean()
    return loss.mean()


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ConfigError(f"loss reduction must be one of {', '.join(_REDUCTIONS)} (got {reduction!r})")
    return reduction


class BCELoss(nn.Module):
    """Binary cross-entropy with logits (ML-GCN's multi-label soft margin loss).

    Examples
    --------
    >>> loss = BCELoss()(torch.tensor([[0.0, 2.0]]), torch.tensor([[1.0, 0.0]]))
    >>> round(float(loss), 4)   # (log 2 + log(1 + e^2)) / 2
    1.41
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _check_reduction(reduction)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(logits.float(), targets.float(), reduction="none")
        return _reduce(loss, weight, self.reduction)


class AsymmetricLoss(nn.Module):
    """ASL (Ridnik et al. 2021): ``−[y (1−p)^γ+ log p + (1−y) p_m^γ− log(1 − p_m)]``, ``p_m = max(p − m, 0)``.

    Parameters
    ----------
    gamma_pos, gamma_neg : focusing exponents γ+ and γ− (SPEC defaults 0 and 4)
    margin : probability margin m of the negatives (0.05)
    reduction : ``mean`` (over labels and batch, BCE's scale) or ``sum`` (over labels, mean over batch)

    Examples
    --------
    >>> x, y = torch.tensor([[3.0, -1.0, 0.5]]), torch.tensor([[1.0, 0.0, 0.0]])
    >>> bool(torch.isclose(AsymmetricLoss(0, 0, 0)(x, y), BCELoss()(x, y)))   # γ+ = γ− = m = 0 is BCE
    True
    >>> float(AsymmetricLoss()(torch.tensor([[-5.0]]), torch.tensor([[0.0]])))   # p < m: no loss
    0.0
    """

    def __init__(self, gamma_pos: float = 0.0, gamma_neg: float = 4.0, margin: float = 0.05,
                 reduction: str = "mean") -> None:
        super().__init__()
        if gamma_pos < 0 or gamma_neg < 0 or not 0.0 <= margin < 1.0:
            raise ConfigError(f"ASL needs γ+ >= 0, γ− >= 0 and a margin in [0, 1) (got {gamma_pos}, {gamma_neg}, "
                              f"{margin})")
        self.gamma_pos, self.gamma_neg, self.margin = float(gamma_pos), float(gamma_neg), float(margin)
        self.reduction = _check_reduction(reduction)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        x, y = logits.float(), targets.float()
        log_p = F.logsigmoid(x)
        one_minus_p = torch.sigmoid(-x)
        if self.margin > 0:
            one_minus_pm = (one_minus_p + self.margin).clamp(max=1.0)
            log_one_minus_pm = torch.log(one_minus_pm)
            pm = 1.0 - one_minus_pm
        else:
            log_one_minus_pm = F.logsigmoid(-x)
            pm = torch.sigmoid(x)
        pos = log_p if self.gamma_pos == 0 else one_minus_p.clamp(min=_TINY) ** self.gamma_pos * log_p
        neg = log_one_minus_pm if self.gamma_neg == 0 else pm.clamp(min=_TINY) ** self.gamma_neg * log_one_minus_pm
        return _reduce(-(y * pos + (1.0 - y) * neg), weight, self.reduction)


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017) for multi-label: ``−[α y (1−p)^γ log p + (1−α)(1−y) p^γ log(1−p)]``.

    Without ``alpha`` both terms have weight 1 (so γ = 0 is BCE).

    Examples
    --------
    >>> x, y = torch.tensor([[1.0, -2.0]]), torch.tensor([[1.0, 0.0]])
    >>> bool(torch.isclose(FocalLoss(gamma=0)(x, y), BCELoss()(x, y)))
    True
    >>> bool(FocalLoss(gamma=2)(x, y) < BCELoss()(x, y))   # easy entries weigh less
    True
    """

    def __init__(self, gamma: float = 2.0, alpha: float | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if gamma < 0 or (alpha is not None and not 0.0 <= alpha <= 1.0):
            raise ConfigError(f"focal loss needs γ >= 0 and α in [0, 1] (got γ {gamma}, α {alpha})")
        self.asl = AsymmetricLoss(gamma, gamma, 0.0, reduction)
        self.alpha = alpha

    def forward(self, logits: torch.Tensor, targets: torch.Tensor,
                weight: torch.Tensor | None = None) -> torch.Tensor:
        if self.alpha is not None:
            y = targets.float()
            balance = self.alpha * y + (1.0 - self.alpha) * (1.0 - y)
            weight = balance if weight is None else weight * balance
        return self.asl(logits, targets, weight)


#: Loss factories by name: each takes a :class:`~labelgraph.train.config.TrainConfig`.
LOSSES: dict[str, Callable[..., nn.Module]] = {}


def register_loss(name: str, factory: Callable[..., nn.Module]) -> None:
    """Make ``--loss name`` build ``factory(cfg)`` (``cfg`` a :class:`~labelgraph.train.config.TrainConfig`).

    Examples
    --------
    >>> register_loss("bce-sum", lambda cfg: BCELoss(reduction="sum"))
    >>> from labelgraph.train.config import TrainConfig
    >>> type(make_loss(TrainConfig(loss="bce-sum"))).__name__
    'BCELoss'
    >>> _ = LOSSES.pop("bce-sum"); _config.LOSS_NAMES = tuple(LOSSES)
    """
    LOSSES[name] = factory
    _config.LOSS_NAMES = tuple(LOSSES)


def make_loss(cfg: _config.TrainConfig) -> nn.Module:
    """The loss ``cfg.loss`` with its options (``asl_gamma_pos`` …, ``focal_gamma``, ``focal_alpha``).

    Examples
    --------
    >>> from labelgraph.train.config import TrainConfig
    >>> asl = make_loss(TrainConfig(loss="asl"))
    >>> asl.gamma_pos, asl.gamma_neg, asl.margin
    (0.0, 4.0, 0.05)
    >>> make_loss(TrainConfig(loss="hinge"))
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --loss must be one of bce, asl, focal (got 'hinge')
    """
    try:
        factory = LOSSES[cfg.loss]
    except KeyError:
        raise ConfigError(f"--loss must be one of {', '.join(LOSSES)} (got {cfg.loss!r})") from None
    return factory(cfg)


register_loss("bce", lambda cfg: BCELoss())
register_loss("asl", lambda cfg: AsymmetricLoss(cfg.asl_gamma_pos, cfg.asl_gamma_neg, cfg.asl_margin))
register_loss("focal", lambda cfg: FocalLoss(cfg.focal_gamma, cfg.focal_alpha))


def difficult_targets(targets: torch.Tensor, mask: torch.Tensor | None,
                      mode: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Targets and per-entry loss weights for ``--difficult`` (``mask`` true = a difficult-only entry).

    ``positive`` (ML-GCN's code): difficult entries are positives; ``negative``:
    negatives; ``ignore``: weight 0 (left out of the loss).

    Examples
    --------
    >>> y, m = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[False, True, False]])
    >>> difficult_targets(y, m, "positive")[0].tolist()
    [[1.0, 1.0, 0.0]]
    >>> t, w = difficult_targets(y, m, "ignore")
    >>> t.tolist(), w.tolist()
    ([[1.0, 0.0, 0.0]], [[1.0, 0.0, 1.0]])
    """
    if mode not in _config.DIFFICULT_MODES:
        raise ConfigError(f"--difficult must be one of {', '.join(_config.DIFFICULT_MODES)} (got {mode!r})")
    if mask is None:
        return targets, None
    mask = mask.to(device=targets.device, dtype=torch.bool)
    if mode == "positive":
        return torch.where(mask, torch.ones_like(targets), targets), None
    if mode == "negative":
        return torch.where(mask, torch.zeros_like(targets), targets), None
    return torch.where(mask, torch.zeros_like(targets), targets), (~mask).to(targets.dtype)
