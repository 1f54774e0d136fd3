"""The VOC reader on the real VOC 2007 ImageSets/Main files, and its bad-input errors."""
from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from labelgraph.datasets import read_dataset
from labelgraph.datasets.voc import VOC_CLASSES, read_voc
from labelgraph.errors import DataError
from tests.conftest import require_shared


def test_trainval_reproduces_mlgcn_voc_adj_exactly() -> None:
    root = require_shared("voc2007")
    with open(require_shared("mlgcn", "voc_adj.pkl"), "rb") as handle:
        ref = pickle.load(handle, encoding="latin1")
    ls = read_voc(root, "trainval")
    assert ls.labels == tuple(x.strip() for x in (root / "categories.txt").read_text().split())
    assert ls.num_samples == 5011 and ls.source["dataset"] == "voc2007"
    Y = ls.Y.toarray().astype(np.int64)
    M = Y.T @ Y
    np.fill_diagonal(M, 0)
    assert np.array_equal(Y.sum(axis=0), ref["nums"])
    assert np.array_equal(M, ref["adj"])
    assert ls.source["difficult_entries"] == 607 and ls.source["difficult_counted"] is False
    stats = ls.statistics()
    assert np.array_equal(stats.n, ref["nums"]) and np.array_equal(stats.matrix.toarray(), ref["adj"])


def test_test_split_positives_are_the_published_counts() -> None:
    ls = read_voc(require_shared("voc2007"), "test")
    published = [204, 239, 282, 172, 212, 174, 721, 322, 417, 127, 190, 418, 274, 222, 2007, 224, 97, 223, 259, 229]
    assert ls.num_samples == 4952
    assert np.asarray(ls.Y.sum(axis=0)).ravel().tolist() == published


def test_difficult_counts_zero_entries() -> None:
    main = require_shared("voc2007", "ImageSets", "Main")
    # Independent count: parse the files here with plain string handling.
    ones = zeros = 0
    for name in VOC_CLASSES:
        for line in (main / f"{name}_val.txt").read_text().splitlines():
            flag = line.split()[1]
            ones += flag == "1"
            zeros += flag == "0"
    strict = read_voc(main, "val", year=2007)
    loose = read_voc(main, "val", year=2007, difficult=True)
    assert strict.Y.nnz == ones and loose.Y.nnz == ones + zeros == ones + 278
    assert loose.source["difficult_counted"] is True


def _devkit(tmp_path: Path, year: str = "2007", split: str = "trainval") -> Path:
    src = require_shared("voc2007", "ImageSets", "Main")
    main = tmp_path / "VOCdevkit" / f"VOC{year}" / "ImageSets" / "Main"
    main.mkdir(parents=True)
    for name in VOC_CLASSES:
        shutil.copy(src / f"{name}_{split}.txt", main / f"{name}_{split}.txt")
    return main


def test_accepts_devkit_root_year_folder_and_main(tmp_path: Path) -> None:
    main = _devkit(tmp_path)
    results = [read_voc(p) for p in (tmp_path / "VOCdevkit", main.parent.parent, main)]
    for ls in results:
        assert ls.num_samples == 5011 and ls.source["dataset"] == "voc2007"
        assert (ls.Y != results[0].Y).nnz == 0
    assert read_dataset("voc", tmp_path / "VOCdevkit").num_samples == 5011


def test_several_years_need_year(tmp_path: Path) -> None:
    _devkit(tmp_path, "2007")
    _devkit(tmp_path, "2012")
    with pytest.raises(DataError, match="several VOC years"):
        read_voc(tmp_path / "VOCdevkit")
    assert read_voc(tmp_path / "VOCdevkit", year=2012).source["dataset"] == "voc2012"


def test_value_other_than_1_minus1_0_names_file_and_line(tmp_path: Path) -> None:
    main = _devkit(tmp_path)
    path = main / "dog_trainval.txt"
    lines = path.read_text().splitlines()
    lines[41] = lines[41].split()[0] + " 2"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        read_voc(main)
    assert str(info.value).startswith(f"{path}:42: ") and "'2'" in str(info.value)


def test_class_files_must_list_the_same_images(tmp_path: Path) -> None:
    main = _devkit(tmp_path)
    path = main / "cat_trainval.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1] + ["999999 -1"]) + "\n")
    with pytest.raises(DataError, match=r"cat_trainval.txt:5011: image 999999 is not in aeroplane_trainval.txt"):
        read_voc(main)
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match="lists 5010 images"):
        read_voc(main)
    # Same images in another order: rows still follow the first file.
    path.write_text("\n".join(reversed(lines)) + "\n")
    assert (read_voc(main).Y != read_voc(require_shared("voc2007")).Y).nnz == 0


def test_missing_files_and_zero_samples(tmp_path: Path) -> None:
    main = _devkit(tmp_path)
    (main / "sofa_trainval.txt").unlink()
    with pytest.raises(DataError, match=r"sofa_trainval.txt: no such VOC class file"):
        read_voc(main)
    with pytest.raises(DataError, match="no such VOC folder"):
        read_voc(tmp_path / "nowhere")
    for name in VOC_CLASSES:
        (main / f"{name}_trainval.txt").write_text("")
    with pytest.raises(DataError, match="zero samples"):
        read_voc(main)


def test_duplicate_image_id(tmp_path: Path) -> None:
    main = _devkit(tmp_path)
    for name in VOC_CLASSES:
        path = main / f"{name}_trainval.txt"
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines + [lines[0]]) + "\n")
    with pytest.raises(DataError, match=r"aeroplane_trainval.txt:5012: image 000005 listed twice"):
        read_voc(main)


def test_difficult_marks_are_the_mask_and_leave_the_labels_alone() -> None:
    main = require_shared("voc2007", "ImageSets", "Main")
    # Independent: the (image, class) pairs flagged 0, parsed here with plain string handling.
    zeros = set()
    for name in VOC_CLASSES:
        for line in (main / f"{name}_test.txt").read_text().splitlines():
            image, flag = line.split()
            if flag == "0":
                zeros.add((image, name))
    for difficult in (False, True):
        ls = read_voc(main, "test", year=2007, difficult=difficult)
        rows, cols = ls.mask.nonzero()
        assert {(ls.sample_ids[r], ls.labels[c]) for r, c in zip(rows, cols)} == zeros
    strict = read_voc(main, "test", year=2007)
    assert strict.Y.multiply(strict.mask).nnz == 0   # a difficult-only entry is not a label
    plain = read_dataset("voc", main, split="test")
    assert (plain.Y != strict.Y).nnz == 0 and plain.mask is not None


def test_mask_follows_reorder_and_row_selection() -> None:
    ls = read_voc(require_shared("voc2007"), "test")
    dense = ls.mask.toarray()
    order = list(reversed(ls.labels))
    assert np.array_equal(ls.reorder(order).mask.toarray(), dense[:, ::-1])
    rows = [10, 3, 4000, 3]
    part = ls.take(rows)
    assert part.sample_ids == [ls.sample_ids[r] for r in rows]
    assert np.array_equal(part.mask.toarray(), dense[rows]) and np.array_equal(part.Y.toarray(), ls.Y.toarray()[rows])


def test_a_mask_of_the_wrong_shape_is_refused() -> None:
    import scipy.sparse as sp

    from labelgraph.labelset import LabelSet

    with pytest.raises(DataError, match="mask is"):
        LabelSet(["a", "b"], ("cat",), sp.csr_matrix([[1], [0]]), mask=sp.csr_matrix([[1, 0]]))
