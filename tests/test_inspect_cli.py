"""The sweep, inspect, compare, export and plot commands through click's CliRunner."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import labelgraph
from labelgraph import Artifact, build_graph, load
from labelgraph.assemble import ks_artifact
from labelgraph.inspect.sweep import graph_measures
from labelgraph_cli.main import cli

COCO_EDGES = [("person", "bicycle"), ("dog", "cat"), ("fork", "knife"), ("knife", "spoon"), ("cup", "bowl"),
              ("car", "truck"), ("bus", "truck"), ("horse", "cow"), ("sheep", "cow")]


@pytest.fixture(scope="module")
def coco() -> Artifact:
    return load(labelgraph.bundled_path("coco"))


@pytest.fixture
def files(tmp_path, coco):
    labels = coco.labels
    K = np.zeros((80, 80))
    for a, b in COCO_EDGES:
        i, j = labels.index(a), labels.index(b)
        K[i, j] = K[j, i] = 1.0
    knowledge = Artifact.graph("knowledge", labels, K, {"source": "hand-written"})
    paths = {
        "knowledge": knowledge.save(tmp_path / "knowledge.npz"),
        "ks": ks_artifact(coco, knowledge, lam=0.4, tau=0.02, eta=0.4).save(tmp_path / "ks.npz"),
        "binary": build_graph(coco, "binary").save(tmp_path / "binary.npz"),
    }
    return knowledge, paths


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# ----------------------------------------------------------------------------------------------
# sweep
# ----------------------------------------------------------------------------------------------
def test_sweep_ks_writes_csv_json_and_artifacts(tmp_path, coco, files) -> None:
    knowledge, paths = files
    out = run("sweep", "--kind", "ks", "--dataset", "coco", "--knowledge", paths["knowledge"],
              "--lam", "0.2:0.8:0.3", "--tau", "0.01,0.02", "--eta", "0.4",
              "--csv", tmp_path / "s.csv", "--save-json", tmp_path / "s.json", "--save", tmp_path / "graphs", "-q")
    assert out.exit_code == 0, out.output
    with open(tmp_path / "s.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(float(r["lam"]), float(r["tau"])) for r in rows] == [
        (0.2, 0.01), (0.2, 0.02), (0.5, 0.01), (0.5, 0.02), (0.8, 0.01), (0.8, 0.02)]
    for r in rows:
        art = ks_artifact(coco, knowledge, lam=float(r["lam"]), tau=float(r["tau"]), eta=0.4)
        expected = graph_measures(art.matrix)
        assert int(r["num_edges"]) == expected["num_edges"] and int(r["components"]) == expected["components"]
        assert float(r["spectral_gap"]) == pytest.approx(expected["spectral_gap"], abs=1e-5)
    assert len(json.loads((tmp_path / "s.json").read_text())["rows"]) == 6
    saved = sorted(p.name for p in (tmp_path / "graphs").iterdir())
    assert saved[0] == "coco2014_ks_l0.2_t0.01_e0.4.npz" and len(saved) == 6


def test_sweep_prints_a_table(files) -> None:
    out = run("sweep", "--kind", "binary", "--dataset", "voc", "--tau", "0.3,0.4")
    assert out.exit_code == 0
    header = out.output.splitlines()[0].split()
    assert header[:3] == ["tau", "num_edges", "density"] and "spectral_gap" in header
    assert len(out.output.strip().splitlines()) == 4


def test_sweep_from_a_statistics_file_with_embeddings(tmp_path, coco) -> None:
    stats_path = coco.save(tmp_path / "coco2014_statistics.npz")
    emb = Artifact.embeddings(coco.labels, np.random.default_rng(0).normal(size=(80, 16)))
    emb_path = emb.save(tmp_path / "emb.npz")
    out = run("sweep", "--kind", "reweighted", "--stats", stats_path, "--tau", "0.05", "--p", "0.2",
              "--embeddings", emb_path, "--save-json", tmp_path / "s.json", "-q")
    assert out.exit_code == 0, out.output
    row = json.loads((tmp_path / "s.json").read_text())["rows"][0]
    assert row["oversmoothing_k2"] < row["oversmoothing_k4"]


@pytest.mark.parametrize("args, message", [
    (["--kind", "ks", "--dataset", "coco"], "labelgraph build --kind knowledge"),
    (["--kind", "binary", "--dataset", "coco", "--tau", "0.8:0.2:0.1"], "range 0.8:0.2:0.1 is empty"),
    (["--kind", "binary", "--dataset", "coco", "--tau", "0.5:0.2:0.1"], "is empty"),
    (["--kind", "binary", "--dataset", "coco", "--tau", "1.5"], "tau must be in [0, 1]"),
    (["--kind", "binary"], "pass --dataset"),
])
def test_sweep_bad_input(args, message) -> None:
    out = run("sweep", *args)
    assert out.exit_code == 2 and message in out.output
    assert "Traceback" not in out.output


def test_sweep_bad_ks_parameters_and_too_many_settings(files) -> None:
    _, paths = files
    base = ["sweep", "--kind", "ks", "--dataset", "coco", "--knowledge", paths["knowledge"]]
    out = run(*base, "--lam", "1.2")
    assert out.exit_code == 2 and "lam must be in [0, 1], got 1.2" in out.output
    out = run(*base, "--eta", "-0.1")
    assert out.exit_code == 2 and "eta must be in [0, 1]" in out.output
    out = run(*base, "--tau", "-0.01")
    assert out.exit_code == 2 and "tau must be >= 0" in out.output
    out = run(*base, "--lam", "0:1:0.01", "--tau", "0:1:0.01")
    assert out.exit_code == 2 and "10,201 settings" in out.output and "--yes" in out.output


def test_sweep_mismatched_labels(tmp_path, files) -> None:
    knowledge, _ = files
    voc_like = Artifact.graph("knowledge", [f"x{i}" for i in range(80)], np.zeros((80, 80))).save(tmp_path / "k.npz")
    out = run("sweep", "--kind", "ks", "--dataset", "coco", "--knowledge", voc_like)
    assert out.exit_code == 2 and "label sets differ: only in statistics: airplane" in out.output
    shuffled = knowledge.reorder(list(reversed(knowledge.labels))).save(tmp_path / "shuffled.npz")
    out = run("sweep", "--kind", "ks", "--dataset", "coco", "--knowledge", shuffled)
    assert out.exit_code == 2 and "--align" in out.output
    assert run("sweep", "--kind", "ks", "--dataset", "coco", "--knowledge", shuffled, "--align", "-q").exit_code == 0


# ----------------------------------------------------------------------------------------------
# inspect, compare, export, plot
# ----------------------------------------------------------------------------------------------
def test_inspect_summary(files) -> None:
    _, paths = files
    out = run("inspect", paths["binary"], "--top", "2")
    assert out.exit_code == 0, out.output
    text = out.output
    stats = load(labelgraph.bundled_path("coco"))
    B = stats.conditional_probability() >= 0.4
    np.fill_diagonal(B, False)
    edges = int(np.count_nonzero(B))  # per direction, as `show` counts them
    assert f"edges                 {edges}" in text
    assert "degree histogram" in text and "strongest neighbours (top 2)" in text
    assert "person" in text and "isolated labels" in text


def test_inspect_label_and_json(files, coco) -> None:
    _, paths = files
    out = run("inspect", paths["ks"], "--label", "person", "--top", "3", "--json")
    assert out.exit_code == 0
    info = json.loads(out.output)
    ks = load(paths["ks"]).to_dense()
    i = coco.labels.index("person")
    column = [(coco.labels[j], ks[j, i]) for j in range(80) if j != i and ks[j, i] > 0]
    top_in = sorted(column, key=lambda t: -t[1])[:3]
    assert [name for name, _ in info["in"]] == [name for name, _ in top_in]
    assert info["degree"] == 79
    full = json.loads(run("inspect", paths["ks"], "--json").output)
    assert full["summary"]["num_labels"] == 80 and len(full["neighbours"]) == 80


def test_inspect_unknown_label_suggests_names(files) -> None:
    _, paths = files
    out = run("inspect", paths["ks"], "--label", "persn")
    assert out.exit_code == 2
    assert "label 'persn' is not in this ks artifact (did you mean: person?)" in out.output


def test_inspect_missing_and_broken_files(tmp_path) -> None:
    out = run("inspect", tmp_path / "nope.npz")
    assert out.exit_code == 2 and "no such file" in out.output
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    out = run("inspect", tmp_path / "bad.npz")
    assert out.exit_code == 2 and "bad.npz" in out.output


def test_compare(files) -> None:
    _, paths = files
    out = run("compare", paths["binary"], paths["ks"], "--json")
    assert out.exit_code == 0
    doc = json.loads(out.output)
    a, b = load(paths["binary"]).to_dense(), load(paths["ks"]).to_dense()
    off = ~np.eye(80, dtype=bool)
    sa, sb = (a != 0) & off, (b != 0) & off
    assert doc["edge_jaccard"] == pytest.approx(np.count_nonzero(sa & sb) / np.count_nonzero(sa | sb))
    assert doc["frobenius"] == pytest.approx(np.linalg.norm(a.astype(float) - b), rel=1e-5)
    assert doc["alignment"] == "identical"
    text = run("compare", paths["binary"], paths["ks"]).output
    assert "edge Jaccard" in text and "edges only in ks.npz" in text


def test_compare_disjoint_labels(tmp_path) -> None:
    a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]]).save(tmp_path / "a.npz")
    b = Artifact.graph("binary", ["x", "y"], [[0, 1], [1, 0]]).save(tmp_path / "b.npz")
    out = run("compare", a, b)
    assert out.exit_code == 2 and "share 0 label(s)" in out.output


def test_export_every_format(tmp_path, files) -> None:
    _, paths = files
    for fmt in ("graphml", "gexf", "csv", "edgelist", "pyg"):
        out = run("export", paths["ks"], "--to", fmt)
        assert out.exit_code == 0, out.output
    with np.load(tmp_path / "ks.pyg.npz") as npz:
        assert npz["edge_index"].dtype == np.int64 and npz["edge_weight"].dtype == np.float32
    csv_path = tmp_path / "ks.csv"
    before = csv_path.read_bytes()
    again = run("export", paths["ks"], "--to", "csv")  # the same bytes again: kept, not an error
    assert again.exit_code == 0 and csv_path.read_bytes() == before, again.output
    other = run("export", paths["binary"], "--to", "csv", "--out", csv_path)
    assert other.exit_code == 2 and "would change" in other.output and "--force" in other.output
    assert run("export", paths["binary"], "--to", "csv", "--out", csv_path, "--force").exit_code == 0
    assert csv_path.read_bytes() != before
    custom = run("export", paths["ks"], "--to", "pyg", "--out", tmp_path / "x" / "ks_pyg.npz")
    assert custom.exit_code == 0 and (tmp_path / "x" / "ks_pyg.npz").is_file()


def test_export_unknown_format(files) -> None:
    _, paths = files
    out = run("export", paths["ks"], "--to", "xml")
    assert out.exit_code == 2 and "'xml' is not one of" in out.output


@pytest.mark.slow
def test_plot(tmp_path, files) -> None:
    _, paths = files
    out = run("plot", paths["ks"], "--out", tmp_path / "ks.png", "--size", "3", "--dpi", "60")
    assert out.exit_code == 0, out.output
    with Image.open(tmp_path / "ks.png") as image:
        assert image.size == (360, 180)
    out = run("plot", paths["ks"], "--out", tmp_path / "ks.gif")
    assert out.exit_code == 2 and "unknown figure format" in out.output


def test_every_command_help_has_an_example() -> None:
    for name in ("sweep", "inspect", "compare", "export", "plot"):
        out = run(name, "--help")
        assert out.exit_code == 0 and "Example:" in out.output, name
