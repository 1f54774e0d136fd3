"""labelgraph.api: each command as a Python call, checked against counts worked out by hand."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import labelgraph
from labelgraph.api import (Source, build_outputs, dataset_rows, file_kind, label_source, neighbours,
                            parse_kinds, parse_multipliers, read_label_file, strongest_out, summarize,
                            sweep_outputs, write_statistics)
from labelgraph.datasets import DATASETS
from labelgraph.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[1]

# four samples: {a, b}, {a}, {b, c}, {a, b, c}
#   n = (a 3, b 3, c 2); M_ab = 2, M_ac = 1, M_bc = 2
#   P_ij = M_ij / n_i: a→b 2/3, a→c 1/3, b→a 2/3, b→c 2/3, c→a 1/2, c→b 1
#   binary at τ = 0.4 keeps every pair but a→c: 5 edges
ROWS = "s1,a;b\ns2,a\ns3,b;c\ns4,a;b;c\n"


@pytest.fixture
def mine(tmp_path: Path) -> Source:
    path = tmp_path / "mine.csv"
    path.write_text(ROWS)
    return Source("csv", annotations=path)


def test_build_outputs_writes_and_reports_each_graph(mine: Source, tmp_path: Path) -> None:
    out = tmp_path / "graphs"
    result = build_outputs("binary,probability", mine, out=out, name="mine")
    assert result.statistics == str(out / "mine_statistics.npz") and result.statistics_status == "new"
    binary, probability = result.graphs
    assert (binary["kind"], binary["params"], binary["num_edges"], binary["num_samples"]) == ("binary", "tau=0.4", 5, 4)
    assert binary["path"] == str(out / "mine_binary_t0.4.npz") and binary["status"] == "new"
    P = labelgraph.load(probability["path"]).to_dense()
    np.testing.assert_allclose(P, [[0, 2 / 3, 1 / 3], [2 / 3, 0, 2 / 3], [1 / 2, 1, 0]], rtol=1e-6)  # SPEC §1: M_ii = 0
    again = build_outputs(["binary", "probability"], mine, out=out, name="mine")
    assert [g["status"] for g in again.graphs] == ["unchanged", "unchanged"]
    assert again.to_dict()["graphs"][0]["num_edges"] == 5


def test_build_outputs_refuses_before_writing(mine: Source, tmp_path: Path) -> None:
    out = tmp_path / "graphs"
    with pytest.raises(ConfigError, match="unknown --kind binray"):
        build_outputs("binray", mine, out=out)
    with pytest.raises(ConfigError, match="--kind cosine needs label embeddings"):
        build_outputs("binary,cosine", mine, out=out)
    with pytest.raises(ConfigError, match="--order does not apply to dataset 'csv'"):
        build_outputs("binary", Source("csv", annotations=mine.annotations, options={"order": "x"}), out=out)
    with pytest.raises(ConfigError, match="--name '../x'"):
        build_outputs("binary", mine, out=out, name="../x")
    assert not out.exists()


def test_write_statistics_counts(mine: Source, tmp_path: Path) -> None:
    info = write_statistics(mine, out=tmp_path, name="mine")
    assert (info["num_labels"], info["num_samples"], info["label_instances"], info["cooccurring_pairs"]) == (3, 4, 8, 3)
    assert info["path"] == str(tmp_path / "mine_statistics.npz")


def test_summarize_statistics_graphs_and_embeddings(mine: Source, tmp_path: Path) -> None:
    path = write_statistics(mine, out=tmp_path, name="mine")["path"]
    info = summarize(path)
    assert info["most_frequent"] == [["a", 3], ["b", 3], ["c", 2]] and info["labels_per_sample"] == 2.0
    g = labelgraph.Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    assert (summarize(g)["num_edges"], summarize(g)["isolated"]) == (2, 1)
    e = labelgraph.Artifact.embeddings(["a", "b", "c"], [[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]])
    assert (summarize(e)["dimension"], summarize(e)["zero_rows"]) == (2, 1)


def test_neighbours_and_strongest_out_break_ties_by_name() -> None:
    g = labelgraph.Artifact.graph("binary", ["c", "b", "a"], [[0, 0.5, 0.5], [1, 0, 0], [0.25, 0, 0]])
    info = neighbours(g, "c", 5)
    assert info["out"] == [("a", 0.5), ("b", 0.5)] and info["in"] == [("b", 1.0), ("a", 0.25)]
    assert strongest_out(g, 1) == {"c": [("a", 0.5)], "b": [("c", 1.0)], "a": [("c", 0.25)]}


def test_option_parsers() -> None:
    assert parse_kinds(["ks", " binary "]) == ["ks", "binary"]
    with pytest.raises(ConfigError, match="unknown --kind ','"):
        parse_kinds(",")
    assert parse_multipliers(["IsA=2", " PartOf = 0.5"]) == {"IsA": 2.0, "PartOf": 0.5}
    with pytest.raises(ConfigError, match="--multiplier 'IsA=two'"):
        parse_multipliers(["IsA=two"])
    assert (file_kind("random", "ppmi"), file_kind("binary", symmetrize="mean")) == ("random-ppmi", "binary-mean")


def test_label_source_reads_one_of_three(tmp_path: Path) -> None:
    path = tmp_path / "my_labels.txt"
    path.write_text("# the order\n\ncat\n dog\n")
    assert read_label_file(path) == ["cat", "dog"]
    assert label_source(labels_file=path).stem == "my_labels"
    assert label_source("coco").labels[0] == "airplane" and label_source("coco").stem == "coco2014"
    with pytest.raises(ConfigError, match="give exactly one of --dataset, --labels, --from"):
        label_source("coco", path)
    path.write_text("cat\ndog\ncat\n")
    with pytest.raises(DataError, match="my_labels.txt:3: label 'cat' listed twice \\(first on line 1\\)"):
        read_label_file(path)


def test_sweep_outputs_writes_both_files_or_neither(tmp_path: Path) -> None:
    csv_out, json_out = tmp_path / "s.csv", tmp_path / "s.json"
    json_out.mkdir()
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        sweep_outputs("binary", dataset="voc", tau="0.4", csv_out=csv_out, json_out=json_out)
    assert not csv_out.exists()
    json_out.rmdir()
    result = sweep_outputs("binary", dataset="voc", tau="0.4", csv_out=csv_out, json_out=json_out)
    assert csv_out.read_text().splitlines()[1].startswith("0.4,") and json_out.exists()
    assert [r["tau"] for r in result.rows] == [0.4]


def test_dataset_rows_are_the_registry() -> None:
    assert [r["name"] for r in dataset_rows()] == list(DATASETS)


def test_the_cli_imports_no_private_module_and_handles_no_error_itself() -> None:
    offenders = []
    for path in sorted((ROOT / "cli").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")[1:]
                if name.startswith("labelgraph.") and any(x.startswith("_") and not x.endswith("__") for x in parts):
                    offenders.append(f"{path.name}: {name}")
            if isinstance(node, ast.ExceptHandler) and path.name not in ("main.py", "_common.py"):
                caught = ast.unparse(node.type) if node.type is not None else "everything"
                # allowed: probing for an optional dependency, and turning a bad option value into click's error
                reraises_click = any(isinstance(n, ast.Raise) and "click." in ast.unparse(n) for n in node.body)
                if caught != "ImportError" and not reraises_click:
                    offenders.append(f"{path.name}: except {caught}")
    assert offenders == []


def test_docs_api_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import re

    block = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S).group(1)
    exec(compile(block, "docs/api.md", "exec"), {})
    edges, samples = capsys.readouterr().out.splitlines()
    assert samples == "5011"  # VOC 2007 trainval (bundled)
    kinds = [k for k, _ in eval(edges)]
    assert kinds == ["binary", "reweighted"]
