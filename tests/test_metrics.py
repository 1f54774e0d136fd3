"""ML-GCN's metrics against sklearn and against a plain loop over ML-GCN's definitions."""
from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from labelgraph.train.metrics import (METRIC_NAMES, MetricWarning, average_precision, format_metrics_table,
                                      mean_average_precision, multilabel_metrics)
from tests.conftest import require_shared


def loop_metrics(scores: np.ndarray, targets: np.ndarray, threshold: float = 0.5, k: int = 3,
                 mask: np.ndarray | None = None) -> dict:
    """ML-GCN's util.py definitions, one sample and one label at a time (no numpy vector ops);
    entries with a true ``mask`` are skipped everywhere (the top-k ranking still sees them)."""
    n, c = len(scores), len(scores[0])
    skip = (lambda i, j: bool(mask[i][j])) if mask is not None else (lambda i, j: False)  # noqa: E731

    def evaluation(pred):
        nc, np_, ng = [0] * c, [0] * c, [0] * c
        for j in range(c):
            for i in range(n):
                if skip(i, j):
                    continue
                ng[j] += int(targets[i][j] == 1)
                np_[j] += int(pred[i][j])
                nc[j] += int(pred[i][j] and targets[i][j] == 1)
        keep = [j for j in range(c) if ng[j] > 0]
        cp = sum(nc[j] / (np_[j] if np_[j] else 1) for j in keep) / len(keep)
        cr = sum(nc[j] / ng[j] for j in keep) / len(keep)
        op = sum(nc) / sum(np_) if sum(np_) else 0.0
        orr = sum(nc) / sum(ng)
        f = lambda p, r: 2 * p * r / (p + r) if p + r else 0.0  # noqa: E731
        return {"CP": cp, "CR": cr, "CF1": f(cp, cr), "OP": op, "OR": orr, "OF1": f(op, orr)}

    out = {}
    # AP as ML-GCN's average_precision, but with tied scores entering together (sklearn's rule)
    aps = []
    for j in range(c):
        col = [(scores[i][j], targets[i][j]) for i in range(n) if not skip(i, j)]
        pos = sum(t for _, t in col)
        if pos == 0:
            continue
        total = 0.0
        for s, t in col:
            if t != 1:
                continue
            at_or_above = [u for u in col if u[0] >= s]
            total += sum(u[1] for u in at_or_above) / len(at_or_above)
        aps.append(total / pos)
    out["mAP"] = sum(aps) / len(aps)
    pred = [[scores[i][j] >= threshold for j in range(c)] for i in range(n)]
    out.update(evaluation(pred))
    top = []
    for i in range(n):
        ranked = sorted(range(c), key=lambda j: (-scores[i][j], j))[:k]
        top.append([(j in ranked) and scores[i][j] >= threshold for j in range(c)])
    out.update({f"{key}@{k}": v for key, v in evaluation(top).items()})
    return out


def sklearn_ap(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return np.array([average_precision_score(targets[:, j], scores[:, j]) if targets[:, j].any() else np.nan
                     for j in range(targets.shape[1])])


def test_ap_equals_sklearn_on_random_scores_with_ties() -> None:
    rng = np.random.default_rng(0)
    targets = (rng.random((300, 12)) < 0.3).astype(int)
    for scores in (rng.random((300, 12)), np.round(rng.random((300, 12)), 1)):  # the second has many ties
        np.testing.assert_allclose(average_precision(scores, targets), sklearn_ap(scores, targets), atol=1e-12)


def test_ap_all_tied_equals_prevalence() -> None:
    targets = np.array([[1], [0], [0], [1], [0]])
    assert average_precision(np.zeros((5, 1)), targets)[0] == pytest.approx(2 / 5)


def test_metrics_equal_loop_implementation_on_random_scores() -> None:
    rng = np.random.default_rng(1)
    targets = (rng.random((120, 7)) < 0.35).astype(int)
    scores = np.round(rng.random((120, 7)), 2)
    got = multilabel_metrics(scores, targets)
    want = loop_metrics(scores.tolist(), targets.tolist())
    assert set(got) == set(METRIC_NAMES)
    for key in METRIC_NAMES:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


@pytest.mark.parametrize("name", ["yeast", "emotions"])
def test_metrics_on_real_mulan_labels(name: str) -> None:
    from labelgraph.datasets.arff import mulan_files, read_arff

    arff, xml = mulan_files(require_shared("mulan") / name, "test")
    data = read_arff(arff, xml=xml)
    targets = data.labelset.Y.toarray().astype(int)
    rng = np.random.default_rng(2)
    # scores that know something about the labels, plus noise, some rounded into ties
    scores = np.clip(0.35 * targets + rng.random(targets.shape) * 0.8, 0, 1).round(2)
    np.testing.assert_allclose(average_precision(scores, targets), sklearn_ap(scores, targets), atol=1e-12)
    got = multilabel_metrics(scores, targets)
    want = loop_metrics(scores.tolist(), targets.tolist())
    for key in METRIC_NAMES:
        assert got[key] == pytest.approx(want[key], abs=1e-12), key


def test_logits_threshold_matches_sigmoid() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(50, 5))
    targets = (rng.random((50, 5)) < 0.4).astype(int)
    probs = 1 / (1 + np.exp(-logits))
    a = multilabel_metrics(logits, targets, logits=True)
    b = multilabel_metrics(probs, targets)
    for key in METRIC_NAMES:
        assert a[key] == pytest.approx(b[key]), key


def test_labels_without_positives_are_left_out_with_a_warning() -> None:
    scores = np.array([[0.9, 0.1, 0.3], [0.2, 0.8, 0.6], [0.7, 0.4, 0.2]])
    targets = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    with pytest.warns(MetricWarning, match="left out of mAP: car"):
        m = mean_average_precision(scores, targets, labels=["cat", "dog", "car"])
    assert m == pytest.approx(np.mean(sklearn_ap(scores, targets)[:2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricWarning)
        full = multilabel_metrics(scores, targets)
    # CR over cat and dog only: both fully recalled
    assert full["CR"] == 1.0
    assert math.isnan(average_precision(scores, targets)[2])


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_property_ap_matches_sklearn(n: int, c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    targets = (rng.random((n, c)) < 0.5).astype(int)
    targets[0] = 1
    scores = rng.integers(0, 4, size=(n, c)).astype(float)  # heavy ties
    np.testing.assert_allclose(average_precision(scores, targets), sklearn_ap(scores, targets), atol=1e-12)


def test_table_has_the_papers_columns() -> None:
    m = {k: 0.5 for k in METRIC_NAMES}
    m["mAP"] = 0.83
    lines = format_metrics_table({"ML-GCN": m}).splitlines()
    assert lines[1].split()[:8] == ["method", "mAP", "CP", "CR", "CF1", "OP", "OR", "OF1"]
    assert lines[2].split()[1] == "83.0"


def test_metrics_import_without_torch() -> None:
    code = ("import sys; import labelgraph.train.metrics, labelgraph.train.config, labelgraph.train; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _voc_test_scores() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """VOC 2007 test labels and difficult marks, with simulated scores: positives and difficult entries
    score higher on average (a detector sees the object)."""
    from labelgraph.datasets.voc import read_voc

    ls = read_voc(require_shared("voc2007"), "test")
    targets = ls.Y.toarray()
    mask = ls.mask.toarray().astype(bool)
    rng = np.random.default_rng(2007)
    scores = rng.normal(0.0, 1.0, targets.shape) + 2.0 * targets + 1.5 * mask
    return 1.0 / (1.0 + np.exp(-scores)), targets, mask


def test_masked_ap_on_real_voc2007_test_equals_sklearn_on_the_non_difficult_entries() -> None:
    scores, targets, mask = _voc_test_scores()
    assert mask.any() and not (mask & (targets == 1)).any()
    expected = np.array([average_precision_score(targets[~mask[:, j], j], scores[~mask[:, j], j])
                         for j in range(targets.shape[1])])
    np.testing.assert_allclose(average_precision(scores, targets, mask=mask), expected, atol=1e-12)
    m = multilabel_metrics(scores, targets, mask=mask)
    assert m["mAP"] == pytest.approx(expected.mean(), abs=1e-12)
    assert mean_average_precision(scores, targets, mask=mask) == pytest.approx(expected.mean(), abs=1e-12)
    # the difficult entries counted as negatives (the trainer before masks) lower mAP
    assert multilabel_metrics(scores, targets)["mAP"] < m["mAP"] - 0.005


def test_masked_threshold_metrics_on_real_voc_labels_equal_the_loop_definitions() -> None:
    scores, targets, mask = _voc_test_scores()
    rows = np.random.default_rng(1).choice(len(scores), 400, replace=False)
    rows = np.union1d(rows, np.flatnonzero(mask.any(axis=1))[:100])   # make sure difficult rows are in
    s, t, mk = scores[rows], targets[rows], mask[rows]
    got = multilabel_metrics(s, t, mask=mk)
    ref = loop_metrics(s.tolist(), t.tolist(), mask=mk.tolist())
    for key in METRIC_NAMES:
        assert got[key] == pytest.approx(ref[key], abs=1e-12), key
    assert got["OP"] != multilabel_metrics(s, t)["OP"]   # the mask changed something


def test_mask_of_another_shape_is_an_error() -> None:
    from labelgraph.errors import DataError

    with pytest.raises(DataError, match="mask"):
        multilabel_metrics(np.zeros((3, 2)), np.zeros((3, 2)), mask=np.zeros((2, 3), dtype=bool))
