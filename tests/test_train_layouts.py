"""The trainer finds images for COCO and VOC in their official folder layouts, through the real readers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from labelgraph.errors import DataError  # noqa: E402
from labelgraph.train.config import TrainConfig  # noqa: E402
from labelgraph.train.data import load_split  # noqa: E402


def _jpeg(path: Path, seed: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)


def test_coco_layout(tmp_path: Path) -> None:
    images = [{"id": i, "file_name": f"COCO_train2014_{i:012d}.jpg", "width": 32, "height": 24} for i in (9, 25, 30)]
    cats = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]
    anns = [{"id": 1, "image_id": 9, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 1, 1], "area": 1},
            {"id": 2, "image_id": 9, "category_id": 18, "iscrowd": 0, "bbox": [0, 0, 1, 1], "area": 1},
            {"id": 3, "image_id": 25, "category_id": 18, "iscrowd": 1, "bbox": [0, 0, 1, 1], "area": 1}]
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_train2014.json").write_text(
        json.dumps({"images": images, "annotations": anns, "categories": cats}))
    for i, im in enumerate(images):
        _jpeg(tmp_path / "train2014" / im["file_name"], i)
    data = load_split(TrainConfig(model="mlgcn", dataset="coco", root=str(tmp_path)), "train")
    # image 30 has no annotation and is dropped (ML-GCN's convention); labels alphabetical
    assert data.labels == ("dog", "person")
    found = {Path(p).name for p in data.items}
    assert found == {"COCO_train2014_000000000009.jpg", "COCO_train2014_000000000025.jpg"}
    by_name = dict(zip((Path(p).name for p in data.items), data.targets.tolist()))
    assert by_name["COCO_train2014_000000000009.jpg"] == [1, 1]
    assert by_name["COCO_train2014_000000000025.jpg"] == [1, 0]


def test_voc_layout_and_missing_image(tmp_path: Path) -> None:
    from labelgraph.datasets.voc import VOC_CLASSES

    voc = tmp_path / "VOCdevkit" / "VOC2007"
    main = voc / "ImageSets" / "Main"
    main.mkdir(parents=True)
    ids = ["000005", "000007"]
    for cls in VOC_CLASSES:
        flags = {"chair": ["1", "-1"], "car": ["-1", "1"]}.get(cls, ["-1", "-1"])
        (main / f"{cls}_trainval.txt").write_text("".join(f"{i} {f}\n" for i, f in zip(ids, flags)))
    (main / "trainval.txt").write_text("\n".join(ids) + "\n")
    for k, i in enumerate(ids):
        _jpeg(voc / "JPEGImages" / f"{i}.jpg", k)
    data = load_split(TrainConfig(model="mlgcn", dataset="voc", root=str(voc)), "trainval")
    assert [Path(p).name for p in data.items] == ["000005.jpg", "000007.jpg"]
    chair, car = data.labels.index("chair"), data.labels.index("car")
    assert data.targets[0, chair] == 1 and data.targets[1, car] == 1 and data.targets.sum() == 2
    (voc / "JPEGImages" / "000007.jpg").unlink()
    with pytest.raises(DataError, match=r"000007\.jpg: missing; 1 of 2 images"):
        load_split(TrainConfig(model="mlgcn", dataset="voc", root=str(voc)), "trainval")
    kept = load_split(TrainConfig(model="mlgcn", dataset="voc", root=str(voc), skip_missing=True), "trainval")
    assert len(kept) == 1 and kept.missing == 1
