"""The pyarrow fast path of label-list CSV shards: the same counts as the csv-module path, or it steps aside."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import labelgraph.datasets.user_plan as user_plan
from labelgraph.datasets import plan_statistics, read_dataset
from labelgraph.datasets.csv_arrow import arrow_csv_shard
from labelgraph.errors import DataError


def _python_and_fast(path: Path, monkeypatch: pytest.MonkeyPatch, **options):
    monkeypatch.setattr(user_plan, "FAST_CSV", False)
    slow = plan_statistics("csv", path, chunk_size=3, **options).run()
    monkeypatch.setattr(user_plan, "FAST_CSV", True)
    fast = plan_statistics("csv", path, chunk_size=3, **options).run()
    return slow, fast


def test_both_paths_agree_on_a_random_file_and_the_fast_one_runs(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    lines = ["sample,labels"] + [f" s{k} ," + ";".join(f" t{j} " for j in rng.integers(0, 30, rng.integers(0, 6)))
                                 for k in range(500)]
    path = tmp_path / "r.csv"
    path.write_text("\n".join(lines) + "\n\n")
    assert arrow_csv_shard(path, header=True, chunk_size=3, labels=None, delimiter=",", label_sep=";") is not None
    slow, fast = _python_and_fast(path, monkeypatch)
    whole = read_dataset("csv", path)
    for got in (slow, fast):
        assert got.labels == whole.labels and got.num_samples == 500 and got.empty == slow.empty
        assert np.array_equal(got.n, np.asarray(whole.Y.sum(axis=0)).ravel())
        assert np.array_equal(got.M.toarray(), slow.M.toarray())


@pytest.mark.parametrize("text", [
    "a,x;y\nb\nc,y\n",                 # a row without a label cell
    'a,"x;y"\n"b,1",y\n',              # quoted cells, a comma inside an id
    "a,x\n  ,  \nb,y\n",               # a row of blank cells is skipped
], ids=["one-cell", "quoted", "blank-cells"])
def test_rows_the_fast_path_declines_still_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(text)
    slow, fast = _python_and_fast(path, monkeypatch)
    whole = read_dataset("csv", path)
    assert fast.labels == slow.labels == whole.labels
    assert fast.n.tolist() == slow.n.tolist() == np.asarray(whole.Y.sum(axis=0)).ravel().tolist()
    assert fast.num_samples == whole.num_samples


@pytest.mark.parametrize("data, message", [
    (b"a,x\n,y\n", r"bad\.csv:2: empty sample id"),
    (b"a,x\nb,y,z\n", r"bad\.csv:2: expected 'sample,label;label', got 3 columns"),
    (b"a,x\nb,caf\xe9\n", r"bad\.csv:2: not UTF-8 text"),
    (b"a,x\nb,y\x00z\n", r"bad\.csv:2: a NUL byte"),
    (b"a,x\nb,y\na,z\n", r"bad\.csv:3: duplicate sample id 'a' \(first on line 1\)"),
    (b"a,x\nb," + b"y" * 5000 + b"\n", r"bad\.csv:2: a label of 5,000 characters"),
], ids=["empty-id", "three-columns", "not-utf8", "nul", "duplicate", "long-label"])
def test_errors_name_the_line_as_the_whole_file_reader_does(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(DataError, match=message) as whole:
        read_dataset("csv", path)
    with pytest.raises(DataError) as planned:
        plan_statistics("csv", path, chunk_size=1).run()
    assert str(planned.value) == str(whole.value)
