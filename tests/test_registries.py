"""One registry per concept: every list a user sees (CLI choices, `labelgraph datasets`, sweep, docs) is read
from it, and a new graph kind is one registry entry plus its function."""
from __future__ import annotations

import csv
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph.datasets import DATASETS, canonical_name, default_splits, get_reader, read_dataset, reader_table
from labelgraph.errors import ConfigError
from labelgraph.graphs import GRAPH_KINDS, STATISTICAL_KINDS, symmetric_normalize
from labelgraph.graphs.kinds import GraphKind
from labelgraph.inspect.export import EXPORT_FORMATS
from labelgraph.inspect.sweep import SWEEP_KINDS
from labelgraph_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def _choices(command: str, option: str) -> tuple[str, ...]:
    from labelgraph_cli.main import LazyGroup

    group = cli
    assert isinstance(group, LazyGroup)
    cmd = group.get_command(None, command)  # type: ignore[arg-type]
    [param] = [p for p in cmd.params if option in p.opts]
    return tuple(param.type.choices)


# -- datasets ------------------------------------------------------------------------------------------

def test_docs_reader_table_is_the_registry() -> None:
    text = (ROOT / "docs" / "datasets.md").read_text()
    block = re.search(r"<!-- reader-table[^>]*-->\n(.*?)\n<!-- /reader-table -->", text, re.S)
    assert block is not None, "docs/datasets.md has no reader table"
    assert block.group(1).strip() == reader_table()
    for name in DATASETS:
        assert f"| `{name}` |" in block.group(1)


def test_datasets_json_lists_every_reader_with_its_splits() -> None:
    res = CliRunner().invoke(cli, ["datasets", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert list(rows) == list(DATASETS)
    # ML-GCN trains VOC 2007 on trainval and tests on test; COCO 2014 trains on train, tests on val
    assert (rows["voc"]["default_split"], rows["voc"]["eval_split"]) == ("trainval", "test")
    assert (rows["coco"]["default_split"], rows["coco"]["eval_split"]) == ("train", "val")
    assert rows["coco"]["aliases"] == ["coco2014", "coco2017"]


def test_default_splits_and_aliases() -> None:
    assert default_splits("voc2007") == ("trainval", "test")
    assert default_splits("charades") == ("train", "test")  # Charades v1 has train and test CSVs only
    assert default_splits("csv") == (None, None)
    assert canonical_name("COCO2017") == "coco" and canonical_name("nope") is None
    with pytest.raises(ConfigError, match="unknown dataset 'nope' \\(known: coco, voc"):
        get_reader("nope")
    assert labelgraph.bundled_path("coco2014") == labelgraph.bundled_path("coco")
    with pytest.raises(ConfigError, match="no bundled statistics for 'coco2017'"):
        labelgraph.bundled_path("coco2017")  # an alias of the reader, not of the 2014 file


def test_conceptnet_overrides_and_download_read_the_registry() -> None:
    from labelgraph.conceptnet.mapping import packaged_overrides
    from labelgraph.download import dataset_files

    assert packaged_overrides("voc2012").name == "voc.csv"
    with pytest.raises(ConfigError, match=r"dataset 'charades' has no split 'val' \(splits: train, test\)"):
        dataset_files("charades", split="val")  # refused before any download


@pytest.mark.parametrize("name", list(DATASETS))
def test_reader_options_are_the_reader_functions_keywords(name: str) -> None:
    reader = DATASETS[name]
    params = inspect.signature(reader.load_reader()).parameters
    named = {p for p, v in params.items() if v.kind is not inspect.Parameter.VAR_KEYWORD}
    assert set(reader.options) <= named, f"{name}: options the function does not take"
    assert "split" in named  # every reader takes split, so it is always allowed


def test_read_dataset_refuses_a_misspelled_option(tmp_path: Path) -> None:
    p = tmp_path / "mine.jsonl"
    p.write_text('{"id": "a", "labels": ["cat"]}\n')
    with pytest.raises(ConfigError) as err:
        read_dataset("jsonl", p, labls=str(tmp_path / "labels.txt"))
    assert str(err.value) == "dataset 'jsonl' has no option 'labls' (options: split, labels, name)"
    res = CliRunner().invoke(cli, ["build", "--dataset", "voc", "--root", str(tmp_path), "--order", "x",
                                   "--out", str(tmp_path / "g")])
    assert res.exit_code == 2 and "--order does not apply to dataset 'voc'" in res.output


# -- every list of kinds, targets, presets -------------------------------------------------------------

def test_cli_choices_are_the_registries() -> None:
    assert set(_choices("sweep", "--kind")) == set(SWEEP_KINDS)
    assert _choices("export", "--to") == tuple(EXPORT_FORMATS)
    assert set(_choices("build", "--base")) == {k for k, s in STATISTICAL_KINDS.items() if s.needs == "statistics"}
    train_datasets = _choices("train", "--dataset")
    assert train_datasets[0] == "imagefolder"
    assert set(train_datasets[1:]) == {r.name for r in DATASETS.values() if r.eval_split}
    help_text = CliRunner().invoke(cli, ["build", "--help"]).output.replace("\n", " ")
    for kind in GRAPH_KINDS:
        assert re.search(rf"\b{re.escape(kind)}\b", help_text), kind


def test_train_choices_are_the_trainer_registries() -> None:
    from labelgraph.train.config import PRESETS

    from labelgraph_cli.train import train

    [preset] = [p for p in train.params if "--preset" in p.opts]
    for name in PRESETS:
        assert name in preset.help
    models = pytest.importorskip("labelgraph.train.models", reason="the model registry needs torch")
    assert set(_choices("train", "--model")) == set(models.MODELS)


def test_every_kind_has_a_row_in_docs_graphs_md() -> None:
    text = (ROOT / "docs" / "graphs.md").read_text()
    rows = set(re.findall(r"^\| `([a-z][\w-]*)` \|", text, re.M))
    assert set(GRAPH_KINDS) <= rows, f"kinds missing from docs/graphs.md: {set(GRAPH_KINDS) - rows}"
    assert rows - set(GRAPH_KINDS) == set(), "docs/graphs.md lists kinds the registry does not have"


def test_docs_export_targets_are_the_registry() -> None:
    text = (ROOT / "docs" / "inspect.md").read_text()
    match = re.search(r"labelgraph export FILE --to ([\w|]+)", text)
    assert match is not None
    assert match.group(1).split("|") == list(EXPORT_FORMATS)


def test_sweep_kinds_are_every_registered_kind() -> None:
    # cosine sweeps with --embeddings, shuffled/random with --base (tests/test_sweep_kinds.py)
    assert set(SWEEP_KINDS) == {"ks"} | set(STATISTICAL_KINDS)


# -- a toy kind: one entry and its function ------------------------------------------------------------

def _transpose(P, M, n, *, tau: float, **_: float):
    B = ((np.asarray(P) >= tau) & ~np.eye(P.shape[0], dtype=bool)).astype(np.float64).T
    return B, symmetric_normalize(B + np.identity(B.shape[0]))


@pytest.fixture
def transpose_kind():
    STATISTICAL_KINDS["transpose"] = GraphKind("transpose", ("tau",), {"tau": 0.4}, "toy: Bᵀ", _transpose)
    try:
        yield "transpose"
    finally:
        del STATISTICAL_KINDS["transpose"]
    assert "transpose" not in GRAPH_KINDS


def _binary_by_hand(stats, tau: float) -> np.ndarray:
    """SPEC §2.1: P_ij = M_ij / n_i; B_ij = 1 where P_ij ≥ τ, i ≠ j."""
    M = stats.matrix.toarray().astype(np.float64)
    n = np.asarray(stats.n, dtype=np.float64)
    B = (M / n[:, None] >= tau).astype(np.float64)
    np.fill_diagonal(B, 0)
    return B


def test_a_toy_kind_works_everywhere_with_one_registry_entry(transpose_kind: str, tmp_path: Path) -> None:
    runner = CliRunner()
    stats = labelgraph.load(labelgraph.bundled_path("voc"))
    B = _binary_by_hand(stats, 0.3)
    edges = int(B.sum())
    assert "transpose" in GRAPH_KINDS and "transpose" in labelgraph.KINDS and "transpose" in SWEEP_KINDS

    res = runner.invoke(cli, ["build", "--dataset", "voc", "--kind", "transpose,binary", "--tau", "0.3", "--raw",
                              "--out", str(tmp_path), "--json", "-q"])
    assert res.exit_code == 0, res.output
    paths = {g["kind"]: g["path"] for g in json.loads(res.output)["graphs"]}
    toy = labelgraph.load(paths["transpose"])  # the artifact validates its kind against the registry
    assert toy.kind == "transpose" and Path(paths["transpose"]).name == "voc2007_transpose_t0.3_raw.npz"
    np.testing.assert_array_equal(toy.to_dense(), B.T)

    res = runner.invoke(cli, ["inspect", paths["transpose"], "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["summary"]["num_edges"] == edges

    res = runner.invoke(cli, ["compare", paths["binary"], paths["transpose"], "--json"])
    assert res.exit_code == 0, res.output
    both = int(((B > 0) & (B.T > 0)).sum())
    result = json.loads(res.output)
    assert (result["num_edges_first"], result["num_edges_second"], result["num_edges_common"]) == (edges, edges, both)

    out = tmp_path / "toy.csv"
    res = runner.invoke(cli, ["export", paths["transpose"], "--to", "csv", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [r for r in csv.reader(out.read_text().splitlines()) if r and r[0] != "source"]
    labels = stats.labels
    assert {(r[0], r[1]) for r in rows} == {(labels[i], labels[j]) for i, j in zip(*np.nonzero(B.T))}

    res = runner.invoke(cli, ["sweep", "--kind", "transpose", "--dataset", "voc", "--tau", "0.3,0.5", "--json"])
    assert res.exit_code == 0, res.output
    got = {row["tau"]: row["num_edges"] for row in json.loads(res.output)["rows"]}
    assert got == {0.3: edges, 0.5: int(_binary_by_hand(stats, 0.5).sum())}

    from labelgraph.train.preflight import load_label_inputs

    emb = labelgraph.Artifact.embeddings(list(labels), np.eye(len(labels))).save(tmp_path / "e.npz")
    A, E = load_label_inputs(paths["transpose"], str(emb), list(labels))
    np.testing.assert_array_equal(A, B.T.astype(np.float32))
