"""SPEC §2.1–2.4 graphs: hand-computed examples, properties, and ML-GCN's published matrices."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import labelgraph
from labelgraph.errors import ArtifactError, ConfigError
from labelgraph.assemble import build_graph
from labelgraph.graphs import binary_graph, mlgcn_graph, reweighted_graph, symmetric_normalize
from labelgraph.stats import conditional_probability, cooccurrence_counts
from tests.conftest import require_shared

# Three labels: n = (4, 2, 2); M: a–b 2, a–c 1, b–c 0.
N3 = np.array([4, 2, 2])
M3 = np.array([[0, 2, 1], [2, 0, 0], [1, 0, 0]])


def test_binary_by_hand():
    P = conditional_probability(M3, N3)
    # P = [[0, .5, .25], [1, 0, 0], [.5, 0, 0]]
    assert binary_graph(P, 0.5).tolist() == [[0, 1, 0], [1, 0, 0], [1, 0, 0]]
    assert binary_graph(P, 0.25).tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 0]]
    assert binary_graph(P, 1.0).tolist() == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]


def test_reweighted_by_hand():
    B = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]])
    A = reweighted_graph(B, 0.2)
    expected = [[0.8, 0.1, 0.1], [0.2, 0.8, 0.0], [0.0, 0.0, 0.8]]
    np.testing.assert_allclose(A, expected)


def test_normalize_by_hand_with_zero_degree():
    A = np.array([[1.0, 1.0, 0], [1.0, 3.0, 0], [0, 0, 0]])
    # degrees 2, 4, 0 → d^-1/2 = 1/√2, 1/2, 0
    expected = [[0.5, 1 / (2 * np.sqrt(2)), 0], [1 / (2 * np.sqrt(2)), 0.75, 0], [0, 0, 0]]
    np.testing.assert_allclose(symmetric_normalize(A), expected)


def test_mlgcn_by_hand():
    # P = [[0, .5, .25], [1, 0, 0], [.5, 0, 0]], τ = 0.4 → B = [[0,1,0],[1,0,0],[1,0,0]]
    # column sums of B: (2, 1, 0) → R = 0.25·B / (colsum + 1e-6)
    A = mlgcn_graph(M3, N3, tau=0.4, p=0.25, normalize=False)
    r0 = 0.25 / (2 + 1e-6)
    r1 = 0.25 / (1 + 1e-6)
    np.testing.assert_allclose(A, [[1, r1, 0], [r0, 1, 0], [r0, 0, 1]])
    # normalized as ML-GCN's gen_adj, D^-1/2 Aᵀ D^-1/2 with row sums of A: 1 + r1 = 5/4, 1 + r0 = 9/8 (twice);
    # off the diagonal 1/√(5/4 · 9/8) = 8/(3√10), so r0 → 1/(3√10), r1 → 2/(3√10)
    a, b = 1 / (3 * np.sqrt(10)), 2 / (3 * np.sqrt(10))
    np.testing.assert_allclose(mlgcn_graph(M3, N3, 0.4, 0.25), [[0.8, a, a], [b, 8 / 9, 0], [0, 0, 8 / 9]],
                               atol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_out_of_range_parameters(bad):
    with pytest.raises(ConfigError, match="tau must be in"):
        binary_graph(np.zeros((2, 2)), bad)
    with pytest.raises(ConfigError, match="p must be in"):
        reweighted_graph(np.zeros((2, 2)), bad)


counts = arrays(np.int8, st.tuples(st.integers(1, 25), st.integers(1, 7)), elements=st.integers(0, 1))


@settings(max_examples=60, deadline=None)
@given(counts, st.floats(0, 1), st.floats(0, 1))
def test_graph_properties(Y, tau, p):
    n, M = cooccurrence_counts(Y)
    P = conditional_probability(M, n)
    B = binary_graph(P, tau)
    assert not B.diagonal().any()
    A = reweighted_graph(B, p)
    rows = A.sum(axis=1)
    has_neighbour = B.sum(axis=1) > 0
    np.testing.assert_allclose(rows[has_neighbour], 1.0)
    np.testing.assert_allclose(rows[~has_neighbour], 1.0 - p)
    stats = labelgraph.Artifact.statistics([f"l{i}" for i in range(Y.shape[1])], n, M, Y.shape[0])
    for kind in ("probability", "binary", "reweighted", "mlgcn"):
        g = build_graph(stats, kind, tau=tau, p=p).to_dense()
        assert np.isfinite(g).all()


@settings(max_examples=30, deadline=None)
@given(counts, st.floats(0, 1), st.randoms(use_true_random=False))
def test_permuting_labels_permutes_every_graph(Y, tau, rnd):
    C = Y.shape[1]
    perm = list(range(C))
    rnd.shuffle(perm)
    labels = [f"l{i}" for i in range(C)]
    n, M = cooccurrence_counts(Y)
    n2, M2 = cooccurrence_counts(Y[:, perm])
    s1 = labelgraph.Artifact.statistics(labels, n, M, Y.shape[0])
    s2 = labelgraph.Artifact.statistics([labels[i] for i in perm], n2, M2, Y.shape[0])
    for kind in ("probability", "binary", "reweighted", "mlgcn"):
        g1 = build_graph(s1, kind, tau=tau).to_dense()
        g2 = build_graph(s2, kind, tau=tau).to_dense()
        np.testing.assert_allclose(g2, g1[np.ix_(perm, perm)], atol=1e-6)


def test_build_graph_needs_statistics():
    g = labelgraph.Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])
    with pytest.raises(ArtifactError, match="statistics"):
        build_graph(g, "binary")
    stats = labelgraph.Artifact.statistics(["a", "b"], [1, 1], [[0, 1], [1, 0]], 2)
    with pytest.raises(ConfigError, match="unknown graph kind"):
        build_graph(stats, "knowledge")


def _reference_gen_adj(adj_file, t=0.4, p=0.25):
    """ML-GCN's util.py gen_A + gen_adj, written again with plain numpy (float32 like torch)."""
    with open(adj_file, "rb") as f:
        result = pickle.load(f, encoding="latin1")
    _adj, _nums = result["adj"], result["nums"][:, np.newaxis]
    _adj = _adj / _nums
    _adj[_adj < t] = 0
    _adj[_adj >= t] = 1
    _adj = _adj * p / (_adj.sum(0, keepdims=True) + 1e-6)
    _adj = _adj + np.identity(_adj.shape[0])
    A = _adj.astype(np.float32)
    D = np.diag(np.power(A.sum(1), -0.5))
    return np.matmul(np.matmul(A, D).T, D), result


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("name", ["coco_adj.pkl", "voc_adj.pkl"])
def test_mlgcn_variant_matches_reference_code(name, sparse):
    path = require_shared("mlgcn", name)
    expected, raw = _reference_gen_adj(path)
    labels = [f"l{i}" for i in range(len(raw["nums"]))]
    stats = labelgraph.Artifact.statistics(labels, raw["nums"], raw["adj"], 1)
    got = build_graph(stats, "mlgcn", tau=0.4, p=0.25, sparse=sparse).to_dense()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert build_graph(stats, "mlgcn").meta["p"] == 0.25


def test_bundled_coco_equals_mlgcn_pickle():
    path = require_shared("mlgcn", "coco_adj.pkl")
    with open(path, "rb") as f:
        raw = pickle.load(f, encoding="latin1")
    stats = labelgraph.load(labelgraph.bundled_path("coco"))
    names = require_shared("coco2014", "categories_alphabetical_order.txt").read_text().split("\n")
    assert list(stats.labels) == [x for x in names if x]
    assert stats.n.tolist() == raw["nums"].tolist()
    assert (stats.matrix.toarray() == raw["adj"]).all()
    assert stats.num_samples == 82081
