"""Parameter sweeps: range parsing, rows equal to separate builds, measures checked independently."""
from __future__ import annotations

import csv
import itertools
import json

import networkx as nx
import numpy as np
import pytest

import labelgraph
from labelgraph import Artifact, build_graph, load
from labelgraph.errors import ArtifactError, ConfigError, LabelMismatchError
from labelgraph.assemble import ks_artifact
from labelgraph.inspect.sweep import graph_measures, oversmoothing, parse_values, spectral_gap, sweep

MEASURES_EXACT = ("num_edges", "density", "isolated", "mean_degree", "max_degree", "components")


# ----------------------------------------------------------------------------------------------
# parse_values
# ----------------------------------------------------------------------------------------------
def test_range_includes_its_end_and_rounds() -> None:
    assert parse_values("0.2:0.8:0.1", "lam") == (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    assert parse_values("0.01:0.05:0.01", "tau") == (0.01, 0.02, 0.03, 0.04, 0.05)
    assert parse_values("0:1:0.25", "eta") == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert parse_values("0.4:0.4:0.1", "eta") == (0.4,)
    assert parse_values("0.2:0.75:0.1", "lam") == (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # 0.75 is not a grid point


def test_lists_and_single_values() -> None:
    assert parse_values("0.01,0.02, 0.05", "tau") == (0.01, 0.02, 0.05)
    assert parse_values("0.4", "eta") == (0.4,)
    assert parse_values(0.4, "eta") == (0.4,)
    assert parse_values([0.1, 0.2], "p") == (0.1, 0.2)
    assert parse_values("1e-2", "tau") == (0.01,)


@pytest.mark.parametrize("text, message", [
    ("0.8:0.2:0.1", "lam: the range 0.8:0.2:0.1 is empty"),
    ("0.2:0.8:0", "needs a step > 0"),
    ("0.2:0.8:-0.1", "needs a step > 0"),
    ("", "no values given"),
    ("0.2:0.8", "not a range start:stop:step"),
    ("a:b:c", "not a range"),
    ("0.1,x", "'x' is not a number"),
    ("0.1,,0.2", "'' is not a number"),
])
def test_bad_ranges(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_values(text, "lam")


# ----------------------------------------------------------------------------------------------
# Measures, checked against independent computations
# ----------------------------------------------------------------------------------------------
def test_spectral_gap_against_eigvals_and_connectivity() -> None:
    # Two disconnected symmetric blocks of norm(B + I): eigenvalue 1 twice → gap 0.
    B = np.zeros((4, 4))
    B[0, 1] = B[1, 0] = B[2, 3] = B[3, 2] = 1
    A = B + np.eye(4)
    d = 1 / np.sqrt(A.sum(axis=1))
    Ahat = d[:, None] * A * d[None, :]
    assert spectral_gap(Ahat) == pytest.approx(0.0, abs=1e-12)
    # A path of 3 with self loops: eigenvalues by the general (non-symmetric) solver.
    P = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=float)
    d = 1 / np.sqrt(P.sum(axis=1))
    Phat = d[:, None] * P * d[None, :]
    ev = np.sort(np.linalg.eigvals(Phat).real)[::-1]
    assert spectral_gap(Phat) == pytest.approx(ev[0] - ev[1], abs=1e-12)
    # An asymmetric matrix is measured through its symmetric part.
    Q = np.array([[0.5, 0.5, 0], [0.1, 0.8, 0.1], [0, 0.3, 0.7]])
    ev = np.sort(np.linalg.eigvals((Q + Q.T) / 2).real)[::-1]
    assert spectral_gap(Q) == pytest.approx(ev[0] - ev[1], abs=1e-12)


def test_oversmoothing_is_the_mean_pairwise_cosine() -> None:
    rng = np.random.default_rng(0)
    A = rng.random((6, 6))
    E = rng.normal(size=(6, 4))
    X = A @ A @ E
    cos = [X[i] @ X[j] / (np.linalg.norm(X[i]) * np.linalg.norm(X[j]))
           for i in range(6) for j in range(6) if i != j]
    assert oversmoothing(A, E, ks=(2,))[2] == pytest.approx(np.mean(cos), abs=1e-12)


def test_graph_measures_against_networkx() -> None:
    rng = np.random.default_rng(1)
    A = rng.random((12, 12)) * (rng.random((12, 12)) < 0.15)
    np.fill_diagonal(A, [0.5] * 6 + [0] * 6)
    m = graph_measures(A)
    D = nx.DiGraph()
    D.add_nodes_from(range(12))
    D.add_edges_from((i, j) for i, j in zip(*np.nonzero(A)) if i != j)
    G = D.to_undirected()
    assert m["num_edges"] == D.number_of_edges()  # per direction
    assert m["density"] == pytest.approx(nx.density(D))
    assert m["components"] == nx.number_weakly_connected_components(D)
    assert m["isolated"] == nx.number_of_isolates(G)
    assert m["max_degree"] == max(d for _, d in G.degree())
    assert m["mean_degree"] == pytest.approx(np.mean([d for _, d in G.degree()]))
    # the same definitions for dense or sparse input
    import scipy.sparse as sp
    base = m
    for matrix in (A, sp.csr_matrix(A)):
        got = graph_measures(matrix)
        assert {k: got[k] for k in ("num_edges", "density", "isolated", "max_degree", "mean_degree")} == \
            {k: base[k] for k in ("num_edges", "density", "isolated", "max_degree", "mean_degree")}


# ----------------------------------------------------------------------------------------------
# Sweep rows equal separate builds
# ----------------------------------------------------------------------------------------------
def synthetic(c: int = 14, seed: int = 0) -> tuple[Artifact, Artifact, Artifact]:
    rng = np.random.default_rng(seed)
    labels = [f"label {i}" for i in range(c)]
    Y = (rng.random((300, c)) < rng.uniform(0.05, 0.4, size=c)).astype(np.int64)
    n = Y.sum(axis=0)
    M = Y.T @ Y
    np.fill_diagonal(M, 0)
    stats = Artifact.statistics(labels, n, M, 300, {"dataset": "synthetic"})
    K = rng.random((c, c)) * (rng.random((c, c)) < 0.3)
    K = np.maximum(K, K.T)
    np.fill_diagonal(K, 0)
    K[3, :] = K[:, 3] = 0  # a label the knowledge graph does not know
    knowledge = Artifact.graph("knowledge", labels, K)
    emb = Artifact.embeddings(labels, rng.normal(size=(c, 8)))
    return stats, knowledge, emb


def assert_row_matches(row: dict, artifact: Artifact) -> None:
    expected = graph_measures(artifact.matrix, None)
    for key in MEASURES_EXACT:
        assert row[key] == expected[key], key
    assert row["spectral_gap"] == pytest.approx(expected["spectral_gap"], abs=2e-6)


def test_ks_sweep_rows_equal_separate_builds() -> None:
    stats, knowledge, emb = synthetic()
    result = sweep(stats, "ks", knowledge=knowledge, lam="0:1:0.5", tau="0,0.05,0.2", eta="0,0.4,1",
                   embeddings=emb)
    assert len(result.rows) == 27
    grid = list(itertools.product((0.0, 0.5, 1.0), (0.0, 0.05, 0.2), (0.0, 0.4, 1.0)))
    assert [(r["lam"], r["tau"], r["eta"]) for r in result.rows] == grid
    for row, (lam, tau, eta) in zip(result.rows, grid):
        art = ks_artifact(stats, knowledge, lam=lam, tau=tau, eta=eta)
        assert_row_matches(row, art)
        smooth = oversmoothing(art.matrix, emb.vectors, (2, 4))
        assert row["oversmoothing_k2"] == pytest.approx(smooth[2], abs=1e-5, nan_ok=True)
        assert row["oversmoothing_k4"] == pytest.approx(smooth[4], abs=1e-5, nan_ok=True)


@pytest.mark.parametrize("stat_graph", ["binary", "reweighted"])
def test_ks_sweep_with_a_thresholded_statistical_graph(stat_graph: str) -> None:
    stats, knowledge, _ = synthetic(seed=1)
    result = sweep(stats, "ks", knowledge=knowledge, lam="0.3,0.7", tau="0.02", eta="0.4",
                   stat_graph=stat_graph, stat_tau="0.3", p="0.25")
    assert result.fixed == {"stat_graph": stat_graph, "stat_tau": 0.3, "p": 0.25}
    for row in result.rows:
        assert_row_matches(row, ks_artifact(stats, knowledge, lam=row["lam"], tau=0.02, eta=0.4,
                                            stat_graph=stat_graph, stat_tau=0.3, p=0.25))


def test_saved_sweep_artifacts_are_the_built_ones(tmp_path) -> None:
    stats, knowledge, _ = synthetic()
    result = sweep(stats, "ks", knowledge=knowledge, lam="0.4,0.6", tau="0.02", eta="0.4",
                   save_dir=tmp_path, stem="toy")
    assert [p.name for p in result.saved] == ["toy_ks_l0.4_t0.02_e0.4.npz", "toy_ks_l0.6_t0.02_e0.4.npz"]
    for path, lam in zip(result.saved, (0.4, 0.6)):
        assert load(path).content_hash == ks_artifact(stats, knowledge, lam=lam, tau=0.02, eta=0.4).content_hash
    first = result.saved[0]
    before = (first.read_bytes(), first.stat().st_mtime_ns)
    again = sweep(stats, "ks", knowledge=knowledge, lam="0.4", tau="0.02", eta="0.4", save_dir=tmp_path, stem="toy")
    assert again.saved == [first] and (first.read_bytes(), first.stat().st_mtime_ns) == before  # same content: kept
    ks_artifact(stats, knowledge, lam=0.9, tau=0.02, eta=0.4).save(first, force=True)
    with pytest.raises(ArtifactError, match=r"would change \(parameters: lam 0.9 -> 0.4"):
        sweep(stats, "ks", knowledge=knowledge, lam="0.4", tau="0.02", eta="0.4", save_dir=tmp_path, stem="toy")


@pytest.mark.parametrize("kind, axes", [
    ("binary", {"tau": "0.1:0.5:0.2"}),
    ("reweighted", {"tau": "0.2,0.4", "p": "0.2,0.3"}),
    ("mlgcn", {"tau": "0.4", "p": "0.25"}),
])
def test_statistical_sweep_rows_equal_build_graph(kind: str, axes: dict) -> None:
    stats = load(labelgraph.bundled_path("coco"))
    result = sweep(stats, kind, **axes)
    assert result.rows
    for row in result.rows:
        params = {k: row[k] for k in result.params}
        art = build_graph(stats, kind, **params)
        assert_row_matches(row, art)


def test_oversmoothing_grows_with_k_on_coco() -> None:
    stats = load(labelgraph.bundled_path("coco"))
    E = Artifact.embeddings(stats.labels, np.random.default_rng(7).normal(size=(80, 64)))
    result = sweep(stats, "reweighted", tau="0.02,0.05", p="0.2,0.5", embeddings=E)
    for row in result.rows:
        assert row["components"] == 1, row  # connected graphs only
        base = oversmoothing(np.identity(80), E.vectors, (0,))[0]
        assert base < row["oversmoothing_k2"] < row["oversmoothing_k4"], row


# ----------------------------------------------------------------------------------------------
# Bad input and outputs
# ----------------------------------------------------------------------------------------------
def test_too_many_settings_need_yes() -> None:
    stats, knowledge, _ = synthetic(c=5)
    with pytest.raises(ConfigError, match="10,201 settings .*--yes"):
        sweep(stats, "ks", knowledge=knowledge, lam="0:1:0.01", tau="0:1:0.01", eta="0.4")
    with pytest.raises(ConfigError, match="6 values, more than 5 .*--yes"):
        sweep(stats, "binary", tau="0.1:0.6:0.1", max_settings=5)
    assert len(sweep(stats, "binary", tau="0.1:0.6:0.1", max_settings=5, yes=True).rows) == 6


def test_ks_sweep_needs_knowledge_and_checks_labels() -> None:
    stats, knowledge, emb = synthetic()
    with pytest.raises(ConfigError, match="labelgraph build --kind knowledge"):
        sweep(stats, "ks", lam="0.4")
    other = Artifact.graph("knowledge", [f"x{i}" for i in range(14)], np.zeros((14, 14)))
    with pytest.raises(LabelMismatchError, match="only in statistics: label 0"):
        sweep(stats, "ks", knowledge=other)
    shuffled = knowledge.reorder(list(reversed(knowledge.labels)))
    with pytest.raises(LabelMismatchError, match="--align"):
        sweep(stats, "ks", knowledge=shuffled)
    a = sweep(stats, "ks", knowledge=shuffled, align=True, embeddings=emb.reorder(list(reversed(emb.labels))))
    b = sweep(stats, "ks", knowledge=knowledge, embeddings=emb)
    assert a.rows == b.rows


@pytest.mark.parametrize("kind, kwargs, message", [
    ("binary", {"lam": "0.4"}, "lam does not apply to a binary sweep"),
    ("binary", {"p": "0.2"}, "p does not apply to a binary sweep"),
    ("reweighted", {"eta": "0.4"}, "eta does not apply"),
    ("binary", {"tau": "0.2:1.2:0.5"}, "tau must be in \\[0, 1\\], got 1.2"),
    ("nope", {}, "unknown sweep kind 'nope'"),
])
def test_parameters_that_do_not_apply(kind: str, kwargs: dict, message: str) -> None:
    stats, _, _ = synthetic(c=5)
    with pytest.raises(ConfigError, match=message):
        sweep(stats, kind, **kwargs)


def test_ks_parameter_ranges_are_checked() -> None:
    stats, knowledge, _ = synthetic(c=5)
    with pytest.raises(ConfigError, match="lam must be in"):
        sweep(stats, "ks", knowledge=knowledge, lam="0.5:1.5:0.5")
    with pytest.raises(ConfigError, match="tau must be >= 0"):
        sweep(stats, "ks", knowledge=knowledge, tau="-0.1,0.1")
    with pytest.raises(ConfigError, match="p takes one value in a ks sweep"):
        sweep(stats, "ks", knowledge=knowledge, p="0.1,0.2")


def test_csv_and_json_outputs(tmp_path) -> None:
    stats, knowledge, _ = synthetic()
    result = sweep(stats, "ks", knowledge=knowledge, lam="0.2:0.6:0.2", tau="0.02")
    result.to_csv(tmp_path / "s.csv")
    result.to_json(tmp_path / "s.json")
    with open(tmp_path / "s.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["lam"]) for r in rows] == [0.2, 0.4, 0.6]
    assert [int(r["num_edges"]) for r in rows] == [r["num_edges"] for r in result.rows]
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["kind"] == "ks" and doc["params"] == ["lam", "tau", "eta"] and len(doc["rows"]) == 3
    assert doc["rows"][1]["spectral_gap"] == pytest.approx(result.rows[1]["spectral_gap"])
