"""Sweeps that cannot be computed or are too large, neighbours both ways, the no-sample warning, --json everywhere."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph_cli.main import cli
from labelgraph.inspect.sweep import graph_measures, spectral_gap

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def cli_process(*args: object) -> subprocess.CompletedProcess:
    """The CLI in its own process, so that stdout and stderr are apart."""
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *map(str, args)],
                          capture_output=True, text=True, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def coco() -> labelgraph.Artifact:
    return labelgraph.load(labelgraph.bundled_path("coco"))


def test_sweep_on_an_all_zero_knowledge_graph(tmp_path: Path, coco) -> None:
    # LAPACK's evr driver stops with "Internal Error" on this graph; the gap comes from another driver.
    zero = labelgraph.Artifact.graph("knowledge", coco.labels, np.zeros((80, 80))).save(tmp_path / "zero.npz")
    proc = cli_process("sweep", "--dataset", "coco", "--knowledge", zero, "--lam", "0.06", "--tau", "0.02",
                       "--json")
    assert proc.returncode == 0, proc.stderr
    [row] = json.loads(proc.stdout)["rows"]
    from labelgraph.assemble import ks_artifact

    A = ks_artifact(coco, labelgraph.load(zero), lam=0.06, tau=0.02, eta=0.4).to_dense().astype(np.float64)
    w = np.linalg.eigvalsh((A + A.T) / 2)
    assert row["spectral_gap"] == pytest.approx(w[-1] - w[-2], abs=1e-6)
    assert "note" not in row


def test_an_uncomputable_measure_is_nan_with_a_note() -> None:
    A = np.array([[0.5, np.nan], [np.nan, 0.5]])
    assert math.isnan(spectral_gap(A))
    row = graph_measures(A)
    assert math.isnan(row["spectral_gap"]) and row["note"].startswith("spectral_gap: not computable")


@pytest.mark.parametrize("tau, message", [
    ("0:1:1e-320", "step below 1e-12"),
    ("0:1:1e-9", "1,000,000,001 values, more than 10,000"),
    ("0:1:0", "needs a step > 0"),
    ("0:1:-0.1", "needs a step > 0"),
    ("0.1,nan", "'nan' is not a number"),
    ("0:inf:0.1", "not a range"),
    ("0:1e999:0.1", "not a finite number"),
    ("1e999", "not a finite number"),
])
def test_bad_sweep_ranges_are_refused_before_anything_is_allocated(tau: str, message: str) -> None:
    start = time.perf_counter()
    res = run("sweep", "--kind", "binary", "--dataset", "voc", "--tau", tau)
    assert time.perf_counter() - start < 5
    assert res.exit_code == 2 and message in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_a_large_axis_needs_yes(tmp_path: Path) -> None:
    res = run("sweep", "--kind", "binary", "--dataset", "voc", "--tau", "0:1:0.00005", "-q")
    assert res.exit_code == 2 and "20,001 values, more than 10,000 (pass --yes" in res.output
    res = run("sweep", "--kind", "binary", "--dataset", "voc", "--tau", "0:1:0.0000001", "--yes")
    assert res.exit_code == 2 and "more than 1,000,000" in res.output


def test_person_has_neighbours_in_the_binary_coco_graph(tmp_path: Path, coco) -> None:
    assert run("build", "--dataset", "coco", "--kind", "binary", "--out", tmp_path).exit_code == 0
    graph = labelgraph.load(tmp_path / "coco2014_binary_t0.4.npz")
    P = coco.matrix.toarray() / coco.n[:, None]
    i = coco.labels.index("person")
    gathers_from = {coco.labels[j] for j in np.flatnonzero(P[i] >= 0.4) if j != i}
    gathered_by = {coco.labels[j] for j in np.flatnonzero(P[:, i] >= 0.4) if j != i}
    assert gathers_from == set() and len(gathered_by) == 55  # P(person | x) ≥ 0.4 for 55 labels
    assert graph.neighbors("person", direction="out") == []
    assert {name for name, _ in graph.neighbors("person", direction="in")} == gathered_by
    top = graph.neighbors("person", 5)
    assert len(top) == 5 and {name for name, _ in top} <= gathered_by
    info = json.loads(run("inspect", tmp_path / "coco2014_binary_t0.4.npz", "--label", "person", "--top", "60",
                          "--json").output)
    assert info["out"] == [] and {name for name, _ in info["in"]} == gathered_by


def test_the_no_sample_warning_names_the_labels_once(tmp_path: Path) -> None:
    labels = [f"label{i:02d}" for i in range(14)]
    n = np.array([5, 3] + [0] * 12)
    M = np.zeros((14, 14), dtype=np.int64)
    M[0, 1] = M[1, 0] = 2
    stats = labelgraph.Artifact.statistics(labels, n, M, 6).save(tmp_path / "s.npz")
    proc = cli_process("build", "--stats", stats, "--kind", "probability,binary,reweighted", "--out", tmp_path / "g")
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "no sample" in line]
    assert warnings == ["WARNING: 12 labels have no sample and get a zero row in P: "
                        "label02, label03, label04, label05, label06, label07, label08, label09, label10, label11 "
                        "and 2 more"]


@pytest.mark.slow
def test_json_is_the_only_thing_on_stdout_and_keys_agree(tmp_path: Path, coco) -> None:
    knowledge = labelgraph.Artifact.graph("knowledge", coco.labels, np.ones((80, 80))).save(tmp_path / "k.npz")
    docs = {}
    for name, args in {
        "build": ["build", "--dataset", "coco", "--kind", "binary", "--out", tmp_path / "g"],
        "stats": ["stats", "--dataset", "coco", "--out", tmp_path / "g"],
        "show": ["show", tmp_path / "g" / "coco2014_binary_t0.4.npz"],
        "show_stats": ["show", tmp_path / "g" / "coco2014_statistics.npz"],
        "inspect": ["inspect", tmp_path / "g" / "coco2014_binary_t0.4.npz"],
        "compare": ["compare", tmp_path / "g" / "coco2014_binary_t0.4.npz", knowledge],
        "sweep": ["sweep", "--kind", "binary", "--dataset", "coco", "--tau", "0.4"],
    }.items():
        proc = cli_process(*args, "--json")
        assert proc.returncode == 0, (name, proc.stderr)
        docs[name] = json.loads(proc.stdout)  # nothing but one JSON document
    edges = int(np.count_nonzero(coco.matrix.toarray() / coco.n[:, None] >= 0.4))  # B_ij, diagonal 0
    assert docs["build"]["graphs"][0]["num_edges"] == edges
    assert docs["show"]["num_edges"] == edges and docs["show"]["num_labels"] == 80
    assert docs["inspect"]["summary"]["num_edges"] == edges
    assert docs["compare"]["num_edges_first"] == edges and docs["compare"]["num_edges_second"] == 80 * 79
    assert docs["sweep"]["rows"][0]["num_edges"] == edges
    assert docs["stats"]["num_samples"] == docs["show_stats"]["num_samples"] == coco.num_samples == 82081
    assert docs["stats"]["num_labels"] == docs["build"]["graphs"][0]["num_labels"] == 80

    def keys(value):
        if isinstance(value, dict):
            return set(value) | set().union(*map(keys, value.values()))
        if isinstance(value, list):
            return set().union(*map(keys, value)) if value else set()
        return set()

    every = set().union(*map(keys, docs.values()))
    assert not every & {"edges", "labels", "samples", "edges_a", "edges_b"}, every
