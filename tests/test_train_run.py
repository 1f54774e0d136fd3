"""End-to-end training on CPU: real JPEGs, a real MULAN set, resume after a kill, DDP with gloo."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402

import labelgraph  # noqa: E402
from labelgraph.train.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from labelgraph_cli.main import cli  # noqa: E402
from tests.conftest import require_shared  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["red", "green", "blue"]


def write_images(root: Path, n_train: int = 48, n_val: int = 12, size: int = 72, seed: int = 0) -> Path:
    """Real JPEGs: a label present ⇒ a bright square of its colour somewhere on a grey noise image."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    colours = {"red": (230, 20, 20), "green": (20, 210, 20), "blue": (20, 20, 230)}
    for split, n in (("train", n_train), ("val", n_val)):
        rows = ["image,labels"]
        for i in range(n):
            present = [lab for lab in LABELS if rng.random() < 0.45] or [LABELS[i % 3]]
            pixels = rng.integers(90, 160, size=(size, size, 3)).astype(np.uint8)
            for lab in present:
                y, x = rng.integers(0, size - 24, size=2)
                pixels[y:y + 24, x:x + 24] = colours[lab]
            name = f"{split}/{i:03d}.jpg"
            (root / split).mkdir(exist_ok=True)
            Image.fromarray(pixels).save(root / name, quality=90)
            rows.append(f"{name},{';'.join(present)}")
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    (root / "labels.txt").write_text("\n".join(LABELS) + "\n")
    return root


def write_label_inputs(folder: Path, labelset: labelgraph.LabelSet, dim: int = 16, seed: int = 0,
                       kind: str = "reweighted") -> tuple[Path, Path]:
    """A graph built by labelgraph from the labels, and random label embeddings, as .npz artifacts."""
    stats = labelset.statistics()
    graph = labelgraph.build_graph(stats, kind, tau=0.3, p=0.2) if kind == "reweighted" else \
        labelgraph.build_graph(stats, kind, tau=0.3)
    vectors = np.random.default_rng(seed).normal(size=(labelset.num_labels, dim)).astype(np.float32)
    g = graph.save(folder / f"graph_{kind}.npz", force=True)
    e = labelgraph.Artifact.embeddings(labelset.labels, vectors).save(folder / f"emb{dim}.npz", force=True)
    return g, e


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from labelgraph.train.data import read_image_csv

    root = write_images(tmp_path_factory.mktemp("images"))
    ls, _ = read_image_csv(root / "train.csv")
    graph, emb = write_label_inputs(root.parent, ls)
    return {"root": root, "graph": graph, "embeddings": emb}


@pytest.fixture(scope="module")
def mulan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from labelgraph.datasets.arff import read_mulan

    folder = require_shared("mulan")
    out = tmp_path_factory.mktemp("mulan")
    result = {}
    for name in ("scene", "yeast"):
        ls = read_mulan(folder / name, "train")
        vectors = np.eye(ls.num_labels, dtype=np.float32)   # one-hot label inputs
        graph = labelgraph.build_graph(ls.statistics(), "mlgcn", tau=0.3, p=0.25).save(out / f"{name}_g.npz")
        emb = labelgraph.Artifact.embeddings(ls.labels, vectors).save(out / f"{name}_e.npz")
        result[name] = {"annotations": folder / name, "graph": graph, "embeddings": emb}
    return result


def image_args(images: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["train", "--dataset", "imagefolder", "--root", str(images["root"]), "--graph", str(images["graph"]),
            "--embeddings", str(images["embeddings"]), "--model", "mlgcn", "--backbone", "resnet18",
            "--no-pretrained", "--image-size", "64", "--batch-size", "8", "--lr", "0.005", "--backbone-lr-mult", "1",
            "--hidden", "32", "--workers", "0", "--seed", "0", "--out", str(out), "-q", *extra]


def mulan_args(data: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return ["train", "--dataset", "mulan", "--annotations", str(data["annotations"]), "--backbone", "features",
            "--graph", str(data["graph"]), "--embeddings", str(data["embeddings"]), "--hidden", "64",
            "--batch-size", "64", "--lr", "0.1", "--seed", "0", "--out", str(out), "-q", *extra]


def read_log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines() if line.strip()]


def run_cli(args: list[str]) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=240, cwd=ROOT)


@pytest.mark.slow
def test_train_images_end_to_end(images: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "run"
    # --val-fraction 0: all 48 training images train, best.pt is the last epoch; val.csv's 12 are the test split
    result = CliRunner().invoke(cli, image_args(images, out, "--epochs", "2", "--val-fraction", "0"))
    assert result.exit_code == 0, result.output
    log = read_log(out)
    assert [r["epoch"] for r in log] == [1, 2]
    assert log[1]["train_loss"] < log[0]["train_loss"]
    tested = json.loads((out / "metrics.json").read_text())
    assert log[0]["train_images"] == 48 and tested["samples"] == 12 and tested["epoch"] == 2
    assert {"mAP", "CF1", "OF1@3"} <= set(tested["metrics"])
    state = load_checkpoint(out / "last.pt")
    assert state["epoch"] == 2 and state["labels"] == LABELS
    assert (out / "best.pt").is_file() and json.loads((out / "config.json").read_text())["backbone"] == "resnet18"
    assert "mAP" in result.output and "OF1" in result.output
    # the saved checkpoint evaluates to the test metrics the run reported for it
    ev = CliRunner().invoke(cli, ["evaluate", str(out / "best.pt"), "--split", "val", "--json", "-q"])
    assert ev.exit_code == 0, ev.output
    assert json.loads(ev.output)["metrics"]["mAP"] == pytest.approx(tested["metrics"]["mAP"], abs=1e-6)


@pytest.mark.slow
def test_mulan_features_beat_label_frequency(mulan: dict, tmp_path: Path) -> None:
    from sklearn.metrics import average_precision_score

    from labelgraph.datasets.arff import mulan_files, read_arff

    data = mulan["scene"]
    out = tmp_path / "scene"
    result = CliRunner().invoke(cli, mulan_args(data, out, "--epochs", "4"))
    assert result.exit_code == 0, result.output
    ev = CliRunner().invoke(cli, ["evaluate", str(out / "best.pt"), "--split", "test", "--json", "-q"])
    assert ev.exit_code == 0, ev.output
    model_map = json.loads(ev.output)["metrics"]["mAP"]
    arff, xml = mulan_files(data["annotations"], "train")
    train = read_arff(arff, xml=xml).labelset.Y.toarray()
    arff, xml = mulan_files(data["annotations"], "test")
    test = read_arff(arff, xml=xml).labelset.Y.toarray()
    frequency = np.tile(train.mean(axis=0), (len(test), 1))   # the same score for every sample
    baseline = np.mean([average_precision_score(test[:, j], frequency[:, j]) for j in range(test.shape[1])])
    assert baseline < 0.3 and model_map > baseline + 0.3


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


@pytest.mark.slow
def test_resume_after_kill_equals_straight_run(mulan: dict, tmp_path: Path) -> None:
    data = mulan["yeast"]
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    common = ["--epochs", "2", "--deterministic", "--ema", "0.9", "--hidden", "256"]
    done = run_cli(mulan_args(data, straight, *common))
    assert done.returncode == 0, done.stderr
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "labelgraph_cli.main", *mulan_args(data, resumed, *common)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    deadline = time.monotonic() + 180
    log = resumed / "log.jsonl"
    while time.monotonic() < deadline and proc.poll() is None:
        if log.is_file() and log.read_text().count("\n") >= 1:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed after epoch 1"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert load_checkpoint(resumed / "last.pt")["epoch"] == 1
    again = run_cli(mulan_args(data, resumed, *common, "--resume"))
    assert again.returncode == 0, again.stderr
    assert [r["epoch"] for r in read_log(resumed)] == [1, 2]
    a, b = _weights(straight / "last.pt"), _weights(resumed / "last.pt")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6, msg=key)
    ema_a, ema_b = load_checkpoint(straight / "last.pt")["ema"], load_checkpoint(resumed / "last.pt")["ema"]
    for key in ema_a:
        torch.testing.assert_close(ema_a[key], ema_b[key], rtol=0, atol=1e-6, msg=key)
    assert read_log(straight)[1]["metrics"]["mAP"] == pytest.approx(read_log(resumed)[1]["metrics"]["mAP"], abs=1e-6)


_WRITER = """
import sys, torch
from labelgraph.train.checkpoint import save_checkpoint
big = torch.arange(40_000_000, dtype=torch.int32)
i = 2
while True:
    save_checkpoint(sys.argv[1], {"epoch": i, "big": big})
    print(i, flush=True)
    i += 1
"""


def test_checkpoint_killed_while_writing_leaves_previous_readable(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.ones(3)})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                                env=env)
        completed = int(proc.stdout.readline())       # one full write done; the next one is under way
        time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        temporaries = list(tmp_path.glob(".last.pt.*.tmp"))
        state = load_checkpoint(path)                 # never a torn file
        assert state["epoch"] >= completed
        assert state["big"].numel() == 40_000_000 and state["big"][-1].item() == 39_999_999
        if temporaries:                               # the kill landed mid-write: the old file stood
            break
    else:
        pytest.fail("no kill landed during a write in 3 tries")


@pytest.mark.slow
def test_ddp_two_processes_match_one(mulan: dict, tmp_path: Path) -> None:
    """gloo on CPU, 2 ranks × batch 32 vs 1 process × batch 64, same global order.

    Tolerance: 1e-5 on losses and metrics, 1e-5 on weights (sums of gradients in
    another order differ in the last float32 bits).
    """
    data = mulan["yeast"]
    one, two = tmp_path / "one", tmp_path / "two"
    common = ["--epochs", "2", "--deterministic", "--limit", "1024"]
    single = run_cli([*mulan_args(data, one, *common)])
    assert single.returncode == 0, single.stderr
    torchrun = Path(sys.executable).with_name("torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    args = mulan_args(data, two, *common)
    args[args.index("--batch-size") + 1] = "32"
    ddp = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "labelgraph_cli.main",
                          *args], capture_output=True, text=True, env=env, timeout=240, cwd=ROOT)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    a, b = read_log(one), read_log(two)
    # 1024 samples, 102 (10 %) held out for validation: the same ones in both runs; of the 922 left, full
    # batches only (drop_last): 14 × 64 = 896 in one process, 2 ranks × 14 × 32 = 896 in two
    assert [r["train_images"] for r in b] == [896, 896] and b[0]["val_images"] == a[0]["val_images"] == 102
    for ra, rb in zip(a, b):
        assert rb["train_loss"] == pytest.approx(ra["train_loss"], abs=1e-5)
        for key, value in ra["metrics"].items():
            assert rb["metrics"][key] == pytest.approx(value, abs=1e-5), key
    wa, wb = _weights(one / "last.pt"), _weights(two / "last.pt")
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=0, atol=1e-5, msg=key)


@pytest.mark.slow
def test_frozen_backbone_feature_cache(images: dict[str, Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "frozen"
    args = image_args(images, out, "--epochs", "2", "--freeze-backbone", "--cache-features", str(cache))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    files = sorted(cache.glob("*.npy"))
    assert len(files) == 2
    feats = np.load(files[0], mmap_mode="r")
    assert feats.dtype == np.float16 and feats.shape[1] == 512
    # the backbone stayed as initialized; only the head moved
    state = load_checkpoint(out / "last.pt")["model"]
    torch.manual_seed(0)
    from labelgraph.train.models import build_backbone

    fresh = build_backbone("resnet18").state_dict()
    torch.testing.assert_close(state["backbone.stages.0.0.conv1.weight"], fresh["stages.0.0.conv1.weight"])
    # cached features equal the backbone's own pooled output under the evaluation transform
    from labelgraph.train.data import eval_transform, normalize_images
    from PIL import Image
    from labelgraph.train.models import MLGCN

    model = MLGCN(build_backbone("resnet18"), torch.eye(3), torch.zeros(3, 16), hidden=32)
    model.load_state_dict(state)
    model.eval()
    split_file = [f for f in files if "-train-" in f.name][0]
    first = Path(images["root"]) / "train" / "000.jpg"
    with torch.no_grad():
        want = model.extract(normalize_images(eval_transform(64)(Image.open(first).convert("RGB"))[None]))[0].numpy()
    np.testing.assert_allclose(np.load(split_file)[0].astype(np.float32), want, rtol=2e-3, atol=2e-3)
    # a second run reuses the cache (no new files)
    again = CliRunner().invoke(cli, image_args(images, tmp_path / "frozen2", "--epochs", "1", "--freeze-backbone",
                                               "--cache-features", str(cache)))
    assert again.exit_code == 0, again.output
    assert sorted(cache.glob("*.npy")) == files


@pytest.mark.slow
def test_kssnet3d_on_frame_folders(tmp_path: Path) -> None:
    from PIL import Image

    from labelgraph.train.data import read_image_csv

    rng = np.random.default_rng(0)
    root = tmp_path / "videos"
    for split, n in (("train", 4), ("val", 2)):
        rows = []
        for i in range(n):
            folder = root / split / f"v{i}"
            folder.mkdir(parents=True)
            for f in range(6):
                Image.fromarray(rng.integers(0, 255, (36, 44, 3), dtype=np.uint8)).save(folder / f"{f:06d}.jpg")
            rows.append(f"{split}/v{i},{'walk;sit' if i % 2 else 'sit'}")
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    ls, _ = read_image_csv(root / "train.csv")
    graph, emb = write_label_inputs(tmp_path, ls, dim=8, kind="binary")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--model", "kssnet3d", "--backbone", "r3d_18", "--dataset",
                                      "imagefolder", "--root", str(root), "--graph", str(graph), "--embeddings",
                                      str(emb), "--no-pretrained", "--image-size", "32", "--frames", "4",
                                      "--batch-size", "2", "--epochs", "1", "--workers", "0", "--optimizer", "adam",
                                      "--lr", "0.001", "--accumulate", "2", "--val-fraction", "0.5", "--out",
                                      str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert read_log(out)[0]["val_images"] == 2
    state = load_checkpoint(out / "last.pt")
    assert state["model"]["laterals.2.g.weight"].shape == (256, 2, 1, 1, 1)   # 1×1×1 conv N → C of res4


@pytest.mark.parametrize("deterministic", [True, False])
def test_fit_restores_random_states_and_backend_flags(mulan: dict, tmp_path: Path, deterministic: bool) -> None:
    """fit() seeds numpy/torch and sets cudnn/TF32/deterministic flags; afterwards all are as before."""
    import random

    from labelgraph.train.config import TrainConfig
    from labelgraph.train.engine import fit

    data = mulan["yeast"]
    cfg = TrainConfig(dataset="mulan", annotations=str(data["annotations"]), backbone="features",
                      graph=str(data["graph"]), embeddings=str(data["embeddings"]), hidden=8, batch_size=256,
                      epochs=1, limit=300, workers=0, seed=3, deterministic=deterministic, out=str(tmp_path / "run"))
    # the opposite of what a deterministic run sets, and TF32 values a CUDA run would change
    flags = {"benchmark": True, "cudnn_tf32": False, "matmul_tf32": False}
    old = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32,
           torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    try:
        torch.backends.cudnn.benchmark = flags["benchmark"]
        torch.backends.cudnn.allow_tf32 = flags["cudnn_tf32"]
        torch.backends.cuda.matmul.allow_tf32 = flags["matmul_tf32"]
        torch.use_deterministic_algorithms(False)
        np.random.seed(12345)
        torch.manual_seed(54321)
        random.seed(7)
        want = (np.random.random(3), torch.rand(3), random.random())
        np.random.seed(12345)
        torch.manual_seed(54321)
        random.seed(7)
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        fit(cfg)
        assert (out := tmp_path / "run" / "last.pt").is_file(), out
        assert torch.backends.cudnn.benchmark is True
        assert torch.backends.cudnn.allow_tf32 is False and torch.backends.cuda.matmul.allow_tf32 is False
        assert torch.are_deterministic_algorithms_enabled() is False
        assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
        got = (np.random.random(3), torch.rand(3), random.random())
        np.testing.assert_array_equal(got[0], want[0])
        torch.testing.assert_close(got[1], want[1], rtol=0, atol=0)
        assert got[2] == want[2]
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old[:3]
        torch.use_deterministic_algorithms(old[3], warn_only=old[4])
