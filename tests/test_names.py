"""Output names: --name everywhere and checked, MULAN sets by name, KS names carry --stat-graph; bad --out."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph_cli.main import cli
from tests.conftest import require_shared


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(res) -> str:
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    return lines[0]


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", "", "a\\b"])
@pytest.mark.parametrize("command", ["build", "stats"])
def test_a_name_is_a_file_stem(tmp_path: Path, name: str, command: str) -> None:
    out = tmp_path / "deep" / "er"
    res = run(command, "--dataset", "voc", "--out", out, "--name", name)
    assert res.exit_code == 2
    assert "--name" in one_line_error(res)
    assert not out.exists() and not (tmp_path / "x_statistics.npz").exists()


def test_name_is_used_for_graphs_built_from_a_statistics_file(tmp_path: Path) -> None:
    stats = labelgraph.load(labelgraph.bundled_path("voc")).save(tmp_path / "in.npz")
    res = run("build", "--stats", stats, "--kind", "binary", "--name", "mine", "--out", tmp_path / "g")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["mine_binary_t0.4.npz"]
    res = run("stats", "--stats", stats, "--name", "again", "--out", tmp_path / "g")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "g" / "again_statistics.npz").is_file()


def test_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    existing = tmp_path / "graphs"
    existing.write_text("not a folder")
    for command in ("build", "stats"):
        line = one_line_error(run(command, "--dataset", "voc", "--out", existing))
        assert f"{existing}: is a file" in line
    assert existing.read_text() == "not a folder"


def test_an_output_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "voc2007_binary_t0.4.npz").mkdir()
    line = one_line_error(run("build", "--dataset", "voc", "--kind", "binary", "--out", tmp_path))
    assert f"{tmp_path / 'voc2007_binary_t0.4.npz'}: is a folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voc2007_binary_t0.4.npz"]  # no statistics either


def test_ks_files_differ_by_stat_graph(tmp_path: Path) -> None:
    stats = labelgraph.load(labelgraph.bundled_path("voc"))
    A = np.ones((20, 20)) - np.eye(20)
    knowledge = labelgraph.Artifact.graph("knowledge", stats.labels, A).save(tmp_path / "k.npz")
    for stat_graph in ("probability", "binary", "reweighted"):
        res = run("build", "--dataset", "voc", "--kind", "ks", "--knowledge", knowledge, "--stat-graph", stat_graph,
                  "--out", tmp_path / "g")
        assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "g").glob("*_ks_*"))
    assert names == ["voc2007_ks_binary_l0.4_t0.02_e0.4.npz", "voc2007_ks_l0.4_t0.02_e0.4.npz",
                     "voc2007_ks_reweighted_l0.4_t0.02_e0.4.npz"]
    assert {labelgraph.load(tmp_path / "g" / n).meta["stat_graph"] for n in names} == {
        "probability", "binary", "reweighted"}


@pytest.mark.parametrize("set_name", ["scene", "yeast"])
def test_mulan_outputs_are_named_after_the_set(tmp_path: Path, set_name: str) -> None:
    arff = require_shared("mulan", f"{set_name}-train.arff.gz")
    res = run("build", "--dataset", "mulan", "--annotations", arff, "--kind", "binary", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{set_name}_binary_t0.4.npz",
                                                         f"{set_name}_statistics.npz"]
    assert labelgraph.load(tmp_path / f"{set_name}_statistics.npz").num_samples == {"scene": 1211,
                                                                                   "yeast": 1500}[set_name]
    res = run("stats", "--dataset", "mulan", "--annotations", arff.parent / f"{set_name}-test.arff.gz",
              "--out", tmp_path)
    assert res.exit_code == 0, res.output
    test_stats = labelgraph.load(tmp_path / f"{set_name}_test_statistics.npz")
    assert test_stats.num_samples == {"scene": 1196, "yeast": 917}[set_name]  # MULAN's published split sizes
