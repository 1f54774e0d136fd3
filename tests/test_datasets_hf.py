"""The hf reader on datasets built here with `datasets` (save_to_disk folders and their Parquet), names from ClassLabel."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

datasets = pytest.importorskip("datasets")

from labelgraph.assemble.statistics import partial_statistics  # noqa: E402
from labelgraph.datasets import plan_statistics, read_dataset  # noqa: E402
from labelgraph.errors import ConfigError, DataError  # noqa: E402

NAMES = ["person", "bicycle", "car", "dog"]


def _rows(seed: int, num: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [sorted(set(rng.integers(0, len(NAMES), rng.integers(0, 4)).tolist())) for _ in range(num)]


def _dataset(rows: list[list[int]], names: list[str] = NAMES):
    feats = datasets.Features({"id": datasets.Value("string"),
                               "labels": datasets.Sequence(datasets.ClassLabel(names=names)),
                               "scene": datasets.ClassLabel(names=["indoor", "outdoor"])})
    return datasets.Dataset.from_dict({"id": [f"im{k}" for k in range(len(rows))], "labels": rows,
                                       "scene": [k % 2 for k in range(len(rows))]}, features=feats)


def _by_hand(rows: list[list[int]]) -> tuple[list[int], np.ndarray]:
    Y = np.zeros((len(rows), len(NAMES)), dtype=np.int64)
    for r, labels in enumerate(rows):
        Y[r, labels] = 1
    M = Y.T @ Y
    n = M.diagonal().tolist()
    np.fill_diagonal(M, 0)
    return n, M


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 20])
def test_a_save_to_disk_folder_with_shards(tmp_path: Path, chunk_size: int) -> None:
    rows = _rows(3, 50)
    _dataset(rows).save_to_disk(str(tmp_path / "ds"), num_shards=3)
    plan = plan_statistics("hf", tmp_path / "ds", chunk_size=chunk_size)
    assert len(plan.shards) == 3
    stats = partial_statistics(plan.run(), plan.source)
    n, M = _by_hand(rows)
    assert stats.labels == tuple(NAMES)  # ClassLabel order, from dataset_info.json
    assert stats.n.tolist() == n and np.array_equal(stats.matrix.toarray(), M)
    assert stats.num_samples == 50 and stats.meta["column"] == "labels"
    assert stats.meta["samples_without_labels"] == sum(1 for r in rows if not r)
    whole = read_dataset("hf", tmp_path / "ds")
    assert whole.labels == tuple(NAMES) and whole.Y.toarray().sum(axis=0).tolist() == n


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 20])
@pytest.mark.parametrize("layout", ["save_to_disk", "parquet"])
def test_runs_of_shards_count_in_one_pass_as_shard_by_shard(tmp_path: Path, chunk_size: int, layout: str) -> None:
    from labelgraph.engines import map_reduce

    rows = _rows(11, 61)
    if layout == "save_to_disk":
        _dataset(rows).save_to_disk(str(tmp_path / "ds"), num_shards=4)
        where = tmp_path / "ds"
    else:
        (tmp_path / "pq").mkdir()
        for k, (lo, hi) in enumerate([(0, 17), (17, 30), (30, 61)]):
            _dataset(rows).select(range(lo, hi)).to_parquet(str(tmp_path / "pq" / f"train-{k:05d}.parquet"))
        where = tmp_path / "pq"
    plan = plan_statistics("hf", where, chunk_size=chunk_size)
    n, M = _by_hand(rows)
    for pieces in (1, 2, 3):
        task, runs = plan.work(pieces)
        assert task is plan.run_task and [s for run in runs for s in run] == list(plan.shards)
        total = plan.finish(map_reduce(task, runs, engine="serial"))
        assert total.labels == tuple(NAMES) and total.n.tolist() == n and np.array_equal(total.M.toarray(), M)
        assert total.num_samples == len(rows) and total.empty == sum(1 for r in rows if not r)


def test_a_dataset_dict_split_and_a_scalar_class_label(tmp_path: Path) -> None:
    rows = _rows(4, 20)
    datasets.DatasetDict({"train": _dataset(rows), "test": _dataset(rows[:5])}).save_to_disk(str(tmp_path / "dd"))
    assert plan_statistics("hf", tmp_path / "dd").run().num_samples == 20
    assert plan_statistics("hf", tmp_path / "dd", split="test").run().num_samples == 5
    scene = plan_statistics("hf", tmp_path / "dd", column="scene").run()
    assert scene.labels == ("indoor", "outdoor") and scene.n.tolist() == [10, 10]
    with pytest.raises(DataError, match=r"dd: no split 'validation' \(splits: train, test\)"):
        plan_statistics("hf", tmp_path / "dd", split="validation")


def test_parquet_shards_name_labels_from_their_metadata(tmp_path: Path) -> None:
    rows = _rows(5, 30)
    ds = _dataset(rows)
    (tmp_path / "pq").mkdir()
    ds.select(range(0, 12)).to_parquet(str(tmp_path / "pq" / "train-00000.parquet"))
    ds.select(range(12, 30)).to_parquet(str(tmp_path / "pq" / "train-00001.parquet"))
    stats = plan_statistics("hf", str(tmp_path / "pq" / "train-*.parquet"), chunk_size=4).run()
    n, M = _by_hand(rows)
    assert stats.labels == tuple(NAMES) and stats.n.tolist() == n and np.array_equal(stats.M.toarray(), M)


def test_a_shard_with_other_class_names_is_named(tmp_path: Path) -> None:
    (tmp_path / "pq").mkdir()
    _dataset(_rows(6, 5)).to_parquet(str(tmp_path / "pq" / "a.parquet"))
    _dataset(_rows(7, 5), ["person", "bike", "car", "dog"]).to_parquet(str(tmp_path / "pq" / "b.parquet"))
    with pytest.raises(DataError, match=r"b\.parquet: column 'labels' has other ClassLabel names than a\.parquet "
                                        r"\('bike' for 'bicycle'\)"):
        plan_statistics("hf", tmp_path / "pq")


def test_no_class_label_feature_and_several(tmp_path: Path) -> None:
    plain = datasets.Dataset.from_dict({"text": ["a", "b"]})
    plain.save_to_disk(str(tmp_path / "plain"))
    with pytest.raises(DataError, match=r"plain: no Sequence\(ClassLabel\) or ClassLabel feature .*features: text"):
        plan_statistics("hf", tmp_path / "plain")
    two = _dataset(_rows(8, 3)).add_column("more", [[0], [1], []]).cast_column(
        "more", datasets.Sequence(datasets.ClassLabel(names=["x", "y"])))
    two.save_to_disk(str(tmp_path / "two"))
    with pytest.raises(ConfigError, match="several label features \\(labels, more\\): pass column=NAME"):
        plan_statistics("hf", tmp_path / "two")


def test_reading_does_not_import_datasets(tmp_path: Path) -> None:
    import subprocess

    _dataset(_rows(9, 4)).save_to_disk(str(tmp_path / "ds"))
    code = ("import sys; from labelgraph.datasets import plan_statistics; "
            f"t = plan_statistics('hf', {str(tmp_path / 'ds')!r}).run(); "
            "print(t.num_samples, 'datasets' in sys.modules, 'huggingface_hub' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4", "False", "False"]


def test_an_arrow_file_that_is_not_arrow(tmp_path: Path) -> None:
    _dataset(_rows(10, 4)).save_to_disk(str(tmp_path / "ds"))
    arrow = next((tmp_path / "ds").glob("*.arrow"))
    arrow.write_bytes(b"not arrow at all")
    with pytest.raises(DataError, match=r"data-00000-of-00001\.arrow: not an Arrow stream file"):
        plan_statistics("hf", tmp_path / "ds")


def test_parquet_metadata_is_what_names_the_labels(tmp_path: Path) -> None:
    meta = {"info": {"features": {"tags": {"feature": {"names": ["b", "a"], "_type": "ClassLabel"},
                                           "_type": "Sequence"}}}}
    schema = pa.schema([("tags", pa.list_(pa.int64()))], metadata={"huggingface": json.dumps(meta)})
    pq.write_table(pa.table({"tags": [[0, 1], [1]]}, schema=schema), tmp_path / "old.parquet")
    total = plan_statistics("hf", tmp_path / "old.parquet").run()
    assert total.labels == ("b", "a") and total.n.tolist() == [1, 2]
