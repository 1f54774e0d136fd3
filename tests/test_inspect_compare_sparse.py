"""compare on sparse matrices equals the dense computation written out with numpy and scipy.stats."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from labelgraph import Artifact
from labelgraph.inspect import compare_graphs


def dense_reference(A: np.ndarray, B: np.ndarray, labels: list[str], top: int) -> dict:
    off = ~np.eye(len(labels), dtype=bool)
    ea, eb = (A != 0) & off, (B != 0) & off
    either = ea | eb
    upper = np.allclose(A, A.T, atol=1e-7, rtol=0) and np.allclose(B, B.T, atol=1e-7, rtol=0)

    def only(mask: np.ndarray, W: np.ndarray) -> list[tuple[str, str, float]]:
        if upper:
            mask = np.triu(mask, k=1)
        r, c = np.nonzero(mask)
        entries = sorted(zip(r.tolist(), c.tolist()), key=lambda rc: (-W[rc], rc[0], rc[1]))[:top]
        return [(labels[i], labels[j], float(np.float32(W[i, j]))) for i, j in entries]

    return {"edges_a": int(ea.sum()), "edges_b": int(eb.sum()), "edges_common": int((ea & eb).sum()),
            "frobenius": float(np.linalg.norm(A - B)),
            "spearman": float(spearmanr(A[either], B[either]).statistic),
            "only_a": only(ea & ~eb, A), "only_b": only(eb & ~ea, B)}


@pytest.mark.parametrize("symmetric", [True, False])
def test_compare_equals_the_dense_computation(symmetric: bool) -> None:
    rng = np.random.default_rng(3)
    c = 200
    labels = [f"l{i:03d}" for i in range(c)]

    def graph() -> np.ndarray:
        A = (rng.random((c, c)) * (rng.random((c, c)) < 0.05)).astype(np.float32).astype(np.float64)
        return np.maximum(A, A.T) if symmetric else A

    A, B = graph(), graph()
    B[:40, :40] = A[:40, :40] * 0.5  # shared edges with other weights
    want = dense_reference(A, B, labels, 15)
    order = rng.permutation(c)
    b = Artifact.graph("probability", [labels[i] for i in order], B[np.ix_(order, order)])
    got = compare_graphs(Artifact.graph("probability", labels, A), b, top=15)
    assert got.alignment == "reordered"
    assert (got.edges_a, got.edges_b, got.edges_common) == (want["edges_a"], want["edges_b"], want["edges_common"])
    assert got.frobenius == pytest.approx(want["frobenius"], rel=1e-6)
    assert got.spearman == pytest.approx(want["spearman"], abs=1e-9)
    assert list(got.edges_only_in_a) == want["only_a"] and list(got.edges_only_in_b) == want["only_b"]
