"""Multi-label metrics as ML-GCN reports them (SPEC §5), vectorized in numpy; no torch.

``scores`` and ``targets`` are N × C arrays (samples × labels); targets are 0/1.
Average precision follows :func:`sklearn.metrics.average_precision_score`
exactly, ties included: samples with equal scores enter the precision–recall
curve together, at the precision reached after the whole tie group.

Threshold metrics (ML-GCN's ``evaluation``): a label is predicted when its
score is ≥ ``threshold`` (0.5 after a sigmoid; ``logits=True`` compares raw
logits with the equivalent ``log(t / (1 - t))``).  For the top-k versions a
label is predicted when it is among the sample's ``k`` highest scores *and*
passes the threshold (ML-GCN's ``overall_topk``); ties in the ranking go to the
lower label index.

* ``CP`` = mean over labels of ``Nc / Np`` (``Np = 0`` counts as precision 0,
  as in ML-GCN), ``CR`` = mean of ``Nc / Ng``, ``CF1 = 2·CP·CR / (CP + CR)``
  (from the averages, as ML-GCN computes it).
* ``OP = ΣNc / ΣNp``, ``OR = ΣNc / ΣNg``, ``OF1 = 2·OP·OR / (OP + OR)``.
* Labels with no positive sample (``Ng = 0``) have no AP and no recall: they
  are left out of mAP, CP and CR with a :class:`MetricWarning` that names them
  (ML-GCN's code would produce NaN).  They still count in the overall metrics.

The metric functions take an optional ``mask`` (N × C, true = leave this (sample,
label) entry out): VOC's "difficult only" marks.  A masked entry is neither a
positive nor a negative for AP, and counts in none of ``Nc``, ``Np``, ``Ng``;
the top-k ranking still sees every label's score (the model does not know the
mask), masked entries are then not counted.
"""
from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np

from ..errors import DataError

__all__ = [
    "MetricWarning",
    "METRIC_NAMES",
    "average_precision",
    "mean_average_precision",
    "threshold_metrics",
    "multilabel_metrics",
    "format_metrics_table",
]

#: The keys of :func:`multilabel_metrics`, in the papers' table order.
METRIC_NAMES: tuple[str, ...] = (
    "mAP", "CP", "CR", "CF1", "OP", "OR", "OF1", "CP@3", "CR@3", "CF1@3", "OP@3", "OR@3", "OF1@3",
)


class MetricWarning(UserWarning):
    """A metric is undefined for some labels (no positive sample); they are left out."""


def _check_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise DataError(f"mask {mask.shape} must have the scores' shape {shape}")
    return mask.astype(bool, copy=False)


def _masked(scores: np.ndarray, targets: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and targets for AP with masked entries made inert: a score of -inf is below every
    positive's, so it adds to no ``# samples scoring >= s``, and its target is 0."""
    if mask is None or not mask.any():
        return scores, targets
    return np.where(mask, -np.inf, scores).astype(scores.dtype, copy=False), targets & ~mask


def _check(scores: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores)
    if scores.dtype not in (np.float32, np.float64):   # float32 logits are compared exactly as given
        scores = scores.astype(np.float64)
    targets = np.asarray(targets)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise DataError(f"scores {scores.shape} and targets {targets.shape} must be the same N x C shape")
    if not np.all(np.isfinite(scores)):
        raise DataError("scores contain NaN or infinity")
    if targets.dtype != bool and targets.size:
        if targets.dtype.kind in "iu":
            ok = targets.min() >= 0 and targets.max() <= 1
        else:
            ok = bool(np.all((targets == 0) | (targets == 1)))
        if not ok:
            raise DataError("targets must be 0/1")
    return scores, targets.astype(bool, copy=False)


def _warn_empty(empty: np.ndarray, labels: Sequence[str] | None, what: str) -> None:
    if not empty.any():
        return
    idx = np.flatnonzero(empty)
    names = [labels[i] for i in idx] if labels is not None else [str(i) for i in idx]
    shown = ", ".join(names[:10]) + (" …" if len(names) > 10 else "")
    warnings.warn(f"{len(idx)} label(s) with no positive sample left out of {what}: {shown}",
                  MetricWarning, stacklevel=3)


def average_precision(scores: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-label average precision, equal to sklearn's ``average_precision_score`` per column.

    Parameters
    ----------
    scores : (N, C) array of float
        Any monotone score (logits or probabilities).
    targets : (N, C) array of 0/1
    mask : (N, C) array of bool, optional
        Entries to leave out (VOC's difficult marks): AP of each column is
        computed on its unmasked rows only.

    Returns
    -------
    ndarray of float64, shape (C,)
        AP of each label; NaN where the label has no positive sample.

    Examples
    --------
    >>> s = np.array([[0.9], [0.8], [0.7], [0.1]])
    >>> t = np.array([[1], [0], [1], [0]])
    >>> round(float(average_precision(s, t)[0]), 4)  # (1/1 + 2/3) / 2
    0.8333
    >>> float(average_precision(np.array([[0.5], [0.5]]), np.array([[1], [0]]))[0])  # a tie
    0.5
    >>> float(average_precision(s, t, mask=np.array([[0], [1], [0], [0]]))[0])  # without the 0.8
    1.0
    """
    scores, targets = _check(scores, targets)
    return _average_precision(*_masked(scores, targets, _check_mask(mask, scores.shape)))


def _average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    n, c = scores.shape
    ap = np.full(c, np.nan)
    if n == 0:
        return ap
    # sklearn's AP: each positive contributes the precision at the end of its tie group,
    # (# positives scoring >= s) / (# samples scoring >= s); both counts come from sorted arrays.
    columns = np.ascontiguousarray(scores.T)
    positive = np.ascontiguousarray(targets.T)
    ordered = np.sort(columns, axis=1)
    for j in range(c):  # a loop over labels; every sample-level step is vectorized
        pos = columns[j][positive[j]]
        if pos.size == 0:
            continue
        pos.sort()
        at_or_above = n - np.searchsorted(ordered[j], pos, side="left")
        pos_at_or_above = pos.size - np.searchsorted(pos, pos, side="left")
        ap[j] = float(np.mean(pos_at_or_above / at_or_above))
    return ap


def mean_average_precision(scores: np.ndarray, targets: np.ndarray,
                           labels: Sequence[str] | None = None, mask: np.ndarray | None = None) -> float:
    """mAP over the labels that have at least one positive (the others are named in a warning).

    ``mask`` (N × C bool) leaves entries out, as in :func:`average_precision`.

    Examples
    --------
    >>> s = np.array([[0.9, 0.2], [0.1, 0.8]])
    >>> mean_average_precision(s, np.eye(2, dtype=int))
    1.0
    >>> mean_average_precision(s, np.ones((2, 2)), mask=np.array([[0, 1], [1, 0]]))
    1.0
    """
    scores, targets = _check(scores, targets)
    ap = _average_precision(*_masked(scores, targets, _check_mask(mask, scores.shape)))
    empty = np.isnan(ap)
    _warn_empty(empty, labels, "mAP")
    return float(np.mean(ap[~empty])) if (~empty).any() else float("nan")


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def threshold_metrics(predicted: np.ndarray, targets: np.ndarray,
                      mask: np.ndarray | None = None) -> dict[str, float]:
    """CP, CR, CF1, OP, OR, OF1 of boolean predictions (ML-GCN's ``evaluation``).

    Labels without a positive target are left out of CP and CR (see the module notes);
    masked entries (``mask`` N × C bool) count in none of the counts.

    Examples
    --------
    >>> pred = np.array([[1, 0], [1, 1], [0, 0]], dtype=bool)
    >>> true = np.array([[1, 0], [0, 1], [0, 1]])
    >>> m = threshold_metrics(pred, true)
    >>> m["OP"], m["OR"], m["CP"], m["CR"]
    (0.6666666666666666, 0.6666666666666666, 0.75, 0.75)
    """
    predicted = np.asarray(predicted, dtype=bool)
    targets = np.asarray(targets, dtype=bool)
    mask = _check_mask(mask, predicted.shape)
    if mask is not None:
        predicted, targets = predicted & ~mask, targets & ~mask
    nc = np.count_nonzero(predicted & targets, axis=0).astype(np.float64)
    np_ = np.count_nonzero(predicted, axis=0).astype(np.float64)
    ng = np.count_nonzero(targets, axis=0).astype(np.float64)
    keep = ng > 0
    per_p = nc / np.maximum(np_, 1.0)
    per_r = nc / np.maximum(ng, 1.0)
    cp = float(per_p[keep].mean()) if keep.any() else float("nan")
    cr = float(per_r[keep].mean()) if keep.any() else float("nan")
    op = float(nc.sum() / np_.sum()) if np_.sum() > 0 else 0.0
    orr = float(nc.sum() / ng.sum()) if ng.sum() > 0 else float("nan")
    return {"CP": cp, "CR": cr, "CF1": _f1(cp, cr), "OP": op, "OR": orr, "OF1": _f1(op, orr)}


def multilabel_metrics(scores: np.ndarray, targets: np.ndarray, *, threshold: float = 0.5,
                       top_k: int = 3, logits: bool = False,
                       labels: Sequence[str] | None = None, mask: np.ndarray | None = None) -> dict[str, float]:
    """All of ML-GCN's metrics: mAP, CP, CR, CF1, OP, OR, OF1 and their top-``k`` versions.

    Parameters
    ----------
    scores : (N, C) array
        Probabilities, or logits with ``logits=True``.
    targets : (N, C) array of 0/1
    threshold : float
        Probability at or above which a label is predicted (0.5 in the papers).
    top_k : int
        k of the top-k metrics (keys ``"CP@3"`` …).
    logits : bool
        Compare ``scores`` with ``log(threshold / (1 - threshold))`` instead.
    labels : sequence of str, optional
        Label names for the warning about labels without positives.
    mask : (N, C) array of bool, optional
        Entries left out of every metric (VOC's difficult marks; see the module notes).

    Returns
    -------
    dict
        Keys of :data:`METRIC_NAMES` (with ``@top_k``), values as fractions in [0, 1].

    Examples
    --------
    >>> s = np.array([[0.9, 0.6, 0.1], [0.2, 0.7, 0.8]])
    >>> t = np.array([[1, 0, 0], [0, 1, 1]])
    >>> m = multilabel_metrics(s, t, top_k=1)
    >>> m["mAP"], m["OP"], m["OR"], m["OP@1"], m["OR@1"]
    (1.0, 0.75, 1.0, 1.0, 0.6666666666666666)
    >>> multilabel_metrics(s, t, top_k=1, mask=np.array([[0, 1, 0], [0, 0, 0]]))["OP"]   # 0.6 left out
    1.0
    """
    scores, targets = _check(scores, targets)
    mask = _check_mask(mask, scores.shape)
    if not 0.0 < threshold < 1.0:
        raise DataError(f"threshold must be in (0, 1), got {threshold}")
    n, c = scores.shape
    cut = math.log(threshold / (1.0 - threshold)) if logits else threshold
    passed = scores >= cut
    ap = _average_precision(*_masked(scores, targets, mask))
    _warn_empty(np.isnan(ap), labels, "mAP")
    result: dict[str, float] = {"mAP": float(np.nanmean(ap)) if (~np.isnan(ap)).any() else float("nan")}
    result.update(threshold_metrics(passed, targets, mask))
    k = min(int(top_k), c)
    top = np.zeros_like(passed)
    if k > 0 and n > 0:
        # the k highest of each row; ties at the k-th value go to the lower label index
        kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]
        above = scores > kth
        tied = scores == kth
        room = k - np.count_nonzero(above, axis=1, keepdims=True)
        top = above | tied
        crowded = np.flatnonzero(np.count_nonzero(tied, axis=1) > room[:, 0])
        if crowded.size:
            t = tied[crowded]
            top[crowded] = above[crowded] | (t & (np.cumsum(t, axis=1) <= room[crowded]))
    for key, value in threshold_metrics(top & passed, targets, mask).items():
        result[f"{key}@{top_k}"] = value
    return result


def format_metrics_table(rows: Mapping[str, Mapping[str, float]] | Mapping[str, float], *,
                         top_k: int = 3, digits: int = 1) -> str:
    """The papers' table: ``mAP CP CR CF1 OP OR OF1`` then the top-k block, in percent.

    ``rows`` is one metrics dict, or a mapping of row name → metrics dict.

    Examples
    --------
    >>> m = {k: 0.5 for k in METRIC_NAMES}
    >>> print(format_metrics_table({"ML-GCN": m}))
           All                                       | Top-3
    method   mAP    CP    CR   CF1    OP    OR   OF1 |    CP    CR   CF1    OP    OR   OF1
    ML-GCN  50.0  50.0  50.0  50.0  50.0  50.0  50.0 |  50.0  50.0  50.0  50.0  50.0  50.0
    """
    if rows and all(isinstance(v, (int, float)) for v in rows.values()):
        rows = {"model": rows}  # type: ignore[dict-item]
    base = ["mAP", "CP", "CR", "CF1", "OP", "OR", "OF1"]
    top = [f"{k}@{top_k}" for k in ("CP", "CR", "CF1", "OP", "OR", "OF1")]
    width = max([6] + [len(str(name)) for name in rows])

    def cell(value: float | None) -> str:
        return f"{'-':>5}" if value is None or value != value else f"{100 * value:5.{digits}f}"

    head = f"{'method':<{width}} " + " ".join(f"{h:>5}" for h in base) + " | " + \
        " ".join(f"{h.split('@')[0]:>5}" for h in top)
    split = head.index("|")
    title = f"{'':<{width}} {'All':<{split - width - 1}}| Top-{top_k}"
    lines = [title, head]
    for name, m in rows.items():  # type: ignore[union-attr]
        lines.append(f"{str(name):<{width}} " + " ".join(cell(m.get(h)) for h in base) + " | "
                     + " ".join(cell(m.get(h)) for h in top))
    return "\n".join(line.rstrip() for line in lines)
