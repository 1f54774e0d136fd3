"""Validation comes from a held-out part of the training split; the test split is scored once, at the end."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import labelgraph  # noqa: E402
from labelgraph.errors import ConfigError, DataError  # noqa: E402
from labelgraph.train.config import TrainConfig  # noqa: E402
from tests.conftest import ROOT, require_shared  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def yeast(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from labelgraph.datasets.arff import read_mulan

    folder = require_shared("mulan")
    out = tmp_path_factory.mktemp("yeast")
    ls = read_mulan(folder / "yeast", "train")
    graph = labelgraph.build_graph(ls.statistics(), "binary", tau=0.3).save(out / "g.npz")
    emb = labelgraph.Artifact.embeddings(ls.labels, np.eye(ls.num_labels, dtype=np.float32)).save(out / "e.npz")
    return {"annotations": folder / "yeast", "graph": graph, "embeddings": emb}


def config(data: dict[str, Path], out: Path, **changes) -> TrainConfig:
    values = dict(dataset="mulan", annotations=str(data["annotations"]), backbone="features",
                  graph=str(data["graph"]), embeddings=str(data["embeddings"]), hidden=32, batch_size=128,
                  epochs=2, lr=0.1, workers=0, device="cpu", out=str(out))
    return TrainConfig(**{**values, **changes})


def read_log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()]


def test_held_out_part_is_disjoint_from_the_test_split_and_the_rest_of_training(yeast, tmp_path: Path) -> None:
    from sklearn.metrics import average_precision_score

    from labelgraph.datasets.arff import read_mulan
    from labelgraph.train.checkpoint import load_checkpoint
    from labelgraph.train.engine import evaluate_checkpoint, fit

    out = tmp_path / "run"
    record = fit(config(yeast, out, val_fraction=0.1, epochs=3, seed=4))
    train = read_mulan(yeast["annotations"], "train")
    test = read_mulan(yeast["annotations"], "test")
    split = load_checkpoint(out / "last.pt")["split"]
    held_out = split["held_out"]
    assert len(held_out) == len(set(held_out)) == 150          # round(0.1 × 1500), MULAN's yeast-train size
    assert set(held_out) <= set(train.sample_ids)
    assert not set(held_out) & set(test.sample_ids)
    log = read_log(out)
    # 1350 left to train; batch 128 with drop_last: 10 full batches an epoch
    assert [r["train_images"] for r in log] == [10 * 128] * 3 and [r["val_images"] for r in log] == [150] * 3
    assert (split["train_split"], split["test_split"], split["val_fraction"], split["seed"]) == ("train", "test", 0.1, 4)
    # best.pt is the epoch of the highest validation mAP; the test split was scored with it, once
    tested = json.loads((out / "metrics.json").read_text())
    best_epoch = max(log, key=lambda r: r["metrics"]["mAP"])["epoch"]
    assert tested["epoch"] == best_epoch == load_checkpoint(out / "best.pt")["epoch"]
    assert tested["val_mAP"] == pytest.approx(max(r["metrics"]["mAP"] for r in log))
    assert tested["samples"] == 917 and record["test"] == tested
    again = evaluate_checkpoint(out / "best.pt")
    expected = np.mean([average_precision_score(again.targets[:, j], again.scores[:, j]) for j in range(14)])
    assert again.split == "test" and tested["metrics"]["mAP"] == pytest.approx(expected, abs=1e-9)
    # another seed holds out other samples
    other = fit(config(yeast, tmp_path / "other", val_fraction=0.1, epochs=1, seed=5))
    assert other["val_images"] == 150
    assert load_checkpoint(tmp_path / "other" / "last.pt")["split"]["held_out"] != held_out


def test_validation_rows_are_the_training_rows_of_those_ids(yeast) -> None:
    from labelgraph.datasets.arff import mulan_files, read_arff
    from labelgraph.train.data import load_split, split_validation

    cfg = config(yeast, Path("unused"))
    data = load_split(cfg, "train")
    fit_part, val = split_validation(data, 0.2, seed=0)
    arff, xml = mulan_files(yeast["annotations"], "train")
    raw = read_arff(arff, xml=xml)
    index = {sid: i for i, sid in enumerate(raw.labelset.sample_ids)}
    rows = [index[sid] for sid in val.sample_ids]
    np.testing.assert_array_equal(val.features, raw.features[rows])
    np.testing.assert_array_equal(val.targets, raw.labelset.Y.toarray()[rows])
    assert len(fit_part) + len(val) == 1500 and len(val) == 300
    assert not set(fit_part.sample_ids) & set(val.sample_ids)


def test_val_fraction_zero_selects_the_last_epoch(yeast, tmp_path: Path) -> None:
    from labelgraph.train.checkpoint import load_checkpoint
    from labelgraph.train.engine import fit

    out = tmp_path / "run"
    record = fit(config(yeast, out, val_fraction=0.0, epochs=2))
    log = read_log(out)
    assert [(r["train_images"], r["val_images"], r["metrics"]) for r in log] == [(11 * 128, 0, {}), (11 * 128, 0, {})]   # 1500: full batches
    assert load_checkpoint(out / "best.pt")["epoch"] == 2 and record["test"]["epoch"] == 2
    assert record["best_mAP"] is None and record["test"]["val_mAP"] is None


def test_resume_holds_out_the_samples_its_checkpoint_records(yeast, tmp_path: Path) -> None:
    from labelgraph.train.checkpoint import load_checkpoint, save_checkpoint
    from labelgraph.train.engine import fit

    out = tmp_path / "run"
    fit(config(yeast, out, epochs=1))
    state = load_checkpoint(out / "last.pt")
    # a record unlike any draw: the first 100 training samples
    chosen = [f"yeast-train:{i}" for i in range(100)]
    state["split"]["held_out"] = chosen
    save_checkpoint(out / "last.pt", state)
    fit(config(yeast, out, epochs=2, resume=True))
    assert load_checkpoint(out / "last.pt")["split"]["held_out"] == chosen
    # 1400 left to train: 10 full batches of 128
    assert (read_log(out)[-1]["train_images"], read_log(out)[-1]["val_images"]) == (10 * 128, 100)
    with pytest.raises(ConfigError, match="--resume with --val-fraction 0.2"):
        fit(config(yeast, out, epochs=3, resume=True, val_fraction=0.2))


@pytest.mark.parametrize("value", [0.6, -0.1, 1.0])
def test_val_fraction_outside_range_is_one_error(value: float) -> None:
    with pytest.raises(ConfigError, match=r"--val-fraction must be in \(0, 0.5\]"):
        TrainConfig(val_fraction=value).validate()


def test_holdout_of_a_tiny_split_is_a_data_error() -> None:
    from labelgraph.train.data import holdout_indices

    assert holdout_indices(3, 0.5, 0).tolist() in ([0, 1], [0, 2], [1, 2], [0], [1], [2])
    with pytest.raises(DataError, match="--val-fraction 0.5 of 1 training sample"):
        holdout_indices(1, 0.5, 0)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=240, cwd=ROOT)


def test_cli_val_fraction_outside_range_one_line(yeast, tmp_path: Path) -> None:
    proc = _cli("train", "--dataset", "mulan", "--annotations", str(yeast["annotations"]), "--backbone", "features",
                "--graph", str(yeast["graph"]), "--embeddings", str(yeast["embeddings"]), "--val-fraction", "0.7",
                "--out", str(tmp_path / "run"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--val-fraction must be in (0, 0.5]" in lines[0] and "0.7" in lines[0]
    assert not (tmp_path / "run").exists()


def test_val_split_is_a_deprecated_name_of_test_split(yeast, tmp_path: Path) -> None:
    assert TrainConfig(val_split="test").test_split == "test"
    assert TrainConfig.from_preset("mlgcn-voc", val_split="val").test_split == "val"
    assert TrainConfig.from_dict({"val_split": "val"}).to_dict()["test_split"] == "val"   # a config.json of before
    with pytest.raises(ConfigError, match="disagree"):
        TrainConfig(val_split="a", test_split="b").validate()
    proc = _cli("train", "--dataset", "mulan", "--annotations", str(yeast["annotations"]), "--backbone", "features",
                "--graph", str(yeast["graph"]), "--embeddings", str(yeast["embeddings"]), "--val-split", "train",
                "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert "--val-split is deprecated" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "--test-split 'train' is the training split: the test split must be another one")
