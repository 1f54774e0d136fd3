"""The COCO reader on small files of the official instances_*.json structure written here."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from labelgraph.datasets import read_dataset
from labelgraph.datasets.coco import read_coco
from labelgraph.errors import ConfigError, DataError

# A slice of the real COCO category table: non-contiguous ids, names not in id order.
CATEGORIES = [
    {"supercategory": "person", "id": 1, "name": "person"},
    {"supercategory": "vehicle", "id": 3, "name": "car"},
    {"supercategory": "animal", "id": 18, "name": "dog"},
    {"supercategory": "kitchen", "id": 44, "name": "bottle"},
    {"supercategory": "furniture", "id": 62, "name": "chair"},
    {"supercategory": "electronic", "id": 77, "name": "cell phone"},
    {"supercategory": "indoor", "id": 90, "name": "toothbrush"},
]


def _image(iid: int, year: int, split: str) -> dict:
    name = f"COCO_{split}{year}_{iid:012d}.jpg" if year == 2014 else f"{iid:012d}.jpg"
    return {"license": 3, "file_name": name, "coco_url": f"http://images.cocodataset.org/{split}{year}/{name}",
            "height": 480, "width": 640, "date_captured": "2013-11-14 16:28:13",
            "flickr_url": "http://farm2.staticflickr.com/1/x.jpg", "id": iid}


def _annotation(aid: int, iid: int, cid: int, crowd: bool, rng: random.Random) -> dict:
    if crowd:
        seg: object = {"counts": [rng.randint(0, 300) for _ in range(30)], "size": [480, 640]}
    else:
        seg = [[round(rng.uniform(0, 600), 2) for _ in range(16)]]
    return {"segmentation": seg, "area": 1234.5, "iscrowd": int(crowd), "image_id": iid,
            "bbox": [1.0, 2.5, 30.25, 40.0], "category_id": cid, "id": aid}


def _document(num_images: int, num_annotations: int, seed: int, year: int = 2014, split: str = "train",
              crowd_rate: float = 0.05) -> dict:
    rng = random.Random(seed)
    image_ids = rng.sample(range(1, 10 * num_images + 10), num_images)
    annotated = image_ids[: max(1, int(num_images * 0.8))]  # a fifth of the images get no annotation
    anns = [_annotation(1000 + k, rng.choice(annotated), rng.choice(CATEGORIES)["id"], rng.random() < crowd_rate,
                        rng) for k in range(num_annotations)]
    return {"info": {"description": f"COCO {year} Dataset", "year": year},
            "images": [_image(i, year, split) for i in image_ids],
            "licenses": [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 1, "name": "x"}],
            "annotations": anns, "categories": CATEGORIES}


def _write(path: Path, doc: dict, keys: list[str] | None = None, indent: int | None = None) -> Path:
    ordered = {k: doc[k] for k in (keys or list(doc))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ordered, indent=indent))
    return path


def _expected(doc: dict, keep_empty: bool, order: list[str]) -> tuple[list[str], np.ndarray]:
    """Image-level labels computed independently, with plain dicts and sets."""
    name_of = {c["id"]: c["name"] for c in doc["categories"]}
    per_image: dict[int, set[str]] = {}
    for ann in doc["annotations"]:
        per_image.setdefault(ann["image_id"], set()).add(name_of[ann["category_id"]])
    ids = [img["id"] for img in doc["images"] if keep_empty or img["id"] in per_image]
    Y = np.array([[int(name in per_image.get(i, set())) for name in order] for i in ids], dtype=np.int8)
    return [str(i) for i in ids], Y.reshape(len(ids), len(order))


ALPHABETICAL = sorted(c["name"] for c in CATEGORIES)
BY_ID = [c["name"] for c in sorted(CATEGORIES, key=lambda c: c["id"])]


@pytest.mark.parametrize("keep_empty", [False, True])
def test_2014_layout_folder_matches_independent_labels(tmp_path: Path, keep_empty: bool) -> None:
    doc = _document(300, 1500, seed=1)
    _write(tmp_path / "coco" / "annotations" / "instances_train2014.json", doc)
    ls = read_coco(tmp_path / "coco", "train", keep_empty=keep_empty)
    ids, Y = _expected(doc, keep_empty, ALPHABETICAL)
    assert ls.labels == tuple(ALPHABETICAL)
    assert list(ls.sample_ids) == ids
    assert np.array_equal(ls.Y.toarray(), Y)
    crowd = sum(a["iscrowd"] for a in doc["annotations"])
    assert crowd > 0 and ls.source["crowd_annotations"] == crowd
    assert ls.source["annotations"] == 1500 and ls.source["dataset"] == "coco2014"
    empty = 300 - len({a["image_id"] for a in doc["annotations"]})
    assert ls.source["images_without_annotations"] == empty > 0
    assert ls.source["dropped_empty"] == (0 if keep_empty else empty)
    assert ls.source["category_ids"] == [next(c["id"] for c in CATEGORIES if c["name"] == n) for n in ALPHABETICAL]


def test_2017_layout_unusual_key_order_and_orders(tmp_path: Path) -> None:
    doc = _document(200, 900, seed=2, year=2017, split="val")
    path = _write(tmp_path / "annotations" / "instances_val2017.json", doc,
                  keys=["annotations", "categories", "licenses", "info", "images"], indent=1)
    by_name = read_coco(path)
    by_id = read_coco(tmp_path, "val", order="category-id")
    assert by_name.source["dataset"] == "coco2017" and by_name.source["split"] == "val"
    ids, Y = _expected(doc, False, BY_ID)
    assert by_id.labels == tuple(BY_ID) and list(by_id.sample_ids) == ids and np.array_equal(by_id.Y.toarray(), Y)
    # the same labels, permuted
    assert (by_id.reorder(ALPHABETICAL).Y != by_name.Y).nnz == 0
    custom = list(reversed(ALPHABETICAL))
    (tmp_path / "order.txt").write_text("\n".join(custom) + "\n")
    by_file = read_coco(path, order=tmp_path / "order.txt")
    assert by_file.labels == tuple(custom) and (by_file.reorder(ALPHABETICAL).Y != by_name.Y).nnz == 0
    assert read_dataset("coco", path).num_samples == by_name.num_samples


def test_crowd_only_image_is_labelled(tmp_path: Path) -> None:
    doc = {"images": [_image(5, 2017, "train"), _image(6, 2017, "train")], "categories": CATEGORIES,
           "annotations": [_annotation(1, 5, 18, True, random.Random(0)),
                           _annotation(2, 6, 1, False, random.Random(0)),
                           _annotation(3, 6, 1, True, random.Random(0))]}
    ls = read_coco(_write(tmp_path / "instances_train2017.json", doc))
    assert ls.sample_ids == ["5", "6"]
    assert ls.Y.toarray()[:, [ALPHABETICAL.index("dog"), ALPHABETICAL.index("person")]].tolist() == [[1, 0], [0, 1]]
    assert ls.Y.sum() == 2 and ls.source["crowd_annotations"] == 2


def test_folder_with_both_years_needs_year(tmp_path: Path) -> None:
    _write(tmp_path / "annotations" / "instances_train2014.json", _document(20, 40, seed=3))
    _write(tmp_path / "annotations" / "instances_train2017.json", _document(30, 40, seed=4, year=2017))
    with pytest.raises(ConfigError, match="choose one with year="):
        read_coco(tmp_path)
    assert read_coco(tmp_path, year=2017).source["dataset"] == "coco2017"
    with pytest.raises(DataError, match="no instances_val2014.json or instances_val2017.json"):
        read_coco(tmp_path, "val")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"instances_train2014.json: no such COCO annotation file"):
        read_coco(tmp_path / "instances_train2014.json")


def test_truncated_json_names_the_end_byte(tmp_path: Path) -> None:
    text = json.dumps(_document(300, 1000, seed=5))
    path = tmp_path / "instances_train2014.json"
    path.write_text(text[: len(text) * 2 // 3])
    with pytest.raises(DataError) as info:
        read_coco(path)
    size = path.stat().st_size
    assert str(info.value) == f"{path}: truncated JSON at byte {size} (premature end of file)"


@pytest.mark.parametrize("where", [0.01, 0.5, 0.93])
def test_invalid_json_names_the_byte(tmp_path: Path, where: float) -> None:
    text = json.dumps(_document(400, 1500, seed=6))
    # Replace a number deep inside the file (past the first 64 KiB chunk for the later cases) with garbage.
    start = text.index('"area": 1234.5', int(len(text) * where)) + len('"area": ')
    broken = text[:start] + "12#4.5" + text[start + len("1234.5"):]
    path = tmp_path / "instances_train2014.json"
    path.write_text(broken)
    with pytest.raises(DataError) as info:
        read_coco(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid JSON at byte ")
    byte = int(message.split("at byte ")[1].split(":")[0])
    assert broken.encode()[byte:byte + 1] == b"#", message
    with pytest.raises(json.JSONDecodeError) as ref:  # the standard library agrees on the position
        json.loads(broken)
    assert abs(ref.value.pos - byte) <= 2


def test_unknown_image_and_category_ids_name_the_annotation(tmp_path: Path) -> None:
    doc = _document(50, 100, seed=7)
    doc["annotations"][37]["image_id"] = 99_999_999
    path = _write(tmp_path / "instances_train2014.json", doc)
    with pytest.raises(DataError, match=rf"^{path}: annotation 1037 refers to unknown image_id 99999999$"):
        read_coco(path)
    doc = _document(50, 100, seed=7)
    doc["annotations"][12]["category_id"] = 91
    _write(path, doc)
    with pytest.raises(DataError, match=rf"^{path}: annotation 1012 has unknown category_id 91$"):
        read_coco(path)


def test_duplicate_ids(tmp_path: Path) -> None:
    doc = _document(50, 100, seed=8)
    doc["images"].append(dict(doc["images"][10]))
    path = _write(tmp_path / "instances_train2014.json", doc)
    with pytest.raises(DataError, match=rf"^{path}: duplicate image id {doc['images'][10]['id']}$"):
        read_coco(path)
    doc = _document(50, 100, seed=8)
    doc["categories"] = CATEGORIES + [{"id": 3, "name": "truck"}]
    _write(path, doc)
    with pytest.raises(DataError, match="duplicate category id 3"):
        read_coco(path)


def test_zero_samples_and_wrong_structure(tmp_path: Path) -> None:
    path = tmp_path / "instances_val2017.json"
    _write(path, {"images": [], "annotations": [], "categories": CATEGORIES})
    with pytest.raises(DataError, match="zero samples"):
        read_coco(path)
    _write(path, {"images": [_image(1, 2017, "val")], "annotations": [], "categories": CATEGORIES})
    with pytest.raises(DataError, match="no image with an annotation"):
        read_coco(path)
    assert read_coco(path, keep_empty=True).num_samples == 1
    _write(path, {"images": [_image(1, 2017, "val")], "categories": CATEGORIES})
    with pytest.raises(DataError, match="not a COCO instances file: no 'annotations'"):
        read_coco(path)
    path.write_text("[1, 2]")
    with pytest.raises(DataError, match="top level is a array"):
        read_coco(path)
    _write(path, {"images": [{"file_name": "x.jpg"}], "annotations": [], "categories": CATEGORIES})
    with pytest.raises(DataError, match="image #1 has no id"):
        read_coco(path)
    _write(path, {"images": [_image(1, 2017, "val")], "categories": CATEGORIES,
                  "annotations": [{"id": 4, "image_id": 1, "category_id": "dog"}]})
    with pytest.raises(DataError, match="annotation 4: category_id is 'dog', expected an integer"):
        read_coco(path)


def test_order_file_must_match_categories(tmp_path: Path) -> None:
    path = _write(tmp_path / "instances_train2014.json", _document(20, 40, seed=9))
    (tmp_path / "order.txt").write_text("person\ncar\n")
    with pytest.raises(DataError, match=r"order.txt: label order does not match"):
        read_coco(path, order=tmp_path / "order.txt")
    with pytest.raises(ConfigError, match="order must be one of"):
        read_coco(path, order="by-frequency")


def test_pure_python_ijson_backend_gives_the_same_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ijson

    from labelgraph.datasets import coco

    path = _write(tmp_path / "instances_train2017.json", _document(120, 400, seed=10, year=2017),
                  keys=["categories", "annotations", "images"])
    fast = read_coco(path)
    monkeypatch.setattr(coco, "_backend", lambda: ijson.get_backend("python"))
    slow = read_coco(path)
    assert slow.sample_ids == fast.sample_ids and (slow.Y != fast.Y).nnz == 0
