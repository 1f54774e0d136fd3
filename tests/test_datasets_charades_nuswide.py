"""Charades and NUS-WIDE readers on small files of the official formats written here."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from labelgraph.datasets import read_dataset
from labelgraph.datasets.charades import read_charades
from labelgraph.datasets.nuswide import read_nuswide
from labelgraph.errors import DataError

HEADER = ["id", "subject", "scene", "quality", "relevance", "verified", "script", "objects", "descriptions",
          "actions", "length"]
CLASSES = ["c000 Holding some clothes", "c001 Putting clothes somewhere", "c002 Taking some clothes from somewhere",
           "c097 Walking through a doorway", "c156 Someone is standing up from somewhere"]


def _charades(folder: Path, rows: list[tuple[str, str]], split: str = "train") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Charades_v1_classes.txt").write_text("\n".join(CLASSES) + "\n")
    path = folder / f"Charades_v1_{split}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for vid, actions in rows:
            writer.writerow([vid, "HR43", "Kitchen", "6", "7", "Yes",
                             "A person opens the door, then walks in;\nsits down.", "door;chair",
                             "A person walks, \"quickly\", in.", actions, "30.25"])
    return path


def test_charades_labels_and_empty_videos(tmp_path: Path) -> None:
    _charades(tmp_path / "Charades", [
        ("46GP8", "c097 0.00 6.90;c000 1.20 12.00;c097 20.0 24.5"),
        ("N11GT", ""),
        ("0IH69", "c156 3.1 8.0"),
    ])
    ls = read_charades(tmp_path / "Charades")
    assert ls.labels == tuple(line.split(" ", 1)[1] for line in CLASSES)
    assert ls.sample_ids == ["46GP8", "N11GT", "0IH69"]
    assert ls.Y.toarray().tolist() == [[1, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]]
    assert ls.source["class_ids"] == ["c000", "c001", "c002", "c097", "c156"]
    assert ls.source["videos_without_actions"] == 1 and ls.source["dataset"] == "charades"
    dropped = read_charades(tmp_path / "Charades" / "Charades_v1_train.csv", keep_empty=False)
    assert dropped.sample_ids == ["46GP8", "0IH69"] and dropped.source["dropped_empty"] == 1
    assert read_dataset("charades", tmp_path / "Charades").num_samples == 3


def test_charades_errors_name_file_and_line(tmp_path: Path) -> None:
    # Each data row spans two physical lines (a quoted newline in `script`): row k ends on line 1 + 2k.
    path = _charades(tmp_path, [("A", "c000 0 1"), ("B", "c123 0.0 1.0")])
    with pytest.raises(DataError) as info:
        read_charades(tmp_path)
    assert str(info.value) == f"{path}:5: video B: class 'c123' is not in Charades_v1_classes.txt"
    _charades(tmp_path, [("A", "c000 0")])
    with pytest.raises(DataError, match=r"Charades_v1_train.csv:3: video A: action 'c000 0' is not 'cXXX start end'"):
        read_charades(tmp_path)
    _charades(tmp_path, [("A", "c000 0 1"), ("A", "c001 0 1")])
    with pytest.raises(DataError, match=r"Charades_v1_train.csv:5: duplicate video id 'A'"):
        read_charades(tmp_path)
    _charades(tmp_path, [])
    with pytest.raises(DataError, match="zero samples"):
        read_charades(tmp_path)
    with pytest.raises(DataError, match="Charades_v1_test.csv: no such Charades CSV"):
        read_charades(tmp_path, "test")
    (tmp_path / "Charades_v1_classes.txt").write_text("c000 Holding\nHolding again\n")
    with pytest.raises(DataError, match=r"Charades_v1_classes.txt:2: expected 'c<nnn> <description>'"):
        read_charades(tmp_path / "Charades_v1_train.csv", classes=tmp_path / "Charades_v1_classes.txt")


CONCEPTS = ["airport", "animal", "beach", "bear"]
ROWS = [[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 1]]


def test_nuswide_groundtruth_layout(tmp_path: Path) -> None:
    (tmp_path / "Concepts81.txt").write_text("\n".join(CONCEPTS) + "\n")
    gt = tmp_path / "Groundtruth" / "TrainTestLabels"
    gt.mkdir(parents=True)
    for c, name in enumerate(CONCEPTS):
        (gt / f"Labels_{name}_Train.txt").write_text("".join(f"{row[c]}\n" for row in ROWS))
    ls = read_nuswide(tmp_path)
    assert ls.labels == tuple(CONCEPTS) and ls.sample_ids == ["0", "1", "2"] and ls.Y.toarray().tolist() == ROWS
    (tmp_path / "ImageList").mkdir()
    (tmp_path / "ImageList" / "TrainImagelist.txt").write_text("a\\1.jpg\nb\\2.jpg\nc\\3.jpg\n")
    assert read_nuswide(tmp_path).sample_ids == ["a\\1.jpg", "b\\2.jpg", "c\\3.jpg"]
    (gt / "Labels_beach_Train.txt").write_text("1\n0\n")
    with pytest.raises(DataError, match="Labels_beach_Train.txt: 2 rows, but Labels_airport_Train.txt has 3"):
        read_nuswide(tmp_path)
    (gt / "Labels_beach_Train.txt").write_text("1\n0\n-1\n")
    with pytest.raises(DataError, match=r"Labels_beach_Train.txt:3: value '-1' is not 0 or 1"):
        read_nuswide(tmp_path)
    with pytest.raises(DataError, match="Labels_airport_Test.txt: no such NUS-WIDE ground-truth file"):
        read_nuswide(tmp_path, "test")


def test_nuswide_row_file_layouts(tmp_path: Path) -> None:
    (tmp_path / "Concepts81.txt").write_text("\n".join(CONCEPTS) + "\n")
    (tmp_path / "train_labels.txt").write_text("".join(
        f"img{k}.jpg " + " ".join(map(str, row)) + "\n" for k, row in enumerate(ROWS)))
    by_folder = read_nuswide(tmp_path)
    by_file = read_nuswide(tmp_path / "train_labels.txt")
    for ls in (by_folder, by_file):
        assert ls.labels == tuple(CONCEPTS) and ls.Y.toarray().tolist() == ROWS
        assert ls.sample_ids == ["img0.jpg", "img1.jpg", "img2.jpg"] and ls.source["dataset"] == "nuswide"
    (tmp_path / "other.txt").write_text("1 1 1 1\n")
    assert read_nuswide(tmp_path, labels_file=tmp_path / "other.txt").Y.toarray().tolist() == [[1, 1, 1, 1]]
    (tmp_path / "other.txt").write_text("1 1 1\n")
    with pytest.raises(DataError, match=r"other.txt:1: 3 values, expected 4"):
        read_nuswide(tmp_path, labels_file=tmp_path / "other.txt")
    with pytest.raises(DataError, match="no such NUS-WIDE concept list"):
        read_nuswide(tmp_path / "other.txt", concepts=tmp_path / "nope.txt")
