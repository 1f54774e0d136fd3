"""SPEC §6: every graph kind built sparse (CSR from M to the artifact) equals the dense path to 1e-6."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import labelgraph
from labelgraph._dense import SPARSE_ABOVE, use_sparse
from labelgraph.assemble import build_graph, ks_artifact
from labelgraph.errors import ConfigError
from labelgraph.graphs import STATISTICAL_KINDS, binary_graph, mlgcn_graph, reweighted_graph, symmetric_normalize
from labelgraph.graphs.ks import ks_graph
from labelgraph.stats import conditional_probability, cooccurrence_counts

# every kind whose numbers come from statistics alone (cosine needs embeddings and is sparse on both paths)
KINDS = [k for k, spec in STATISTICAL_KINDS.items() if spec.needs != "embeddings"]


def zipf_statistics(c: int, num_samples: int, per_sample: int, seed: int, unseen: int = 0) -> labelgraph.Artifact:
    """Statistics of random samples whose labels follow a Zipf law (frequency of rank r ∝ 1/r).

    The last ``unseen`` labels have no sample.
    """
    rng = np.random.default_rng(seed)
    weights = np.r_[1.0 / np.arange(1, c - unseen + 1), np.zeros(unseen)]
    sizes = rng.integers(0, 2 * per_sample, size=num_samples)
    cols = rng.choice(c, size=int(sizes.sum()), p=weights / weights.sum())
    rows = np.repeat(np.arange(num_samples), sizes)
    Y = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(num_samples, c))
    n, M = cooccurrence_counts(Y)
    return labelgraph.Artifact.statistics([f"label{i:05d}" for i in range(c)], n, M, num_samples)


@pytest.fixture(scope="module")
def stats300() -> labelgraph.Artifact:
    stats = zipf_statistics(300, 4000, 4, seed=1, unseen=3)
    assert (stats.n == 0).any() and stats.matrix.nnz < 300 * 299 / 2  # unseen labels and a sparse M
    return stats


def knowledge_of(stats: labelgraph.Artifact, seed: int) -> labelgraph.Artifact:
    rng = np.random.default_rng(seed)
    c = stats.num_labels
    K = sp.random(c, c, density=0.02, random_state=rng, format="csr")
    K = sp.triu(K, k=1)
    return labelgraph.Artifact.graph("knowledge", stats.labels, K + K.T)


def assert_same(dense: labelgraph.Artifact, sparse: labelgraph.Artifact) -> None:
    assert dense.meta == sparse.meta
    np.testing.assert_allclose(sparse.to_dense(), dense.to_dense(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", [{}, {"raw": True}, {"top_k": 5}, {"min_count": 3},
                                     {"top_k": 8, "symmetrize": "max", "min_count": 2}, {"symmetrize": "mean"}])
def test_sparse_equals_dense_for_every_kind(stats300, kind, options):
    dense = build_graph(stats300, kind, sparse=False, **options)
    sparse = build_graph(stats300, kind, sparse=True, **options)
    assert_same(dense, sparse)


@pytest.mark.parametrize("base", ["probability", "mlgcn", "reweighted"])
@pytest.mark.parametrize("kind", ["shuffled", "random"])
def test_baselines_on_sparse_bases(stats300, kind, base):
    assert_same(build_graph(stats300, kind, base=base, sparse=False, seed=3),
                build_graph(stats300, kind, base=base, sparse=True, seed=3))


@pytest.mark.parametrize("tau", [0.05, 0.3, 1.0])
@pytest.mark.parametrize("p", [0.0, 0.25, 1.0])
def test_thresholds_and_weights(stats300, tau, p):
    for kind in ("binary", "reweighted", "mlgcn"):
        assert_same(build_graph(stats300, kind, sparse=False, tau=tau, p=p),
                    build_graph(stats300, kind, sparse=True, tau=tau, p=p))


@pytest.mark.parametrize("stat_graph", ["probability", "binary", "reweighted"])
@pytest.mark.parametrize("raw", [False, True])
@pytest.mark.parametrize("params", [dict(lam=0.4, tau=0.02, eta=0.4), dict(lam=0.6, tau=0.0, eta=1.0),
                                    dict(lam=0.0, tau=0.1, eta=0.0)])
def test_ks_sparse_equals_dense(stats300, stat_graph, raw, params):
    knowledge = knowledge_of(stats300, seed=2)
    dense = ks_artifact(stats300, knowledge, stat_graph=stat_graph, raw=raw, sparse=False, **params)
    sparse = ks_artifact(stats300, knowledge, stat_graph=stat_graph, raw=raw, sparse=True, **params)
    assert_same(dense, sparse)


def test_ks_parts_are_sparse_and_equal(stats300):
    P = conditional_probability(stats300.matrix, stats300.n, sparse=True)
    K = knowledge_of(stats300, seed=4).matrix.astype(np.float64)
    dense = ks_graph(P.toarray(), K.toarray(), 0.4, 0.02, 0.4, parts=True)
    sparse = ks_graph(P, K, 0.4, 0.02, 0.4, parts=True)
    for name, a, b in zip(dense._fields, dense, sparse):
        assert sp.issparse(b), name
        np.testing.assert_allclose(b.toarray(), a, rtol=0, atol=1e-12, err_msg=name)


def test_sparse_path_needs_no_dense_step(stats300, monkeypatch):
    """Every dense C × C step checks the limit; with a limit below C the sparse path still builds every kind."""
    monkeypatch.setenv("LABELGRAPH_DENSE_LIMIT", "100")
    with pytest.raises(labelgraph.errors.DataError, match="above the limit of 100 labels"):
        build_graph(stats300, "binary", sparse=False)
    for kind in KINDS:
        if kind != "complete":
            build_graph(stats300, kind, sparse=True, top_k=4)
    ks_artifact(stats300, knowledge_of(stats300, 0), lam=0.4, tau=0.02, eta=0.4, stat_graph="binary", sparse=True)


def test_pure_functions_keep_sparse_input_sparse():
    P = sp.csr_matrix([[0, 0.5, 0.25], [1.0, 0, 0], [0.5, 0, 0]])
    # by hand: τ = 0.4 keeps (0,1), (1,0), (2,0); rows of B have 1, 1, 1 neighbours
    B = binary_graph(P, 0.4)
    assert sp.issparse(B) and B.toarray().tolist() == [[0, 1, 0], [1, 0, 0], [1, 0, 0]]
    A = reweighted_graph(B, 0.2)
    assert sp.issparse(A)
    np.testing.assert_allclose(A.toarray(), [[0.8, 0.2, 0], [0.2, 0.8, 0], [0.2, 0, 0.8]])
    norm = symmetric_normalize(sp.csr_matrix([[1.0, 1.0, 0], [1.0, 3.0, 0], [0, 0, 0]]))
    s = 1 / (2 * np.sqrt(2))
    assert sp.issparse(norm)
    np.testing.assert_allclose(norm.toarray(), [[0.5, s, 0], [s, 0.75, 0], [0, 0, 0]])
    assert symmetric_normalize(sp.csr_matrix((3, 3))).nnz == 0


def test_tau_zero_is_refused_on_the_sparse_path(stats300):
    with pytest.raises(ConfigError, match="tau = 0 makes every pair of the 300 labels an edge"):
        build_graph(stats300, "binary", tau=0.0, sparse=True)
    assert build_graph(stats300, "binary", tau=0.0, sparse=False).matrix.nnz == 300 * 300


def test_unseen_label_warns_and_gets_a_zero_row_when_sparse(caplog):
    M = sp.csr_matrix(np.array([[0, 2, 0], [2, 0, 0], [0, 0, 0]]))
    P = conditional_probability(M, [4, 2, 0], labels=["a", "b", "sparse-unseen"], sparse=True)
    assert P.toarray().tolist() == [[0, 0.5, 0], [1.0, 0, 0], [0, 0, 0]]
    assert "sparse-unseen" in caplog.text


def test_threshold_default_is_sparse_above_2000():
    assert SPARSE_ABOVE == 2000
    assert not use_sparse(2000) and use_sparse(2001) and use_sparse(10, True) and not use_sparse(5000, False)



@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.integers(0, 10_000), st.floats(0.01, 1.0), st.floats(0.0, 1.0))
def test_property_small_graphs(c, seed, tau, p):
    stats = zipf_statistics(c, 30, 2, seed)
    for kind in ("probability", "binary", "reweighted", "mlgcn", "ppmi", "jaccard"):
        assert_same(build_graph(stats, kind, sparse=False, tau=tau, p=p),
                    build_graph(stats, kind, sparse=True, tau=tau, p=p))
    np.testing.assert_allclose(mlgcn_graph(stats.matrix, stats.n, tau, p, sparse=True).toarray(),
                               mlgcn_graph(stats.matrix, stats.n, tau, p), atol=1e-12)


def test_every_kind_at_20000_labels_without_a_dense_step(monkeypatch):
    """C = 20,000 (SPEC §6): each kind builds with dense steps forbidden and peaks far below one C × C array."""
    import tracemalloc

    monkeypatch.setenv("LABELGRAPH_DENSE_LIMIT", "1000")
    stats = zipf_statistics(20_000, 100_000, 4, seed=0)
    c = stats.num_labels
    K = sp.triu(sp.random(c, c, density=1e-4, random_state=np.random.default_rng(1), format="csr"), k=1)
    knowledge = labelgraph.Artifact.graph("knowledge", stats.labels, K + K.T)
    one_dense = c * c  # bytes of a C × C bool array, the smallest dense step there is
    builds = {kind: (lambda kind=kind: build_graph(stats, kind)) for kind in KINDS if kind != "complete"}
    builds["ks"] = lambda: ks_artifact(stats, knowledge, lam=0.4, tau=0.02, eta=0.4, stat_graph="reweighted")
    for kind, build in builds.items():
        tracemalloc.start()
        try:
            graph = build()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert graph.num_labels == c and graph.matrix.nnz <= stats.matrix.nnz + c + knowledge.matrix.nnz, kind
        assert peak < one_dense / 4, f"{kind}: peak {peak / 2**20:.0f} MiB"
    with pytest.raises(ConfigError, match="complete graph of 20000 labels .* refused above 5000 labels"):
        build_graph(stats, "complete")


def test_cli_sparse_and_dense_give_the_same_files_and_tau_zero_is_one_line(stats300, tmp_path):
    import subprocess
    import sys

    stats_path = stats300.save(tmp_path / "zipf_statistics.npz")

    def build(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", "build", "--stats", str(stats_path),
                               "--kind", "binary,mlgcn,reweighted", "--name", "zipf", *extra], capture_output=True, text=True,
                              timeout=120)

    for flag in ("--sparse", "--dense"):
        assert build(flag, "--out", str(tmp_path / flag[2:])).returncode == 0
    for name in ("zipf_binary_t0.4.npz", "zipf_mlgcn_t0.4_p0.25.npz", "zipf_reweighted_t0.4_p0.2.npz"):
        assert_same(labelgraph.load(tmp_path / "dense" / name), labelgraph.load(tmp_path / "sparse" / name))
    refused = build("--sparse", "--tau", "0", "--out", str(tmp_path / "zero"))
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("Error: tau = 0 makes every pair of the 300 labels")
    assert not (tmp_path / "zero").exists() or not any((tmp_path / "zero").iterdir())
