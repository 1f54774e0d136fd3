"""Shard plans (SPEC §6): the chunked, sharded statistics equal, array for array, today's whole-file path."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelgraph.artifact import Artifact
from labelgraph.assemble.statistics import label_statistics, partial_statistics
from labelgraph.datasets import plan_statistics, read_dataset
from labelgraph.errors import DataError
from tests.conftest import require_shared
from tests.test_datasets_coco import _document, _write

CHUNKS = [1, 7, 1 << 20]


def _assert_same(a, b) -> None:
    assert a.labels == b.labels
    assert a.n.dtype == b.n.dtype and np.array_equal(a.n, b.n)
    assert a.matrix.dtype == b.matrix.dtype
    assert np.array_equal(a.matrix.toarray(), b.matrix.toarray())
    assert a.num_samples == b.num_samples


def _both(name: str, path: Path | str, chunk_size: int, **options):
    plan = plan_statistics(name, path, chunk_size=chunk_size, **options)
    plan = pickle.loads(pickle.dumps(plan))  # what a process pool or a Dask worker gets
    whole = read_dataset(name, path, **options)
    whole = whole if isinstance(whole, Artifact) else label_statistics(whole)
    return partial_statistics(plan.run(), plan.source), whole


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_voc2007_trainval(chunk_size: int) -> None:
    chunked, whole = _both("voc", require_shared("voc2007"), chunk_size, split="trainval")
    _assert_same(chunked, whole)
    assert chunked.num_samples == 5011 and chunked.meta["dataset"] == "voc2007"


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_coco_instances(tmp_path: Path, chunk_size: int) -> None:
    path = _write(tmp_path / "instances_train2014.json", _document(60, 200, seed=3))
    chunked, whole = _both("coco", path, chunk_size)
    _assert_same(chunked, whole)
    assert chunked.meta["crowd_annotations"] == whole.meta["crowd_annotations"]


@pytest.mark.parametrize("chunk_size", [7, 1 << 20])  # chunks of 1 row: VOC above (10,000 rows take 30 s)
def test_labelmatrix_deephash(chunk_size: int) -> None:
    path = require_shared("coco2014", "deephash", "train.txt")
    labels = require_shared("coco2014", "categories_alphabetical_order.txt")
    chunked, whole = _both("labelmatrix", path, chunk_size, labels=str(labels))
    _assert_same(chunked, whole)
    raw = np.loadtxt(path, dtype=np.int64, usecols=range(1, 81))  # independent parse
    assert np.array_equal(chunked.n, raw.sum(axis=0))


def test_mlgcn_pickle_is_one_given_shard() -> None:
    chunked, whole = _both("mlgcn-pkl", require_shared("mlgcn", "voc_adj.pkl"), 7,
                           labels=str(require_shared("mlgcn", "voc_categories.txt")))
    _assert_same(chunked, whole)


CSV = "sample,labels\nimg1,cat;dog\nimg2,dog\nimg3,\nimg4,bird;cat;dog\nimg5,bird\n"


@pytest.mark.parametrize("chunk_size", CHUNKS)
@pytest.mark.parametrize("text, options", [
    (CSV, {}),
    (CSV, {"labels": ["dog", "cat", "bird", "fish"]}),
    ("id,cat,dog,bird\na,1,1,0\nb,0,1,0\nc,0,0,0\n", {}),
    ("id,cat,dog,bird\na,1,1,0\nb,0,1,0\nc,0,0,0\n", {"labels": ["bird", "dog", "cat"]}),
    ("a\tx|y\nb\ty\n", {"delimiter": "\t", "label_sep": "|"}),
], ids=["lists", "lists-fixed", "one-hot", "one-hot-fixed", "tabs"])
def test_csv(tmp_path: Path, chunk_size: int, text: str, options: dict) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(text)
    chunked, whole = _both("csv", path, chunk_size, **options)
    _assert_same(chunked, whole)
    assert chunked.meta == whole.meta  # provenance too: path, dataset, format, file sha256s


@pytest.mark.parametrize("chunk_size", CHUNKS)
def test_jsonl_with_a_labels_file(tmp_path: Path, chunk_size: int) -> None:
    path = tmp_path / "mine.jsonl"
    path.write_text('{"id": "a", "labels": ["dog", "cat"]}\n\n{"id": 2, "labels": []}\n'
                    '{"id": "c", "labels": ["cat"]}\n')
    (tmp_path / "names.txt").write_text("cat\ndog\nemu\n")
    chunked, whole = _both("jsonl", path, chunk_size, labels=str(tmp_path / "names.txt"))
    _assert_same(chunked, whole)
    assert chunked.meta["files"] == whole.meta["files"]
    assert chunked.n.tolist() == [2, 1, 0] and chunked.meta["samples_without_labels"] == 1


def _write_lists(path: Path, Y: np.ndarray, names: list[str], start: int = 0) -> None:
    rows = [f"s{start + r}," + ";".join(names[c] for c in np.flatnonzero(Y[r])) for r in range(Y.shape[0])]
    path.write_text("\n".join(rows) + "\n")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(Y=st.integers(1, 25).flatmap(lambda n: st.integers(1, 6).flatmap(
    lambda c: st.lists(st.lists(st.booleans(), min_size=c, max_size=c), min_size=n, max_size=n))),
       chunk_size=st.integers(1, 30), cut=st.integers(0, 25))
def test_random_label_matrices_as_csv_shards(tmp_path: Path, Y: list, chunk_size: int, cut: int) -> None:
    Y = np.array(Y, dtype=np.int64)
    names = [f"l{k}" for k in range(Y.shape[1])]
    cut = min(cut, Y.shape[0])
    for old in tmp_path.glob("part-*.csv"):
        old.unlink()
    for k, (lo, hi) in enumerate([(0, cut), (cut, Y.shape[0])]):
        if hi > lo:  # an empty file is an error (as for one file), so every shard holds rows
            _write_lists(tmp_path / f"part-{k}.csv", Y[lo:hi], names, start=lo)
    plan = plan_statistics("csv", str(tmp_path / "part-*.csv"), chunk_size=chunk_size, labels=names)
    stats = partial_statistics(plan.run(), plan.source)
    M = Y.T @ Y  # by hand: co-occurrences off the diagonal, counts on it
    assert stats.n.tolist() == M.diagonal().tolist()
    np.fill_diagonal(M, 0)
    assert np.array_equal(stats.matrix.toarray(), M)
    assert stats.num_samples == Y.shape[0]
    assert stats.meta["samples_without_labels"] == int((Y.sum(axis=1) == 0).sum())


def test_a_glob_of_shards_equals_one_file_with_their_rows(tmp_path: Path) -> None:
    lines = CSV.splitlines()[1:]
    (tmp_path / "tags-2.csv").write_text("\n".join(lines[3:]) + "\n")   # sorted order: tags-1 first
    (tmp_path / "tags-1.csv").write_text("sample,labels\n" + "\n".join(lines[:3]) + "\n")
    (tmp_path / "all.csv").write_text(CSV)
    plan = plan_statistics("csv", str(tmp_path / "tags-*.csv"), chunk_size=2)
    assert [Path(s).name for s in plan.shards] == ["tags-1.csv", "tags-2.csv"]
    sharded = partial_statistics(plan.run(), plan.source)
    _assert_same(sharded, label_statistics(read_dataset("csv", tmp_path / "all.csv")))
    assert sharded.meta["dataset"] == "tags" and sharded.meta["shards"] == 2
    assert [Path(f["path"]).name for f in sharded.meta["files"]] == ["tags-1.csv", "tags-2.csv"]


def test_a_glob_matching_nothing_names_the_pattern(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"labels-\*\.csv: the pattern matches no CSV file"):
        plan_statistics("csv", str(tmp_path / "labels-*.csv"))


def test_one_hot_shards_with_other_columns_name_the_shard_and_column(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,cat,dog\nx,1,0\n")
    (tmp_path / "b.csv").write_text("id,cat,emu\ny,1,1\n")
    with pytest.raises(DataError, match=r"b\.csv:1: one-hot column 'emu' is not in the header of .*a\.csv"):
        plan_statistics("csv", str(tmp_path / "*.csv"))


def test_a_duplicate_id_within_a_shard_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,x\nb,y\nc,x\nb,x\n")
    with pytest.raises(DataError, match=r"d\.csv:4: duplicate sample id 'b' \(first on line 2\)"):
        plan_statistics("csv", path, chunk_size=1).run()


def test_an_unknown_label_names_the_file_and_line_of_its_shard(tmp_path: Path) -> None:
    (tmp_path / "p-1.csv").write_text("a,x\n")
    (tmp_path / "p-2.csv").write_text("b,x\nc,zebra\n")
    with pytest.raises(DataError, match=r"p-2\.csv:2: label 'zebra' is not in the label list"):
        plan_statistics("csv", str(tmp_path / "p-*.csv"), labels=["x"]).run()


def test_header_only_shards_have_no_samples(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("sample,labels\n")
    with pytest.raises(DataError, match=r"h\.csv: no samples"):
        plan_statistics("csv", tmp_path / "h.csv").run()


def test_a_bad_chunk_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="chunk size"):
        plan_statistics("csv", tmp_path / "x.csv", chunk_size=0)
