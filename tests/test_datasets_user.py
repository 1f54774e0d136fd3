"""User-format readers (csv, jsonl, labelmatrix) on real COCO label lists and on small files."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from labelgraph.datasets import read_dataset
from labelgraph.datasets.user import read_csv, read_jsonl, read_labelmatrix
from labelgraph.errors import ConfigError, DataError
from tests.conftest import require_shared


def _names(path: Path) -> list[str]:
    return [x.strip() for x in path.read_text().splitlines() if x.strip()]


def test_clipes_full_scale_in_alphabetical_order_is_bounded_by_mlgcn_counts() -> None:
    coco80 = require_shared("coco2014", "categories_coco80_order.txt")
    alphabetical = _names(require_shared("coco2014", "categories_alphabetical_order.txt"))
    with open(require_shared("mlgcn", "coco_adj.pkl"), "rb") as handle:
        ref = pickle.load(handle, encoding="latin1")
    ls = read_labelmatrix(require_shared("coco2014", "clipes", "train.txt"), labels=coco80, indices=True)
    assert ls.num_samples == 82081 and ls.labels == tuple(_names(coco80))
    aligned = ls.reorder(alphabetical)
    stats = aligned.statistics()
    assert int(stats.n.sum()) == 235_348
    assert (stats.n <= ref["nums"]).all()
    assert (stats.matrix.toarray() <= ref["adj"]).all()
    # The mapping matters: in COCO-80 order the same bound fails.
    unmapped = ls.statistics()
    assert not (unmapped.n <= ref["nums"]).all()


def test_deephash_rows_in_alphabetical_order() -> None:
    alphabetical = require_shared("coco2014", "categories_alphabetical_order.txt")
    path = require_shared("coco2014", "deephash", "train.txt")
    ls = read_labelmatrix(path, labels=alphabetical)
    raw = np.loadtxt(path, dtype=np.int8, usecols=range(1, 81))  # independent parse
    assert ls.num_samples == 10_000 and ls.labels == tuple(_names(alphabetical))
    assert np.array_equal(ls.Y.toarray(), raw)
    assert ls.sample_ids[0].startswith("train2014/COCO_train2014_")
    # Cross-check the order with the CLIP-ES lists: on shared images, CLIP-ES labels are a subset.
    clipes = read_labelmatrix(require_shared("coco2014", "clipes", "train.txt"),
                              labels=require_shared("coco2014", "categories_coco80_order.txt"),
                              indices=True).reorder(_names(alphabetical))
    row_of = {sid: r for r, sid in enumerate(clipes.sample_ids)}
    pairs = [(r, row_of[Path(sid).stem]) for r, sid in enumerate(ls.sample_ids) if Path(sid).stem in row_of]
    assert len(pairs) > 6000  # the train2014 images among the 10,000
    ours = ls.Y[[p[0] for p in pairs]].toarray()
    theirs = clipes.Y[[p[1] for p in pairs]].toarray()
    assert (theirs <= ours).all()


def test_labelmatrix_errors(tmp_path: Path) -> None:
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    rows = tmp_path / "rows.txt"
    rows.write_text("a 1 0\nb 1 2\n")
    with pytest.raises(DataError, match=r"rows.txt:2: label 'dog': value '2' is not 0 or 1"):
        read_labelmatrix(rows, labels=tmp_path / "labels.txt")
    rows.write_text("a 1 0\nb 1 0 1\n")
    with pytest.raises(DataError, match=r"rows.txt:2: 4 values, expected 2"):
        read_labelmatrix(rows, labels=tmp_path / "labels.txt")
    rows.write_text("a 1 0\n1 1\n")
    with pytest.raises(DataError, match=r"rows.txt:2: rows mix"):
        read_labelmatrix(rows, labels=tmp_path / "labels.txt")
    rows.write_text("a 0 1\na 1 1\n")
    with pytest.raises(DataError, match=r"rows.txt:2: duplicate sample id 'a'"):
        read_labelmatrix(rows, labels=tmp_path / "labels.txt")
    rows.write_text("a 0 5\n")
    with pytest.raises(DataError, match=r"rows.txt:1: label index '5' is not in 0..1"):
        read_labelmatrix(rows, labels=tmp_path / "labels.txt", indices=True)
    rows.write_text("\n\n")
    with pytest.raises(DataError, match="zero samples"):
        read_labelmatrix(rows, labels=tmp_path / "labels.txt")
    with pytest.raises(ConfigError, match="needs labels="):
        read_labelmatrix(rows)
    (tmp_path / "dup.txt").write_text("cat\ndog\ncat\n")
    with pytest.raises(DataError, match=r"dup.txt:3: label 'cat' listed twice \(first on line 1\)"):
        read_labelmatrix(rows, labels=tmp_path / "dup.txt")
    rows.write_text("1,0\n1,1\n")
    ls = read_labelmatrix(rows, labels=["cat", "dog"])
    assert ls.sample_ids == ["0", "1"] and ls.Y.toarray().tolist() == [[1, 0], [1, 1]]


def test_csv_label_lists(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("sample,labels\nimg1,dog;cat\nimg2,\"bird\"\nimg3,\n\nimg4,cat;cat\n")
    ls = read_csv(path)
    assert ls.labels == ("bird", "cat", "dog") and ls.sample_ids == ["img1", "img2", "img3", "img4"]
    assert ls.Y.toarray().tolist() == [[0, 1, 1], [1, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert ls.source["dataset"] == "mine" and ls.source["format"] == "label lists"
    # no header
    path.write_text("img1,dog;cat\nimg2,bird\n")
    assert read_csv(path).sample_ids == ["img1", "img2"]
    # a fixed label list decides the order and rejects other names, naming file:line and the label
    (tmp_path / "labels.txt").write_text("dog\ncat\n")
    path.write_text("sample,labels\nimg1,dog;cat\nimg2,cat\nimg3,horse\n")
    with pytest.raises(DataError) as info:
        read_csv(path, labels=tmp_path / "labels.txt")
    assert str(info.value) == f"{path}:4: label 'horse' is not in the label list"
    path.write_text("sample,labels\nimg1,dog;cat\nimg2,cat\n")
    assert read_csv(path, labels=tmp_path / "labels.txt").Y.toarray().tolist() == [[1, 1], [0, 1]]
    assert read_dataset("csv", path, labels=["cat", "dog"]).labels == ("cat", "dog")


def test_csv_one_hot(tmp_path: Path) -> None:
    path = tmp_path / "onehot.csv"
    path.write_text("image,cat,dog,bird\na,1,0,1\nb,0,0,0\nc,0,1,0\n")
    ls = read_csv(path)
    assert ls.labels == ("cat", "dog", "bird") and ls.source["format"] == "one-hot"
    assert ls.Y.toarray().tolist() == [[1, 0, 1], [0, 0, 0], [0, 1, 0]]
    reordered = read_csv(path, labels=["bird", "cat", "dog"])
    assert reordered.labels == ("bird", "cat", "dog") and reordered.Y.toarray()[0].tolist() == [1, 1, 0]
    with pytest.raises(DataError, match=r"onehot.csv:1: label 'bird' is not in the label list"):
        read_csv(path, labels=["cat", "dog"])
    path.write_text("image,cat,dog\na,1,0\nb,0,yes\n")
    with pytest.raises(DataError, match=r"onehot.csv:3: column 'dog': value 'yes' is not 0 or 1"):
        read_csv(path)
    path.write_text("image,cat,dog\na,1,0\na,0,1\n")
    with pytest.raises(DataError, match=r"onehot.csv:3: duplicate sample id 'a'"):
        read_csv(path)


def test_csv_zero_samples_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("sample,labels\n")
    with pytest.raises(DataError, match="zero samples"):
        read_csv(path)
    path.write_text("")
    with pytest.raises(DataError, match="zero samples"):
        read_csv(path)
    with pytest.raises(DataError, match="no such CSV file"):
        read_csv(tmp_path / "absent.csv")


def test_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text('{"id": "a", "labels": ["dog", "cat"]}\n\n{"id": 7, "labels": []}\n{"id": "c", "labels": ["dog"]}\n')
    ls = read_jsonl(path)
    assert ls.sample_ids == ["a", "7", "c"] and ls.labels == ("cat", "dog")
    assert ls.Y.toarray().tolist() == [[1, 1], [0, 0], [0, 1]]
    with pytest.raises(DataError, match=r"mine.jsonl:1: label 'dog' is not in the label list"):
        read_jsonl(path, labels=["cat"])
    path.write_text('{"id": "a", "labels": ["dog"]}\n{"id": "b", "labels": ["cat"\n')
    with pytest.raises(DataError, match=r"mine.jsonl:2: invalid JSON"):
        read_jsonl(path)
    path.write_text('{"id": "a", "labels": "dog"}\n')
    with pytest.raises(DataError, match=r"mine.jsonl:1: labels must be a list of strings"):
        read_jsonl(path)
    path.write_text('{"id": "a", "labels": []}\n{"id": "a", "labels": []}\n')
    with pytest.raises(DataError, match=r"mine.jsonl:2: duplicate sample id 'a'"):
        read_jsonl(path)
    path.write_text("\n")
    with pytest.raises(DataError, match="zero samples"):
        read_jsonl(path)
