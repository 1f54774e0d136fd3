"""The MULAN ARFF reader, the image CSV, the transforms, presets and the offline weights message."""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from labelgraph.datasets import read_dataset
from labelgraph.datasets.arff import mulan_files, read_arff
from labelgraph.errors import ConfigError, DataError
from labelgraph.train.config import PRESETS, TrainConfig
from tests.conftest import require_shared

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="needs torch (pip install 'labelgraph[train]')")

# MULAN catalogue / PROVENANCE.md: instances, features, labels, label cardinality
MULAN = {("scene", "train"): (1211, 294, 6, 1.062), ("scene", "test"): (1196, 294, 6, 1.086),
         ("yeast", "train"): (1500, 103, 14, 4.228), ("yeast", "test"): (917, 103, 14, 4.252),
         ("emotions", "train"): (391, 72, 6, 1.813), ("emotions", "test"): (202, 72, 6, 1.975)}


@pytest.mark.parametrize("name,split", list(MULAN))
def test_mulan_sets_match_their_catalogue(name: str, split: str) -> None:
    arff, xml = mulan_files(require_shared("mulan") / name, split)
    data = read_arff(arff, xml=xml)
    n, f, c, cardinality = MULAN[(name, split)]
    assert data.features.shape == (n, f) and data.labelset.Y.shape == (n, c)
    assert round(data.labelset.Y.sum() / n, 3) == cardinality


def test_mulan_first_row_read_by_hand() -> None:
    arff, xml = mulan_files(require_shared("mulan") / "emotions", "train")
    with gzip.open(arff, "rt") as handle:
        lines = handle.read().splitlines()
    first = [float(v) for v in lines[lines.index("@data") + 1].split(",")]
    data = read_arff(arff, xml=xml)
    np.testing.assert_allclose(data.features[0], np.array(first[:72], dtype=np.float32))
    assert data.labelset.Y.toarray()[0].tolist() == [int(v) for v in first[72:]]
    assert data.labelset.labels[0] == "amazed-suprised"


def test_registry_reads_mulan() -> None:
    ls = read_dataset("mulan", require_shared("mulan") / "yeast", split="test")
    assert ls.num_samples == 917 and ls.num_labels == 14


def test_sparse_arff_and_bad_values(tmp_path: Path) -> None:
    head = "@relation t\n@attribute f1 numeric\n@attribute f2 numeric\n@attribute a {0,1}\n@attribute b {0,1}\n@data\n"
    (tmp_path / "s.arff").write_text(head + "{0 2.5,3 1}\n{1 -1,2 1}\n")
    data = read_arff(tmp_path / "s.arff", num_labels=2)
    assert data.features.tolist() == [[2.5, 0.0], [0.0, -1.0]]
    assert data.labelset.Y.toarray().tolist() == [[0, 1], [1, 0]]
    (tmp_path / "bad.arff").write_text(head + "1,2,1,0\n1,x,0,1\n")
    with pytest.raises(DataError, match=r"bad.arff:8"):
        read_arff(tmp_path / "bad.arff", num_labels=2)
    (tmp_path / "two.arff").write_text(head + "1,2,2,0\n")
    with pytest.raises(DataError, match="label 'a' has value 2"):
        read_arff(tmp_path / "two.arff", num_labels=2)


@needs_torch
def test_image_csv_label_order_and_unknown_label(tmp_path: Path) -> None:
    from labelgraph.train.data import read_image_csv

    (tmp_path / "train.csv").write_text("a.jpg,dog;cat\nb.jpg,cat\n")
    ls, images = read_image_csv(tmp_path / "train.csv")
    assert ls.labels == ("dog", "cat") and images == ["a.jpg", "b.jpg"]
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    ls, _ = read_image_csv(tmp_path / "train.csv")
    assert ls.labels == ("cat", "dog") and ls.Y.toarray().tolist() == [[1, 1], [1, 0]]
    (tmp_path / "val.csv").write_text("c.jpg,bird\n")
    with pytest.raises(DataError, match="'bird'"):
        read_image_csv(tmp_path / "val.csv")


@needs_torch
def test_multiscale_crop_sizes_and_determinism(tmp_path: Path) -> None:
    import torch
    from PIL import Image

    from labelgraph.train.data import ImageDataset, MultiScaleCrop, SplitData, train_transform

    crop = MultiScaleCrop(16)
    torch.manual_seed(0)
    params = [crop.make_params([torch.zeros(3, 40, 60)]) for _ in range(200)]
    allowed = {int(40 * s) for s in (1.0, 0.875, 0.75, 0.66, 0.5)}
    assert {p["height"] for p in params} <= allowed and {p["width"] for p in params} <= allowed
    assert all(p["top"] + p["height"] <= 40 and p["left"] + p["width"] <= 60 for p in params)
    assert len({(p["height"], p["width"]) for p in params}) > 5
    # the same (epoch, sample) gives the same augmentation, another epoch another one
    img = tmp_path / "aug.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(img)
    ds = ImageDataset(SplitData("image", ("a",), np.ones((1, 1), np.float32), ["x"], [img]), train_transform(16))
    torch.testing.assert_close(ds[(3, 0)][0], ds[(3, 0)][0])
    assert any(not torch.equal(ds[(3, 0)][0], ds[(e, 0)][0]) for e in range(4, 10))


def test_presets_hold_the_papers_numbers() -> None:
    assert set(PRESETS) == {"mlgcn-coco", "mlgcn-voc", "kssnet-coco", "kssnet-charades"}
    m = TrainConfig.from_preset("mlgcn-coco")
    assert (m.optimizer, m.lr, m.momentum, m.weight_decay) == ("sgd", 0.1, 0.9, 1e-4)
    assert m.lr * m.backbone_lr_mult == pytest.approx(0.01)
    assert (m.lr_steps, m.epochs, m.image_size, m.pool) == ((30,), 40, 448, "max")
    k = TrainConfig.from_preset("kssnet-coco")
    assert (k.optimizer, k.lr, k.batch_size, k.epochs, k.weight_decay) == ("adam", 0.01, 80, 100, 1e-4)
    c = TrainConfig.from_preset("kssnet-charades")
    assert (c.model, c.lr, c.batch_size, c.dropout) == ("kssnet3d", 1e-3, 16, 0.5)
    assert c.lr * c.backbone_lr_mult == pytest.approx(1e-4)
    assert TrainConfig.from_preset("mlgcn-voc", epochs=3).epochs == 3


def test_config_rejects_bad_combinations() -> None:
    with pytest.raises(ConfigError, match="--cache-features works with mlgcn only"):
        TrainConfig(model="kssnet", freeze_backbone=True, cache_features="c").validate()
    with pytest.raises(ConfigError, match="unknown training option"):
        TrainConfig.from_dict({"learning_rate": 0.1})


@needs_torch
def test_missing_pretrained_weights_offline_names_file_and_folder(tmp_path: Path, monkeypatch) -> None:
    from labelgraph.train.weights import load_pretrained_state

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("LABELGRAPH_OFFLINE", "1")
    with pytest.raises(ConfigError) as info:
        load_pretrained_state("resnet101")
    message = str(info.value)
    assert "resnet101-cd907fc2.pth" in message and str(tmp_path / "torch" / "hub" / "checkpoints") in message
    assert "--no-pretrained" in message and "\n" not in message
