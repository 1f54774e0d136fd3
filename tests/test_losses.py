"""The training losses against their formulas computed here in float64 numpy, and the --difficult treatments."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from labelgraph.errors import ConfigError  # noqa: E402
from labelgraph.train.config import TrainConfig  # noqa: E402
from labelgraph.train.losses import (AsymmetricLoss, BCELoss, FocalLoss, difficult_targets,  # noqa: E402
                                     make_loss)


def asl_numpy(x: np.ndarray, y: np.ndarray, gp: float, gn: float, m: float, reduction: str = "mean",
              weight: np.ndarray | None = None) -> float:
    """SPEC §5: L = −Σ_j [y (1−p)^γ+ log p + (1−y) p_m^γ− log(1 − p_m)], p_m = max(p − m, 0)."""
    p = 1.0 / (1.0 + np.exp(-x))
    pm = np.maximum(p - m, 0.0)
    entry = -(y * (1 - p) ** gp * np.log(p) + (1 - y) * pm ** gn * np.log(1 - pm))
    if weight is not None:
        entry = entry * weight
    return float(entry.sum(axis=1).mean() if reduction == "sum" else entry.mean())


def bce_numpy(x: np.ndarray, y: np.ndarray) -> float:
    p = 1.0 / (1.0 + np.exp(-x))
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def _random(seed: int, b: int = 16, c: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 3, (b, c)), (rng.random((b, c)) < 0.3).astype(np.float64)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a).float()


@pytest.mark.parametrize("gp, gn, m", [(0.0, 4.0, 0.05), (1.0, 4.0, 0.05), (0.0, 2.0, 0.2), (2.0, 0.5, 0.0),
                                       (0.5, 1.0, 0.1)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_asl_equals_its_formula_on_random_inputs(gp: float, gn: float, m: float, reduction: str) -> None:
    for seed in range(3):
        x, y = _random(seed)
        got = float(AsymmetricLoss(gp, gn, m, reduction=reduction)(_t(x), _t(y)))
        assert got == pytest.approx(asl_numpy(x, y, gp, gn, m, reduction), rel=1e-5)


def test_sum_reduction_is_c_times_the_mean() -> None:
    x, y = _random(7, c=13)
    mean = float(AsymmetricLoss(reduction="mean")(_t(x), _t(y)))
    total = float(AsymmetricLoss(reduction="sum")(_t(x), _t(y)))
    assert total == pytest.approx(13 * mean, rel=1e-5)


def test_asl_with_zero_focusing_and_margin_is_bce() -> None:
    x, y = _random(3)
    asl = float(AsymmetricLoss(0.0, 0.0, 0.0)(_t(x), _t(y)))
    assert asl == pytest.approx(bce_numpy(x, y), rel=1e-5)
    assert asl == pytest.approx(float(torch.nn.MultiLabelSoftMarginLoss()(_t(x), _t(y))), rel=1e-5)


def test_focal_at_gamma_zero_is_bce_and_with_alpha_its_formula() -> None:
    x, y = _random(4)
    assert float(FocalLoss(gamma=0.0)(_t(x), _t(y))) == pytest.approx(bce_numpy(x, y), rel=1e-5)
    p = 1.0 / (1.0 + np.exp(-x))
    alpha, gamma = 0.25, 2.0
    ref = np.mean(-(alpha * y * (1 - p) ** gamma * np.log(p) + (1 - alpha) * (1 - y) * p ** gamma * np.log(1 - p)))
    assert float(FocalLoss(gamma, alpha)(_t(x), _t(y))) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("loss", [AsymmetricLoss(), AsymmetricLoss(0.5, 0.5, 0.0), AsymmetricLoss(1.0, 4.0, 0.3),
                                  FocalLoss(0.5), BCELoss()])
def test_extreme_logits_give_finite_loss_and_gradients(loss: torch.nn.Module) -> None:
    x = torch.tensor([[-200.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 200.0]] * 2, requires_grad=True)
    y = torch.tensor([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]])
    value = loss(x, y)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(x.grad).all()


def test_asl_under_the_margin_gives_no_negative_loss() -> None:
    # p = σ(-4) ≈ 0.018 < m = 0.05: the shifted probability is 0, so an easy negative adds nothing
    assert float(AsymmetricLoss(0.0, 4.0, 0.05)(torch.tensor([[-4.0]]), torch.tensor([[0.0]]))) == 0.0


def test_difficult_treatments_change_targets_and_weights_before_the_loss() -> None:
    x, y = _random(5)
    rng = np.random.default_rng(9)
    mask = (rng.random(y.shape) < 0.1) & (y == 0)   # difficult-only entries are 0 in the label matrix
    gp, gn, m = 0.0, 4.0, 0.05
    loss = AsymmetricLoss(gp, gn, m)
    mt = torch.from_numpy(mask)
    for mode, ref_targets, ref_weight in (("positive", np.where(mask, 1.0, y), None),
                                          ("negative", np.where(mask, 0.0, y), None),
                                          ("ignore", y, (~mask).astype(np.float64))):
        targets, weight = difficult_targets(_t(y), mt, mode)
        got = float(loss(_t(x), targets, weight))
        assert got == pytest.approx(asl_numpy(x, ref_targets, gp, gn, m, weight=ref_weight), rel=1e-5), mode
    # "ignore": the left-out entries do not matter at all
    t1, w1 = difficult_targets(_t(y), mt, "ignore")
    x2 = np.where(mask, 50.0, x)
    assert float(loss(_t(x2), t1, w1)) == pytest.approx(float(loss(_t(x), t1, w1)), rel=1e-6)
    # no mask: targets untouched
    t0, w0 = difficult_targets(_t(y), None, "positive")
    assert w0 is None and torch.equal(t0, _t(y))


def test_make_loss_by_name_and_bad_names() -> None:
    asl = make_loss(TrainConfig(loss="asl", asl_gamma_pos=1.0, asl_gamma_neg=3.0, asl_margin=0.1))
    assert (asl.gamma_pos, asl.gamma_neg, asl.margin) == (1.0, 3.0, 0.1)
    focal = make_loss(TrainConfig(loss="focal", focal_gamma=1.5, focal_alpha=0.25))
    assert focal.alpha == 0.25 and focal.asl.gamma_pos == 1.5
    with pytest.raises(ConfigError, match="--loss must be one of bce, asl, focal"):
        TrainConfig(loss="hinge").validate()
    with pytest.raises(ConfigError, match="--difficult must be one of positive, negative, ignore"):
        TrainConfig(difficult="maybe").validate()
    with pytest.raises(ConfigError, match="margin"):
        TrainConfig(asl_margin=1.5).validate()
