"""Recipe fidelity (SPEC §5): VOC difficult marks through training and evaluation, gradient clipping,
backbone weights by name or file, fp32 logits under bf16 autocast."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("PIL")

from click.testing import CliRunner  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402

import labelgraph  # noqa: E402
from labelgraph.datasets.voc import VOC_CLASSES, read_voc  # noqa: E402
from labelgraph.errors import ConfigError  # noqa: E402
from labelgraph.train.config import TrainConfig  # noqa: E402
from labelgraph.train.engine import clip_gradients, evaluate_checkpoint, fit  # noqa: E402
from labelgraph.train.models import build_backbone, build_model  # noqa: E402
from labelgraph.train.models.backbones import FeatureBackbone  # noqa: E402
from labelgraph_cli.main import cli  # noqa: E402


# -- VOC difficult marks ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def voc(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A VOC 2007 devkit in miniature: real JPEGs, ImageSets/Main with 1/-1/0 flags, graph and embeddings;
    and the same images as an imagefolder CSV whose labels are VOC's 1s plus its 0s (difficult = positive)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("voc") / "VOC2007"
    main, jpegs = root / "ImageSets" / "Main", root / "JPEGImages"
    main.mkdir(parents=True)
    jpegs.mkdir()
    rng = np.random.default_rng(14)
    splits = {"trainval": [f"{i:06d}" for i in range(1, 13)], "test": [f"{i:06d}" for i in range(13, 23)]}
    flags = {}
    for split, ids in splits.items():
        f = np.where(rng.random((len(ids), 20)) < 0.15, 1, -1)
        f[np.arange(len(ids)), np.arange(len(ids)) % 20] = 1
        f[np.arange(len(ids)), (np.arange(len(ids)) + 7) % 20] = 1
        f[(rng.random(f.shape) < 0.12) & (f == -1)] = 0
        flags[split] = f
        for c, name in enumerate(VOC_CLASSES):
            (main / f"{name}_{split}.txt").write_text("".join(f"{s} {f[i, c]}\n" for i, s in enumerate(ids)))
        for s in ids:
            Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(jpegs / f"{s}.jpg")
    csv = root / "csv"
    csv.mkdir()
    for split, ids in splits.items():
        rows = [f"../JPEGImages/{s}.jpg,{';'.join(VOC_CLASSES[c] for c in range(20) if flags[split][i, c] >= 0)}"
                for i, s in enumerate(ids)]
        (csv / f"{split}.csv").write_text("\n".join(rows) + "\n")
    (csv / "labels.txt").write_text("\n".join(VOC_CLASSES) + "\n")
    ls = read_voc(root, "trainval")
    graph = labelgraph.build_graph(ls.statistics(), "binary", tau=0.3).save(root.parent / "g.npz")
    emb = labelgraph.Artifact.embeddings(ls.labels, rng.normal(size=(20, 8)).astype(np.float32)).save(
        root.parent / "e.npz")
    return {"root": root, "csv": csv, "graph": graph, "embeddings": emb, "flags": flags}


def _voc_cfg(voc: dict, out: Path, **extra) -> TrainConfig:
    values = dict(dataset="voc", root=str(voc["root"]), backbone="resnet18", weights="none", image_size=32,
                  batch_size=4, epochs=1, workers=0, device="cpu", hidden=8, lr=0.01, graph=str(voc["graph"]),
                  embeddings=str(voc["embeddings"]), out=str(out), seed=3)
    values.update(extra)
    return TrainConfig(**values)


def test_voc_metrics_and_val_loss_leave_the_difficult_marks_out(voc: dict, tmp_path: Path) -> None:
    record = fit(_voc_cfg(voc, tmp_path / "run", val_fraction=0))   # 1 epoch, none held out: last.pt is best.pt
    result = evaluate_checkpoint(tmp_path / "run" / "last.pt")
    flags = voc["flags"]["test"]
    keep = flags != 0
    targets = (flags == 1).astype(int)
    assert np.array_equal(result.targets, targets)
    aps = [average_precision_score(targets[keep[:, j], j], result.scores[keep[:, j], j])
           for j in range(20) if targets[keep[:, j], j].any()]
    assert result.metrics["mAP"] == pytest.approx(np.mean(aps), abs=1e-6)
    assert record["test"]["metrics"]["mAP"] == pytest.approx(np.mean(aps), abs=1e-6)
    x = result.scores.astype(np.float64)
    bce = np.logaddexp(0, x) - targets * x     # −[y log σ(x) + (1−y) log(1−σ(x))]
    assert record["test"]["loss"] == pytest.approx(bce[keep].mean(), rel=1e-5)
    # --difficult negative: the marks are plain negatives in the metrics too
    negative = evaluate_checkpoint(tmp_path / "run" / "last.pt", difficult="negative")
    plain = [average_precision_score(targets[:, j], result.scores[:, j]) for j in range(20) if targets[:, j].any()]
    assert negative.metrics["mAP"] == pytest.approx(np.mean(plain), abs=1e-6)


def test_difficult_positive_trains_exactly_as_labels_that_include_the_marks(voc: dict, tmp_path: Path) -> None:
    """ML-GCN's recipe: a VOC run (marks → positives in the loss) equals a run on a CSV where they are labels.

    The head trains on cached features of a frozen backbone (the same loss path, fast on a CPU)."""
    cache = str(tmp_path / "cache")
    fast = dict(epochs=2, freeze_backbone=True, cache_features=cache)
    as_voc = fit(_voc_cfg(voc, tmp_path / "voc", **fast))
    as_csv = fit(_voc_cfg(voc, tmp_path / "csv", dataset="imagefolder", root=str(voc["csv"]), split="trainval",
                          val_split="test", **fast))
    assert as_voc["train_loss"] == pytest.approx(as_csv["train_loss"], rel=1e-6)
    ignored = fit(_voc_cfg(voc, tmp_path / "ignore", difficult="ignore", **fast))
    negative = fit(_voc_cfg(voc, tmp_path / "negative", difficult="negative", **fast))
    losses = {as_voc["train_loss"], ignored["train_loss"], negative["train_loss"]}
    assert len(losses) == 3   # the three treatments reach the loss


# -- gradient clipping ------------------------------------------------------------------------------
def test_clipping_bounds_a_huge_gradient() -> None:
    torch.manual_seed(0)
    model = build_model("mlgcn", FeatureBackbone(16), torch.eye(5), torch.randn(5, 8), hidden=32)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = 1e6 * model(torch.randn(8, 16)).pow(2).sum()
    loss.backward()
    before = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
    norm = clip_gradients(opt, torch.amp.GradScaler("cpu", enabled=False), 10.0)
    after = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
    assert norm == pytest.approx(float(before), rel=1e-5) and norm > 1e3
    assert float(after) <= 10.0 * (1 + 1e-5) and float(after) == pytest.approx(10.0, rel=1e-4)


def _toy_mulan(tmp: Path) -> dict:
    (tmp / "toy.xml").write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
                                 '<label name="a"/><label name="b"/></labels>')
    head = "@relation toy\n@attribute x numeric\n@attribute y numeric\n@attribute a {0,1}\n@attribute b {0,1}\n"
    for split in ("train", "test"):
        (tmp / f"toy-{split}.arff").write_text(head + "@data\n" + "0,0,1,0\n1,0,1,0\n0,1,0,1\n1,1,0,1\n" * 2)
    g = labelgraph.Artifact.graph("binary", ["a", "b"], [[1, 0], [0, 1]]).save(tmp / "g.npz")
    e = labelgraph.Artifact.embeddings(["a", "b"], [[1.0, 0.0], [0.0, 1.0]]).save(tmp / "e.npz")
    return dict(dataset="mulan", annotations=str(tmp / "toy"), backbone="features", graph=str(g), embeddings=str(e),
                hidden=4, epochs=1, batch_size=8, workers=0, device="cpu", optimizer="sgd", momentum=0.0,
                weight_decay=0.0, schedule="constant")


def test_training_with_clipping_moves_the_weights_at_most_lr_times_the_bound(tmp_path: Path) -> None:
    """One SGD step (no momentum, no decay) with a clipped gradient moves the weights by lr · ‖g‖ ≤ lr · X."""
    base = _toy_mulan(tmp_path)

    def weights_after(name: str, **extra) -> torch.Tensor:
        fit(TrainConfig(**base, out=str(tmp_path / name), **extra))
        state = torch.load(tmp_path / name / "last.pt", weights_only=True)["model"]
        return torch.cat([state[k].flatten().double() for k in sorted(state) if k.startswith("gcn.")])

    start = weights_after("start", lr=1e-12)     # the seeded initial weights, moved by 1e-12 · g
    clipped = weights_after("clipped", lr=1.0, clip_grad_norm=1e-3, loss="asl")
    free = weights_after("free", lr=1.0, loss="asl")
    assert float((clipped - start).norm()) <= 1e-3 * (1 + 1e-4)
    assert float((free - start).norm()) > 1e-2
    config = json.loads((tmp_path / "clipped" / "config.json").read_text())
    assert config["clip_grad_norm"] == 1e-3 and config["loss"] == "asl"


def test_ml_gcn_presets_clip_at_10_and_use_the_2019_weights() -> None:
    for name in ("mlgcn-coco", "mlgcn-voc"):
        cfg = TrainConfig.from_preset(name)
        assert cfg.clip_grad_norm == 10.0 and cfg.weights == "IMAGENET1K_V1" and cfg.difficult == "positive"
    assert TrainConfig.from_preset("kssnet-coco").weights == "IMAGENET1K_V1"


# -- backbone weights ---------------------------------------------------------------------------------
def test_a_state_dict_file_loads_into_the_backbone(tmp_path: Path) -> None:
    import torchvision

    torch.manual_seed(5)
    net = torchvision.models.resnet18()
    torch.save(net.state_dict(), tmp_path / "r18.pth")
    backbone = build_backbone("resnet18", weights=str(tmp_path / "r18.pth"))
    assert torch.equal(backbone.stem[0].weight, net.conv1.weight)
    assert torch.equal(backbone.stages[3][1].bn2.running_var, net.layer4[1].bn2.running_var)
    # fc may be absent (a headless state_dict)
    torch.save({k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}, tmp_path / "headless.pt")
    assert torch.equal(build_backbone("resnet18", weights=str(tmp_path / "headless.pt")).stages[0][0].conv1.weight,
                       net.layer1[0].conv1.weight)


def test_a_state_dict_of_another_model_names_the_file_and_the_key(tmp_path: Path) -> None:
    import torchvision

    state = torchvision.models.resnet18().state_dict()
    state["layer2.0.conv1.weight"] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ConfigError, match=r"bad\.pth: not a state_dict of resnet18: layer2\.0\.conv1\.weight has shape"):
        build_backbone("resnet18", weights=str(tmp_path / "bad.pth"))
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(ConfigError, match=r"list\.pth: not a state_dict"):
        build_backbone("resnet18", weights=str(tmp_path / "list.pth"))
    with pytest.raises(ConfigError, match=r"nothing\.pth: no such weights file"):
        build_backbone("resnet18", weights=str(tmp_path / "nothing.pth"))


def test_weights_names_resolve_through_torchvision_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    from labelgraph.train.weights import weights_path

    # torchvision's file names of the two ResNet-101 weights (V1 = the 2019 weights ML-GCN used)
    assert weights_path("resnet101", "IMAGENET1K_V1")[0].name == "resnet101-63fe2227.pth"
    assert weights_path("resnet101", "IMAGENET1K_V2")[0].name == "resnet101-cd907fc2.pth"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("LABELGRAPH_OFFLINE", "1")
    with pytest.raises(ConfigError, match="resnet18-f37072fd.pth"):
        build_backbone("resnet18", weights="IMAGENET1K_V1")
    # a file in the cache is what a name loads
    import torchvision

    torch.manual_seed(1)
    net = torchvision.models.resnet18()
    path = weights_path("resnet18", "IMAGENET1K_V1")[0]
    path.parent.mkdir(parents=True)
    torch.save(net.state_dict(), path)
    assert torch.equal(build_backbone("resnet18", weights="imagenet1k_v1").stem[0].weight, net.conv1.weight)
    assert torch.equal(build_backbone("resnet18", pretrained=True).stem[0].weight, net.conv1.weight)   # DEFAULT


def test_an_unknown_weights_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="known: IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT, none"):
        build_backbone("resnet50", weights="IMAGENET1K_V3")
    from tests.test_train_errors import one_line_error
    from tests.test_train_run import write_images, write_label_inputs

    from labelgraph.train.data import read_image_csv

    root = write_images(tmp_path / "imgs", n_train=4, n_val=2, size=32)
    graph, emb = write_label_inputs(tmp_path, read_image_csv(root / "train.csv")[0])
    args = ["train", "--dataset", "imagefolder", "--root", str(root), "--graph", str(graph), "--embeddings", str(emb),
            "--backbone", "resnet18", "--image-size", "32", "--workers", "0", "--device", "cpu",
            "--out", str(tmp_path / "run"), "-q"]
    one_line_error(CliRunner().invoke(cli, [*args, "--weights", "V9"]), "--weights V9", "IMAGENET1K_V1, DEFAULT")
    one_line_error(CliRunner().invoke(cli, [*args, "--weights", "IMAGENET1K_V1", "--no-pretrained"]), "--weights")
    assert not (tmp_path / "run" / "last.pt").exists()


# -- fp32 logits under bf16 autocast ------------------------------------------------------------------
@pytest.mark.parametrize("model_name", ["mlgcn", "kssnet"])
def test_logits_are_fp32_under_bf16_autocast_without_new_ties(model_name: str) -> None:
    torch.manual_seed(0)
    labels = 80
    model = build_model(model_name, build_backbone("resnet18"), torch.eye(labels) * 0.5 + 0.5 / labels,
                        torch.randn(labels, 32), **({"hidden": 64} if model_name == "mlgcn" else {})).eval()
    x = torch.randn(6, 3, 64, 64)
    with torch.no_grad():
        fp32 = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = model(x)
    assert fp32.dtype == torch.float32 and mixed.dtype == torch.float32
    assert torch.unique(mixed).numel() == torch.unique(fp32).numel() == 6 * labels
    assert torch.unique(fp32.to(torch.bfloat16)).numel() < 6 * labels   # what bf16 logits would have tied


def test_the_gcn_classifier_matches_fp32_far_below_bf16_resolution() -> None:
    torch.manual_seed(1)
    model = build_model("mlgcn", build_backbone("resnet18"), torch.eye(20), torch.randn(20, 16), hidden=64).eval()
    feature = torch.randn(8, 512).abs()
    with torch.no_grad():
        ref = model.classify(feature)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = model.classify(feature)
            weight = model.label_classifier()
    assert weight.dtype == torch.float32
    # bf16 keeps 8 significant bits (relative step 2^-8 ≈ 4e-3); these agree to float32 rounding
    torch.testing.assert_close(got, ref, rtol=1e-6, atol=1e-6)


def test_the_recipe_options_reach_the_run_from_the_command_line(tmp_path: Path) -> None:
    base = _toy_mulan(tmp_path)
    args = ["train", "--dataset", "mulan", "--annotations", base["annotations"], "--backbone", "features",
            "--graph", base["graph"], "--embeddings", base["embeddings"], "--hidden", "4", "--epochs", "1",
            "--workers", "0", "--device", "cpu", "--out", str(tmp_path / "run"), "-q", "--loss", "asl",
            "--asl-gamma-neg", "2", "--asl-margin", "0.1", "--clip-grad-norm", "10", "--difficult", "ignore"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["loss"], config["asl_gamma_neg"], config["asl_margin"], config["clip_grad_norm"],
            config["difficult"]) == ("asl", 2.0, 0.1, 10.0, "ignore")
    bad = CliRunner().invoke(cli, [*args[:-2], "--out", str(tmp_path / "bad"), "--loss", "hinge"])
    assert bad.exit_code != 0 and "hinge" in bad.output and not (tmp_path / "bad").exists()
