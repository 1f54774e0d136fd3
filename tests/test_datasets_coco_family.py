"""LVIS v1 and Objects365 annotation files (their real structure, written here) load through the coco reader."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from labelgraph.assemble.statistics import partial_statistics
from labelgraph.datasets import plan_statistics, read_dataset


def _lvis_category(cid: int, name: str, synonyms: list[str], freq: str) -> dict:
    return {"id": cid, "name": name, "synonyms": synonyms, "def": f"a {name.replace('_', ' ')}",
            "synset": f"{name}.n.01", "image_count": 3, "instance_count": 5, "frequency": freq}


def _lvis_image(iid: int, neg: list[int], not_exhaustive: list[int]) -> dict:
    return {"id": iid, "coco_url": f"http://images.cocodataset.org/train2017/{iid:012d}.jpg", "height": 480,
            "width": 640, "license": 1, "flickr_url": "http://farm4.staticflickr.com/x.jpg",
            "date_captured": "2013-11-17 05:57:24", "neg_category_ids": neg, "not_exhaustive_category_ids": not_exhaustive}


def _lvis_annotation(aid: int, iid: int, cid: int) -> dict:
    return {"id": aid, "image_id": iid, "category_id": cid, "area": 812.5, "bbox": [10.0, 20.0, 30.0, 40.0],
            "segmentation": [[10.0, 20.0, 40.0, 20.0, 40.0, 60.0]]}  # LVIS has no iscrowd


def test_lvis_v1_counts_only_annotated_categories(tmp_path: Path) -> None:
    cats = [_lvis_category(1, "aerosol_can", ["aerosol_can", "spray_can"], "c"),
            _lvis_category(2, "air_conditioner", ["air_conditioner"], "f"),
            _lvis_category(3, "airplane", ["airplane", "aeroplane"], "f"),
            _lvis_category(4, "alarm_clock", ["alarm_clock"], "r")]
    images = [_lvis_image(101, neg=[4], not_exhaustive=[2]),  # 4 verified absent; 2 present, not all boxed
              _lvis_image(102, neg=[1, 3], not_exhaustive=[]),
              _lvis_image(103, neg=[], not_exhaustive=[]),    # no annotation: dropped (keep_empty keeps it)
              _lvis_image(104, neg=[2], not_exhaustive=[3])]
    anns = [_lvis_annotation(1, 101, 1), _lvis_annotation(2, 101, 2), _lvis_annotation(3, 101, 2),
            _lvis_annotation(4, 102, 2), _lvis_annotation(5, 102, 4), _lvis_annotation(6, 104, 3),
            _lvis_annotation(7, 104, 1)]
    doc = {"info": {"description": "LVIS v1", "version": "1.0"}, "licenses": [{"id": 1, "name": "x", "url": "y"}],
           "images": images, "annotations": anns, "categories": cats}
    path = tmp_path / "lvis_v1_train.json"
    path.write_text(json.dumps(doc))
    plan = plan_statistics("coco", path, chunk_size=2)
    stats = partial_statistics(plan.run(), plan.source)
    # by hand: 101 {aerosol_can, air_conditioner}, 102 {air_conditioner, alarm_clock}, 104 {airplane, aerosol_can}
    assert stats.labels == ("aerosol_can", "air_conditioner", "airplane", "alarm_clock")
    assert stats.n.tolist() == [2, 2, 1, 1]
    assert stats.matrix.toarray().tolist() == [[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]
    assert stats.num_samples == 3
    assert stats.meta["dataset"] == "lvis_v1" and stats.meta["split"] == "train"
    assert read_dataset("coco", path, keep_empty=True).num_samples == 4


def test_objects365_with_its_365_categories(tmp_path: Path) -> None:
    rng = random.Random(365)
    first = ["Person", "Sneakers", "Chair", "Other Shoes", "Hat", "Car", "Lamp", "Glasses"]
    names = first + [f"Object {k}" for k in range(len(first) + 1, 366)]
    cats = [{"id": k + 1, "name": name, "supercategory": "object"} for k, name in enumerate(names)]
    images = [{"id": 1000 + k, "file_name": f"images/v2/patch0/objects365_v2_{k:08d}.jpg", "height": 512,
               "width": 683, "license": 5, "url": ""} for k in range(40)]
    anns, aid = [], 1
    truth: dict[int, set[int]] = {}
    for img in images[:30]:
        for cid in rng.sample(range(1, 366), rng.randint(1, 6)):
            for _ in range(rng.randint(1, 3)):  # several boxes of one category: one label
                anns.append({"id": aid, "image_id": img["id"], "category_id": cid, "bbox": [1, 2, 3, 4],
                             "area": 12.0, "iscrowd": int(rng.random() < 0.05), "isfake": 0})
                aid += 1
            truth.setdefault(img["id"], set()).add(cid)
    path = tmp_path / "zhiyuan_objv2_train.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats,
                                "licenses": [{"id": 5, "name": "CC BY 4.0", "url": ""}]}))
    ls = read_dataset("coco", path, order="category-id")
    assert ls.num_labels == 365 and ls.labels[:3] == ("Person", "Sneakers", "Chair")
    Y = np.zeros((30, 365), dtype=np.int64)  # by hand, in file order of the annotated images
    for r, img in enumerate(images[:30]):
        Y[r, [c - 1 for c in truth[img["id"]]]] = 1
    plan = plan_statistics("coco", path, chunk_size=7, order="category-id")
    stats = partial_statistics(plan.run(), plan.source)
    M = Y.T @ Y
    assert stats.n.tolist() == M.diagonal().tolist()
    np.fill_diagonal(M, 0)
    assert np.array_equal(stats.matrix.toarray(), M)
    assert stats.num_samples == 30 and stats.meta["dropped_empty"] == 10
    assert stats.meta["dataset"] == "zhiyuan_objv2"
