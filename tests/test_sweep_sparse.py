"""``sweep --sparse`` / ``sweep(sparse=True)``: every kind swept on the sparse path equals the dense sweep to 1e-6."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import labelgraph
from labelgraph.inspect.sweep import SWEEP_KINDS, sweep
from tests.test_sparse_graphs import knowledge_of, zipf_statistics

GRIDS = {
    "ks": {"lam": "0.3,0.6", "tau": "0.01,0.05", "eta": "0,0.4,1"},
    "binary": {"tau": "0.05,0.3"},
    "reweighted": {"tau": "0.05,0.3", "p": "0.2,0.25"},
    "mlgcn": {"tau": "0.05,0.3", "p": "0.25"},
    "probability": {},
}


@pytest.fixture(scope="module")
def stats300() -> labelgraph.Artifact:
    return zipf_statistics(300, 4000, 4, seed=3, unseen=3)


@pytest.fixture(scope="module")
def vectors(stats300) -> labelgraph.Artifact:
    rng = np.random.default_rng(5)
    return labelgraph.Artifact.embeddings(stats300.labels, rng.standard_normal((stats300.num_labels, 16)))


def inputs(kind: str, stats: labelgraph.Artifact, vectors: labelgraph.Artifact) -> dict:
    spec = labelgraph.graphs.STATISTICAL_KINDS.get(kind)
    extra: dict = {"embeddings": vectors}  # every kind also measures over-smoothing
    if kind == "ks":
        extra["knowledge"] = knowledge_of(stats, seed=4)
    elif spec.needs == "base":
        extra["seed"] = "0,1"
    grid = GRIDS.get(kind, {})
    return {**extra, **grid}


def assert_rows_equal(dense: list[dict], sparse: list[dict]) -> None:
    assert len(dense) == len(sparse) > 0
    for d, s in zip(dense, sparse):
        assert d.keys() == s.keys()
        for key in d:
            if isinstance(d[key], float):
                assert not math.isnan(d[key]) and not math.isnan(s[key]), key  # every column is computed
                assert s[key] == pytest.approx(d[key], abs=1e-6, rel=0), key
            else:
                assert s[key] == d[key], key


@pytest.mark.parametrize("kind", list(SWEEP_KINDS))
def test_sparse_sweep_equals_dense_sweep_for_every_kind(stats300, vectors, kind, tmp_path: Path) -> None:
    options = inputs(kind, stats300, vectors)
    dense = sweep(stats300, kind, sparse=False, **options)
    sparse = sweep(stats300, kind, sparse=True, save_dir=tmp_path, **options)
    assert "spectral_gap" in dense.columns and "oversmoothing_k4" in dense.columns
    assert_rows_equal(dense.rows, sparse.rows)
    for path in sparse.saved:  # the saved graphs are the sparse path's: CSR from M to the file
        assert sp.issparse(labelgraph.load(path).matrix)


def test_sparse_spectral_gap_equals_numpy_eigenvalues(stats300) -> None:
    result = sweep(stats300, "binary", tau="0.05", sparse=True)
    A = labelgraph.build_graph(stats300, "binary", tau=0.05, sparse=False).to_dense().astype(np.float64)
    w = np.linalg.eigvalsh((A + A.T) / 2)
    assert result.rows[0]["spectral_gap"] == pytest.approx(w[-1] - w[-2], abs=1e-6)


def test_cli_sweep_sparse_equals_dense(stats300, tmp_path: Path) -> None:
    stats_file = stats300.save(tmp_path / "random_statistics.npz")
    docs = {}
    for flag in ("--sparse", "--dense"):
        proc = subprocess.run([sys.executable, "-m", "labelgraph_cli.main", "sweep", "--kind", "reweighted",
                               "--stats", str(stats_file), "--tau", "0.05,0.2", "--p", "0.2", "--json", flag],
                              capture_output=True, text=True, check=True)
        docs[flag] = json.loads(proc.stdout)
    assert_rows_equal(docs["--dense"]["rows"], docs["--sparse"]["rows"])


def test_the_sparse_sweep_builds_no_dense_matrix(stats300, vectors, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the dense limit below C, every dense C × C step refuses; the sparse sweep of every kind still runs."""
    from labelgraph._dense import DENSE_LIMIT_ENV
    from labelgraph.errors import DataError

    monkeypatch.setenv(DENSE_LIMIT_ENV, "100")
    for kind in SWEEP_KINDS:
        options = {k: v for k, v in inputs(kind, stats300, vectors).items() if k in ("knowledge", "embeddings")}
        result = sweep(stats300, kind, sparse=True, **options)
        assert all(not math.isnan(row["spectral_gap"]) for row in result.rows), kind
    with pytest.raises(DataError, match="above the limit of 100 labels"):
        sweep(stats300, "binary", sparse=False)
