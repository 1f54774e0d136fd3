"""The sparse measures equal the dense ones: components, degrees, spectral gap, over-smoothing (C = 300)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import eigvalsh
from scipy.sparse.csgraph import connected_components

from labelgraph import Artifact
from labelgraph.graphs.measures import (
    component_labels,
    edge_support,
    graph_measures,
    oversmoothing,
    spectral_gap,
    structure_and_degrees,
)


def random_graph(c: int, density: float, seed: int, *, symmetric: bool = True, blocks: int = 1) -> sp.csr_matrix:
    """Non-negative weights, ``blocks`` disconnected diagonal blocks, some labels without an edge."""
    rng = np.random.default_rng(seed)
    A = rng.random((c, c)) * (rng.random((c, c)) < density)
    group = np.arange(c) * blocks // c
    A[group[:, None] != group[None, :]] = 0
    A[:, rng.choice(c, size=c // 20, replace=False)] = 0
    if symmetric:
        A = (A + A.T) / 2
    return sp.csr_matrix(A)


def statistics(c: int, samples: int, seed: int) -> Artifact:
    rng = np.random.default_rng(seed)
    Y = sp.csr_matrix((rng.random((samples, c)) < 3.0 / c).astype(np.int64))
    M = (Y.T @ Y).tolil()
    M.setdiag(0)
    return Artifact.statistics([f"l{i}" for i in range(c)], np.asarray(Y.sum(axis=0)).ravel(), M.tocsr(), samples)


@pytest.mark.parametrize("seed", range(6))
def test_components_equal_csgraph(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = int(rng.integers(1, 400))
    A = random_graph(c, float(rng.choice([0.0005, 0.003, 0.02])), seed, blocks=int(rng.integers(1, 5)))
    support = edge_support(A)
    ours = component_labels(support)
    count, theirs = connected_components(support, directed=False)
    assert np.unique(ours).size == count
    # the same partition: two labels share a component in one exactly when they do in the other
    pairs = np.unique(np.stack([ours, theirs]), axis=1)
    assert pairs.shape[1] == count and np.unique(pairs[0]).size == count and np.unique(pairs[1]).size == count
    # each label is named for the smallest index in its component
    assert all(ours[i] == np.flatnonzero(theirs == theirs[i]).min() for i in range(c))


def test_components_of_a_long_path() -> None:
    c = 5000
    order = np.random.default_rng(1).permutation(c)
    A = sp.csr_matrix((np.ones(c - 1), (order[:-1], order[1:])), shape=(c, c))
    assert np.unique(component_labels(edge_support(A))).tolist() == [0]


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("blocks", [1, 3])
def test_structure_sparse_equals_dense(symmetric: bool, blocks: int) -> None:
    A = random_graph(300, 0.01, 7, symmetric=symmetric, blocks=blocks)
    sparse_measures, sparse_degree = structure_and_degrees(A)
    dense_measures, dense_degree = structure_and_degrees(A.toarray())
    assert sparse_measures == dense_measures
    np.testing.assert_array_equal(sparse_degree, dense_degree)
    dense = A.toarray() != 0
    np.fill_diagonal(dense, False)
    assert sparse_measures["num_edges"] == dense.sum()
    np.testing.assert_array_equal(sparse_degree, (dense | dense.T).sum(axis=1))
    assert sparse_measures["components"] == connected_components(dense | dense.T, directed=False)[0]


def _gap_by_hand(A: np.ndarray) -> float:
    S = (A + A.T) / 2
    w = eigvalsh(S)
    return float(w[-1] - w[-2])


@pytest.mark.parametrize("case", ["probability", "normalized three blocks", "asymmetric", "identity", "empty"])
def test_spectral_gap_sparse_equals_dense(case: str) -> None:
    c = 300
    if case == "probability":
        A = sp.csr_matrix(statistics(c, 4000, 3).conditional_probability())
    elif case == "normalized three blocks":  # the top eigenvalue 1 three times: the gap is 0
        B = random_graph(c, 0.05, 5, blocks=3)
        d = np.asarray(B.sum(axis=1)).ravel()
        inv = np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0)
        A = sp.diags(inv) @ B @ sp.diags(inv)
    elif case == "asymmetric":
        A = random_graph(c, 0.02, 6, symmetric=False, blocks=2)
    elif case == "identity":
        A = sp.identity(c, format="csr")
    else:
        A = sp.csr_matrix((c, c))
    want = _gap_by_hand(A.toarray())
    dense = spectral_gap(A, method="dense")
    sparse = spectral_gap(A, method="sparse")
    assert dense == pytest.approx(want, abs=1e-6)
    assert sparse == pytest.approx(want, abs=1e-6)
    if case == "normalized three blocks":
        assert sparse == pytest.approx(0.0, abs=1e-9)


def test_spectral_gap_sparse_on_a_large_block_uses_arpack() -> None:
    A = random_graph(900, 0.01, 8)  # one block above the size LAPACK takes
    assert spectral_gap(A, method="sparse") == pytest.approx(_gap_by_hand(A.toarray()), abs=1e-6)


def test_oversmoothing_and_graph_measures_sparse_equal_dense() -> None:
    A = random_graph(300, 0.02, 9)
    A = sp.diags(1 / np.maximum(np.asarray(A.sum(axis=1)).ravel(), 1e-12)) @ A
    E = np.random.default_rng(0).standard_normal((300, 16))
    sparse, dense = oversmoothing(A, E, ks=(1, 3)), oversmoothing(A.toarray(), E, ks=(1, 3))
    X = E
    for k in (1, 2, 3):
        X = A.toarray() @ X
        if k in (1, 3):
            U = X / np.linalg.norm(X, axis=1, keepdims=True)
            cos = U @ U.T
            want = (cos.sum() - np.trace(cos)) / (300 * 299)
            assert sparse[k] == pytest.approx(want, abs=1e-9) and dense[k] == pytest.approx(want, abs=1e-9)
    row_sparse, row_dense = graph_measures(A, E), graph_measures(A.toarray(), E)
    assert row_sparse.keys() == row_dense.keys()
    for key in row_sparse:
        assert row_sparse[key] == pytest.approx(row_dense[key], abs=1e-6)


def test_no_dense_array_at_30000_labels() -> None:
    """Under a 3 GiB address-space limit (a dense 30,000² float64 array is 6.7 GiB) every measure still runs."""
    code = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
import numpy as np, scipy.sparse as sp
from labelgraph.graphs.measures import graph_measures, asymmetry
c = 30000
rng = np.random.default_rng(0)
rows, cols = rng.integers(0, c, 60000), rng.integers(0, c, 60000)
A = sp.csr_matrix((rng.random(60000), (rows, cols)), shape=(c, c))
A = A + A.T
row = graph_measures(A, rng.standard_normal((c, 8)))
print(row["components"], row["spectral_gap"], asymmetry(A))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"OPENBLAS_NUM_THREADS": "1", "PATH": ""})
    assert out.returncode == 0, out.stderr
    components, gap, asym = out.stdout.split()
    assert int(components) > 1 and float(gap) >= 0 and float(asym) == 0.0
