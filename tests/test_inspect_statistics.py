"""`inspect` of a statistics file: P kept sparse, every figure as a hand computation gives it."""
from __future__ import annotations

import json
import logging
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

from labelgraph import Artifact
from labelgraph.inspect.summary import graph_matrix, graph_summary
from labelgraph.stats import conditional_probability
from labelgraph_cli.main import cli

LABELS = ["a", "b", "c", "d"]
N = np.array([4, 2, 2, 0])  # d has no sample
M = np.array([[0, 2, 1, 0], [2, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
# P = M / n by hand: a → b 2/4, a → c 1/4, b → a 2/2, c → a 1/2, d's row zero
P = np.array([[0, 0.5, 0.25, 0], [1.0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0, 0, 0]])


def run(*args: object) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_summary_of_statistics_by_hand(caplog: pytest.LogCaptureFixture) -> None:
    stats = Artifact.statistics(LABELS, N, M, 5)
    with caplog.at_level(logging.WARNING):
        m = graph_matrix(stats)
    assert sp.issparse(m) and m.dtype == np.float64 and m.nnz == 4
    np.testing.assert_array_equal(m.toarray(), P)
    assert "d" in caplog.text and "no sample" in caplog.text
    s = graph_summary(stats, top=3)
    assert (s.num_edges, s.components, s.isolated, s.self_loops) == (4, 2, ("d",), 0)
    assert s.density == pytest.approx(4 / 12)
    assert (s.max_degree, s.max_degree_labels, s.mean_degree) == (2, ("a",), pytest.approx(4 / 4))
    # ‖P − Pᵀ‖_F / ‖P‖_F: differences ±0.5 (a, b) and ±0.25 (a, c)
    assert s.asymmetry == pytest.approx(math.sqrt(2 * 0.25 + 2 * 0.0625) / math.sqrt(0.25 + 0.0625 + 1 + 0.25))
    assert s.strongest == (("b", "a", 1.0), ("a", "b", 0.5), ("c", "a", 0.5))
    assert (s.weight_min, s.weight_max, s.weight_mean) == (0.25, 1.0, pytest.approx(2.25 / 4))


def test_inspect_statistics_prints_what_the_dense_probability_graph_prints(tmp_path) -> None:
    """The statistics file and a probability graph holding P (computed densely by hand) inspect alike."""
    rng = np.random.default_rng(0)
    c = 60
    Y = sp.csr_matrix((rng.random((400, c)) < 0.06).astype(np.int64))
    n = np.asarray(Y.sum(axis=0)).ravel()
    counts = (Y.T @ Y).toarray()
    np.fill_diagonal(counts, 0)
    labels = [f"label {i:02d}" for i in range(c)]
    Artifact.statistics(labels, n, counts, 400).save(tmp_path / "s.npz")
    dense_P = counts / np.where(n == 0, 1, n)[:, None]
    dense_P[n == 0] = 0
    Artifact.graph("probability", labels, dense_P.astype(np.float32)).save(tmp_path / "p.npz")
    np.testing.assert_allclose(conditional_probability(sp.csr_matrix(counts), n, labels, sparse=True).toarray(), dense_P,
                               rtol=0, atol=0)
    got = json.loads(run("inspect", tmp_path / "s.npz", "--json", "--top", 4))
    want = json.loads(run("inspect", tmp_path / "p.npz", "--json", "--top", 4))
    assert got["summary"]["kind"] == "statistics"
    for key in ("num_labels", "num_edges", "density", "isolated", "mean_degree", "max_degree", "max_degree_labels",
                "components", "self_loops", "degree_histogram"):
        assert got["summary"][key] == want["summary"][key], key
    for key in ("asymmetry", "weight_min", "weight_max", "weight_mean"):  # the graph file stores float32
        assert got["summary"][key] == pytest.approx(want["summary"][key], rel=1e-6), key
    assert [e[:2] for e in got["summary"]["strongest"]] == [e[:2] for e in want["summary"]["strongest"]]
    assert {k: [x[0] for x in v] for k, v in got["neighbours"].items()} == \
        {k: [x[0] for x in v] for k, v in want["neighbours"].items()}


def test_inspect_of_20000_labels_stays_sparse(tmp_path) -> None:
    """C = 20,000 under a 1.5 GiB address-space limit: a dense P alone would be 3 GiB."""
    rng = np.random.default_rng(1)
    c, samples = 20_000, 60_000
    cols = rng.integers(0, c, samples * 3)
    Y = sp.csr_matrix((np.ones(cols.size, dtype=np.int64), cols, np.arange(0, cols.size + 1, 3)),
                      shape=(samples, c))
    Y.data[:] = 1
    Y.sum_duplicates()
    Y.data[:] = 1
    counts = (Y.T @ Y).tolil()
    counts.setdiag(0)
    Artifact.statistics([f"l{i}" for i in range(c)], np.asarray(Y.sum(axis=0)).ravel(), counts.tocsr(),
                        samples).save(tmp_path / "big.npz")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (3 << 29, 3 << 29)); "
            "from labelgraph_cli.main import cli; sys.argv = ['labelgraph', 'inspect', sys.argv[1], '--json']; cli()")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.npz")], capture_output=True, text=True,
                         timeout=240, env={"OPENBLAS_NUM_THREADS": "1", "PATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)["summary"]
    assert summary["num_labels"] == c
    off = counts.tocsr()
    off.eliminate_zeros()
    assert summary["num_edges"] == off.nnz
