"""SPEC §2.8: --top-k / --symmetrize and the baseline kinds identity, complete, shuffled, random."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import labelgraph
from labelgraph import Artifact
from labelgraph.errors import ConfigError
from labelgraph.assemble import STATISTICAL_KINDS, build_graph
from labelgraph.graphs.baselines import DENSE_LIMIT
from labelgraph_cli.main import cli


@pytest.fixture(scope="module")
def coco() -> Artifact:
    return labelgraph.load(labelgraph.bundled_path("coco2014"))


def _top_k_reference(A: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros_like(A)
    for i in range(A.shape[0]):
        ranked = sorted((j for j in range(A.shape[1]) if j != i and A[i, j] > 0), key=lambda j: (-A[i, j], j))
        for j in ranked[:k]:
            out[i, j] = A[i, j]
        out[i, i] = A[i, i]
    return out


@pytest.mark.parametrize("kind", ["ppmi", "jaccard", "npmi"])
@pytest.mark.parametrize("k", [1, 5])
def test_top_k_keeps_exactly_k_per_row(coco, kind, k) -> None:
    full = build_graph(coco, kind, raw=True).to_dense()
    got = build_graph(coco, kind, raw=True, top_k=k).to_dense()
    np.testing.assert_array_equal(got, _top_k_reference(full, k))
    per_row = np.count_nonzero(got, axis=1)
    available = np.count_nonzero(full, axis=1)
    assert (per_row == np.minimum(available, k)).all()
    assert (available >= k).sum() > 40  # most COCO rows have at least k candidates


def test_top_k_ties_go_to_the_lower_index() -> None:
    stats = Artifact.statistics(list("abcde"), [1] * 5, np.zeros((5, 5)), 10)
    got = build_graph(stats, "complete", raw=True, top_k=2).to_dense()
    # every weight is 1: row i keeps the two lowest indices other than i
    assert got.tolist() == [[0, 1, 1, 0, 0], [1, 0, 1, 0, 0], [1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 0, 0, 0]]
    sym = build_graph(stats, "complete", raw=True, top_k=2, symmetrize="max").to_dense()
    np.testing.assert_array_equal(sym, np.maximum(got, got.T))
    mean = build_graph(stats, "complete", raw=True, top_k=2, symmetrize="mean").to_dense()
    np.testing.assert_array_equal(mean, (got + got.T) / 2)


def test_top_k_on_ml_gcn_kinds_ranks_the_counts(coco) -> None:
    M = coco.matrix.toarray().astype(float)
    kept = _top_k_reference(M, 3)
    stats = Artifact.statistics(coco.labels, coco.n, kept, coco.num_samples)
    np.testing.assert_array_equal(build_graph(coco, "binary", top_k=3).to_dense(),
                                  build_graph(stats, "binary").to_dense())


def test_bad_top_k_and_symmetrize(coco) -> None:
    for bad in (0, 80, -2):
        with pytest.raises(ConfigError, match=r"--top-k must be an integer in \[1, C - 1\] = \[1, 79\]"):
            build_graph(coco, "ppmi", top_k=bad)
    with pytest.raises(ConfigError, match="--symmetrize must be one of none, max, mean"):
        build_graph(coco, "ppmi", symmetrize="min")


def test_identity_and_complete(coco) -> None:
    assert build_graph(coco, "identity").to_dense().tolist() == np.identity(80).tolist()
    complete = build_graph(coco, "complete").to_dense()
    np.testing.assert_allclose(complete, np.full((80, 80), 1 / 80), rtol=1e-6)  # norm(J) = J / C
    big = Artifact.statistics([f"l{i}" for i in range(DENSE_LIMIT + 1)], np.ones(DENSE_LIMIT + 1),
                              sp.csr_matrix((DENSE_LIMIT + 1, DENSE_LIMIT + 1)), 5)
    with pytest.raises(ConfigError, match="complete graph of 5001 labels .* refused above 5000 labels"):
        build_graph(big, "complete")


@pytest.mark.parametrize("base", ["binary", "ppmi", "probability"])
def test_shuffled_keeps_weights_and_spectrum_and_moves_labels(coco, base) -> None:
    source = build_graph(coco, base).to_dense().astype(float)
    shuffled = build_graph(coco, "shuffled", base=base, seed=3)
    S = shuffled.to_dense().astype(float)
    np.testing.assert_array_equal(np.sort(S.ravel()), np.sort(source.ravel()))
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(S)), np.sort_complex(np.linalg.eigvals(source)),
                               atol=1e-5)
    assert not np.array_equal(S, source)
    assert shuffled.meta["base"] == base and shuffled.meta["seed"] == 3
    again = build_graph(coco, "shuffled", base=base, seed=3)
    assert again.content_hash == shuffled.content_hash
    assert build_graph(coco, "shuffled", base=base, seed=4).content_hash != shuffled.content_hash


def test_random_has_the_base_edge_count_and_reproduces(coco) -> None:
    base = build_graph(coco, "reweighted", raw=True).to_dense()
    edges = np.count_nonzero(base) - np.count_nonzero(np.diag(base))
    r = build_graph(coco, "random", base="reweighted", raw=True, seed=1).to_dense()
    assert np.count_nonzero(r) == edges and not np.diag(r).any() and set(np.unique(r)) == {0.0, 1.0}
    assert build_graph(coco, "random", base="reweighted", seed=1).content_hash == \
        build_graph(coco, "random", base="reweighted", seed=1).content_hash
    other = build_graph(coco, "random", base="reweighted", raw=True, seed=2).to_dense()
    assert not np.array_equal(other, r)
    with pytest.raises(ConfigError, match="--seed must be an integer >= 0"):
        build_graph(coco, "random", seed=-1)


def test_every_registry_kind_through_build_inspect_compare_export_and_train_loading(tmp_path) -> None:
    """One registry: build --kind takes every kind, and the other commands read the files with no special case."""
    runner = CliRunner()
    kinds = [k for k, spec in STATISTICAL_KINDS.items() if spec.needs != "embeddings"]
    out = runner.invoke(cli, ["build", "--dataset", "voc", "--kind", ",".join(kinds), "--top-k", "4",
                              "--out", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    files = sorted(tmp_path.glob("voc2007_*_k4.npz"))
    assert len(files) == len(kinds)
    vectors = Artifact.embeddings(labelgraph.load(files[0]).labels, np.ones((20, 3))).save(tmp_path / "e.npz")
    pytest.importorskip("torch")
    from labelgraph.train.engine import load_label_inputs

    for path in files:
        art = labelgraph.load(path)
        assert art.kind in kinds
        for args in (["inspect", str(path), "--json"], ["compare", str(path), str(files[0])],
                     ["export", str(path), "--to", "pyg"]):
            res = runner.invoke(cli, args)
            assert res.exit_code == 0, (args, res.output)
        A, _ = load_label_inputs(str(path), str(vectors), art.labels)
        np.testing.assert_array_equal(A, art.to_dense())


def test_sweep_top_k_and_min_count_axes_equal_separate_builds(coco) -> None:
    from labelgraph.inspect.sweep import sweep

    result = sweep(coco, "jaccard", top_k="2:6:2", min_count="0,20")
    assert [(r["top_k"], r["min_count"]) for r in result.rows] == [(2, 0), (2, 20), (4, 0), (4, 20), (6, 0), (6, 20)]
    for row in result.rows:
        A = build_graph(coco, "jaccard", top_k=row["top_k"], min_count=row["min_count"]).to_dense()
        off = A.copy()
        np.fill_diagonal(off, 0)
        assert row["num_edges"] == np.count_nonzero(off)
    binary = sweep(coco, "binary", tau="0.3,0.4", top_k="3")
    for row in binary.rows:
        B = build_graph(coco, "binary", tau=row["tau"], top_k=3).to_dense()
        np.fill_diagonal(B, 0)
        assert row["num_edges"] == np.count_nonzero(B)
    with pytest.raises(ConfigError, match="top_k applies to kinds built from statistics, not to a ks sweep"):
        sweep(coco, "ks", knowledge=Artifact.graph("knowledge", coco.labels, np.zeros((80, 80))), top_k="3")
    with pytest.raises(ConfigError, match="tau does not apply to a ppmi sweep"):
        sweep(coco, "ppmi", tau="0.3")


def test_top_k_on_ks_keeps_k_of_A_KS_then_normalizes(tmp_path, coco) -> None:
    from labelgraph.assemble import ks_artifact

    rng = np.random.default_rng(5)
    K = np.triu(rng.random((80, 80)) * (rng.random((80, 80)) < 0.2), 1)
    knowledge = Artifact.graph("knowledge", coco.labels, K + K.T)
    path = knowledge.save(tmp_path / "k.npz")
    out = CliRunner().invoke(cli, ["build", "--dataset", "coco", "--kind", "ks", "--knowledge", str(path),
                                   "--top-k", "3", "--out", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    saved = labelgraph.load(next(tmp_path.glob("coco2014_ks_*_k3.npz")))
    A_KS = ks_artifact(coco, knowledge, lam=0.4, tau=0.02, eta=0.4, raw=True).to_dense().astype(float)
    kept = _top_k_reference(A_KS, 3)
    d = 1 / np.sqrt(kept.sum(axis=1))
    np.testing.assert_allclose(saved.to_dense(), d[:, None] * kept * d[None, :], rtol=1e-5, atol=1e-7)
    assert saved.meta["top_k"] == 3 and saved.meta["normalized"] is True
    bad = CliRunner().invoke(cli, ["build", "--dataset", "coco", "--kind", "ks", "--knowledge", str(path),
                                   "--min-count", "2", "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "--min-count applies to kinds built from statistics, not ks" in bad.output
