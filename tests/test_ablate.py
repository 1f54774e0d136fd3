"""`labelgraph ablate` on MULAN yeast and scene (features backbone): rows, seeds, the no-GCN baseline, bad input."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import labelgraph  # noqa: E402
from labelgraph.api.ablate import ablation_outputs  # noqa: E402
from labelgraph.errors import ConfigError, LabelMismatchError  # noqa: E402
from tests.conftest import ROOT, require_shared  # noqa: E402

KINDS = "identity,binary,shuffled,random,learned"
ARMS = ["linear", "identity", "binary", "shuffled", "random", "learned"]
FAST = dict(backbone="features", hidden=32, batch_size=128, epochs=2, lr=0.1, workers=0, device="cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def mulan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    from labelgraph.datasets.arff import read_mulan

    folder = require_shared("mulan")
    out = tmp_path_factory.mktemp("mulan")
    sets = {}
    for name in ("yeast", "scene"):
        ls = read_mulan(folder / name, "train")
        vectors = np.random.default_rng(0).normal(size=(ls.num_labels, 16)).astype(np.float32)
        emb = labelgraph.Artifact.embeddings(ls.labels, vectors).save(out / f"{name}_e.npz")
        sets[name] = {"annotations": folder / name, "embeddings": emb, "labels": ls.labels}
    return sets


def ablate(data: dict[str, Path], out: Path, kinds: str = KINDS, seeds: int = 2, **extra):
    return ablation_outputs(kinds, dataset="mulan", annotations=str(data["annotations"]),
                            embeddings=data["embeddings"], seeds=seeds, out=out, **{**FAST, **extra})


@pytest.mark.slow
@pytest.mark.parametrize("name", ["yeast", "scene"])
def test_every_row_and_the_summary_from_the_runs(mulan, tmp_path: Path, name: str) -> None:
    from scipy.stats import ttest_rel

    result = ablate(mulan[name], tmp_path / "a", plot=True)
    assert [r["graph"] for r in result.rows] == ARMS
    assert [r["model"] for r in result.rows] == ["linear", "mlgcn", "mlgcn", "mlgcn", "mlgcn", "learned"]
    assert sorted((r["graph"], r["seed"]) for r in result.runs) == sorted((a, s) for a in ARMS for s in (0, 1))
    maps = {a: np.array([next(r["metrics"]["mAP"] for r in result.runs if r["graph"] == a and r["seed"] == s)
                         for s in (0, 1)]) for a in ARMS}
    for row in result.rows:
        m = maps[row["graph"]]
        assert row["seeds"] == 2
        assert row["mAP_mean"] == pytest.approx((m[0] + m[1]) / 2, abs=1e-12)
        assert row["mAP_std"] == pytest.approx(abs(m[0] - m[1]) / np.sqrt(2), abs=1e-12)   # sample std of two
        assert row["delta_mAP"] == pytest.approx(((m - maps["linear"]).sum()) / 2, abs=1e-12)
        if row["graph"] != "linear":
            d = m - maps["linear"]
            t = d.mean() / (d.std(ddof=1) / np.sqrt(2))                      # paired t, 1 degree of freedom
            p_by_hand = 1 - 2 * np.arctan(abs(t)) / np.pi                     # Student-t(1) is Cauchy
            assert row["p_value"] == pytest.approx(p_by_hand, rel=1e-6)
            assert row["p_value"] == pytest.approx(ttest_rel(m, maps["linear"]).pvalue, rel=1e-9)
    assert all(0.0 < r["metrics"]["mAP"] <= 1.0 for r in result.runs)
    # the CSV holds the JSON's rows; the plot is a PNG
    with open(tmp_path / "a" / "ablation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["graph"] for r in rows] == ARMS
    assert float(rows[2]["mAP_mean"]) == pytest.approx(result.rows[2]["mAP_mean"], abs=1e-12)
    assert json.loads((tmp_path / "a" / "ablation.json").read_text())["rows"] == result.rows
    assert (tmp_path / "a" / "ablation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the graphs are built from the training split: binary's file is build_graph of its statistics
    from labelgraph.datasets.arff import read_mulan

    want = labelgraph.build_graph(read_mulan(mulan[name]["annotations"], "train").statistics(), "binary")
    assert labelgraph.load(tmp_path / "a" / "graphs" / "binary.npz").content_hash == want.content_hash


@pytest.mark.slow
def test_seeds_reproduce_and_the_baseline_is_a_linear_head_trained_alone(mulan, tmp_path: Path) -> None:
    from labelgraph.train.config import TrainConfig
    from labelgraph.train.engine import fit

    data = mulan["yeast"]
    first = ablate(data, tmp_path / "a", kinds="binary")
    second = ablate(data, tmp_path / "b", kinds="binary")
    assert [r["metrics"] for r in first.runs] == [r["metrics"] for r in second.runs]   # bit for bit on CPU
    assert first.rows == second.rows
    # the two seeds are different runs
    linear = [r for r in first.runs if r["graph"] == "linear"]
    assert linear[0]["metrics"]["mAP"] != linear[1]["metrics"]["mAP"]
    # the baseline row is what `fit` gives a linear model with the same settings, trained on its own
    any_graph = labelgraph.build_graph(labelgraph.Artifact.statistics(data["labels"], np.ones(14, dtype=np.int64),
                                                                      np.zeros((14, 14), dtype=np.int64), 1),
                                       "identity").save(tmp_path / "eye.npz")
    for seed in (0, 1):
        alone = fit(TrainConfig(dataset="mulan", annotations=str(data["annotations"]), embeddings=str(data["embeddings"]),
                                graph=str(any_graph), model="linear", seed=seed, out=str(tmp_path / f"alone{seed}"),
                                **FAST))
        assert alone["test"]["metrics"] == linear[seed]["metrics"]


def test_learned_graph_starts_from_the_base_graph_and_moves(mulan, tmp_path: Path) -> None:
    from labelgraph.train.checkpoint import load_checkpoint

    data = mulan["scene"]
    ablate(data, tmp_path / "a", kinds="learned", seeds=1, keep_checkpoints=True, epochs=1)
    state = load_checkpoint(tmp_path / "a" / "runs" / "learned-seed0" / "last.pt")["model"]
    binary = labelgraph.load(tmp_path / "a" / "graphs" / "binary.npz").to_dense()
    np.testing.assert_allclose(state["adjacency"].numpy(), binary, atol=1e-7)   # the initial graph, kept
    assert not np.allclose(state["graph.weight"].numpy(), binary, atol=1e-4)    # the trained one moved


def test_linear_and_learned_run_on_an_image_backbone() -> None:
    from labelgraph.train.models import build_backbone, build_model

    for name in ("linear", "learned"):
        options = {"hidden": 16} if name == "learned" else {}
        model = build_model(name, build_backbone("resnet18"), torch.eye(3), torch.randn(3, 8), **options)
        logits = model(torch.randn(2, 3, 32, 32))
        assert logits.shape == (2, 3)
        logits.sum().backward()
        assert all(p.grad is not None for m in model.head_modules() for p in m.parameters())


def test_one_seed_has_no_p_value(mulan, tmp_path: Path) -> None:
    result = ablate(mulan["scene"], tmp_path / "a", kinds="identity", seeds=1, epochs=1)
    assert [(r["graph"], r["mAP_std"], r["p_value"]) for r in result.rows] == [("linear", None, None),
                                                                               ("identity", None, None)]
    assert "one seed: no std and no p-value" in result.note
    assert "± —" in result.table()


def test_an_ablation_of_other_settings_is_refused_without_force(mulan, tmp_path: Path) -> None:
    data = mulan["scene"]
    out = tmp_path / "a"
    first = ablate(data, out, kinds="identity", seeds=1, epochs=1)
    before = (out / "ablation.json").read_bytes()
    with pytest.raises(ConfigError, match="holds an ablation of other settings"):
        ablate(data, out, kinds="identity", seeds=1, epochs=2)
    assert (out / "ablation.json").read_bytes() == before
    assert ablate(data, out, kinds="identity", seeds=1, epochs=1).reused
    again = ablate(data, out, kinds="identity", seeds=1, epochs=2, force=True)
    assert not again.reused and json.loads((out / "ablation.json").read_text())["request"]["config"]["epochs"] == 2
    assert first.rows[0]["graph"] == again.rows[0]["graph"] == "linear"


def test_an_interrupted_ablation_reuses_the_runs_it_finished(mulan, tmp_path: Path) -> None:
    import shutil

    data = mulan["scene"]
    out = tmp_path / "a"
    first = ablate(data, out, kinds="identity", seeds=1, epochs=1)
    (out / "ablation.json").unlink()                       # as if stopped before the summary ...
    shutil.rmtree(out / "runs" / "identity-seed0")          # ... and before the identity run finished
    finished = (out / "runs" / "linear-seed0" / "metrics.json").stat().st_mtime_ns
    again = ablate(data, out, kinds="identity", seeds=1, epochs=1)
    assert (out / "runs" / "linear-seed0" / "metrics.json").stat().st_mtime_ns == finished   # read, not retrained
    assert (out / "runs" / "identity-seed0" / "metrics.json").is_file()
    assert again.rows == first.rows and not again.reused


def test_graph_files_join_by_label_name(mulan, tmp_path: Path) -> None:
    from labelgraph.datasets.arff import read_mulan

    data = mulan["scene"]
    ls = read_mulan(data["annotations"], "train")
    mine = labelgraph.build_graph(ls.statistics(), "jaccard")
    reversed_labels = list(reversed(ls.labels))
    path = mine.reorder(reversed_labels).save(tmp_path / "mine_jaccard.npz")    # same labels, another order
    result = ablate(data, tmp_path / "a", kinds="identity", seeds=1, epochs=1, graph_files=[path])
    assert [r["graph"] for r in result.rows] == ["linear", "identity", "mine_jaccard"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=240, cwd=ROOT)


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_cli_unknown_kind_lists_the_known_ones(mulan, tmp_path: Path) -> None:
    data = mulan["yeast"]
    proc = _cli("ablate", "--dataset", "mulan", "--annotations", str(data["annotations"]), "--embeddings",
                str(data["embeddings"]), "--graphs", "binary,kss", "--out", str(tmp_path / "a"))
    assert proc.returncode == 2
    line = _one_line(proc)
    assert "unknown graph kind 'kss'" in line
    known = line.split("known: ", 1)[1].rstrip(")").split(", ")
    from labelgraph.graphs.kinds import STATISTICAL_KINDS

    assert set(known) == {k for k, s in STATISTICAL_KINDS.items() if s.needs != "embeddings"} | {"learned"}
    assert not (tmp_path / "a").exists()


def test_cli_graph_file_of_other_labels_names_the_file_and_the_labels(mulan, tmp_path: Path) -> None:
    data = mulan["yeast"]
    labels = list(data["labels"])
    other = labels[:-1] + ["Class99"]
    path = labelgraph.Artifact.graph("binary", other, np.eye(len(other))).save(tmp_path / "other.npz")
    proc = _cli("ablate", "--dataset", "mulan", "--annotations", str(data["annotations"]), "--embeddings",
                str(data["embeddings"]), "--graphs", "identity", "--graph-files", str(path), "--out", str(tmp_path / "a"))
    assert proc.returncode == 2
    line = _one_line(proc)
    assert str(path) in line and "only in the file: Class99" in line and "only in the dataset: Class14" in line
    assert not (tmp_path / "a" / "ablation.json").exists()
    with pytest.raises(LabelMismatchError, match="Class99"):
        ablate(data, tmp_path / "b", kinds="identity", seeds=1, graph_files=[path])


def test_cli_val_fraction_outside_range(mulan, tmp_path: Path) -> None:
    data = mulan["yeast"]
    proc = _cli("ablate", "--dataset", "mulan", "--annotations", str(data["annotations"]), "--embeddings",
                str(data["embeddings"]), "--graphs", "identity", "--val-fraction", "0.75", "--out", str(tmp_path / "a"))
    assert proc.returncode == 2
    assert "--val-fraction must be in (0, 0.5]" in _one_line(proc)
    assert not (tmp_path / "a").exists()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_train_md_ablate_example_runs(tmp_path: Path) -> None:
    from tests.test_docs_examples import bash_block_after, run_block

    data = require_shared("mulan").parent
    require_shared("glove", "glove.6B.50d.txt.gz")
    block = bash_block_after(ROOT / "docs" / "train.md", "tests/test_ablate.py runs this block")
    assert block.startswith("DATA=../shared/data\n")
    proc = run_block(block.replace("DATA=../shared/data", f"DATA={data}", 1), tmp_path, {"OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "runs" / "ablation-scene"
    document = json.loads((out / "ablation.json").read_text())
    assert [r["graph"] for r in document["rows"]] == ["linear", "identity", "binary", "shuffled", "learned"]
    assert len(document["runs"]) == 10 and sorted(p.name for p in (out / "graphs").iterdir()) == [
        "binary.npz", "identity.npz", "shuffled_s0.npz", "shuffled_s1.npz"]
    # the printed table is the file's: the baseline's mean test mAP, in percent
    linear = document["rows"][0]
    assert f"{100 * linear['mAP_mean']:.2f} ± {100 * linear['mAP_std']:.2f}" in proc.stdout
    assert linear["mAP_mean"] > 0.5   # 10 epochs on scene learn far more than chance (label frequency ≈ 0.18)


@pytest.mark.slow
def test_image_backbone_features_are_cached_once_for_every_arm(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    from labelgraph.train.data import read_image_csv
    from tests.test_train_run import write_images

    root = write_images(tmp_path / "images", n_train=24, n_val=8, size=40)
    ls, _ = read_image_csv(root / "train.csv")
    emb = labelgraph.Artifact.embeddings(ls.labels, np.eye(3, dtype=np.float32)).save(tmp_path / "e.npz")
    result = ablation_outputs("identity,learned", dataset="imagefolder", root=str(root), embeddings=emb, seeds=1,
                              backbone="resnet18", pretrained=False, image_size=32, hidden=16, batch_size=8,
                              epochs=1, lr=0.01, workers=0, device="cpu", val_fraction=0.25, out=tmp_path / "a")
    assert [r["graph"] for r in result.rows] == ["linear", "identity", "learned"]
    # one file for the training split and one for the test split, made by the first run, read by the others
    cache = sorted(p.name for p in (tmp_path / "a" / "feature_cache").glob("*.npy"))
    assert len(cache) == 2 and cache[0].startswith("imagefolder-train-") and cache[1].startswith("imagefolder-val-")
    configs = [json.loads((tmp_path / "a" / "runs" / f"{arm}-seed0" / "config.json").read_text())
               for arm in ("linear", "identity", "learned")]
    assert all(c["freeze_backbone"] and c["cache_features"] == str(tmp_path / "a" / "feature_cache") for c in configs)
    assert json.loads((tmp_path / "a" / "runs" / "linear-seed0" / "metrics.json").read_text())["samples"] == 8
