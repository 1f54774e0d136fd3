"""The parquet reader on shards written here with pyarrow: string and int label lists, nulls, empty lists."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from labelgraph.assemble.statistics import label_statistics, partial_statistics
from labelgraph.datasets import plan_statistics, read_dataset
from labelgraph.errors import ConfigError, DataError

NAMES = ["cat", "dog", "emu", "fox"]


def _random_rows(seed: int, num: int) -> list:
    """Label lists with repeats, nulls, empty lists and null items."""
    rng = np.random.default_rng(seed)
    rows: list = []
    for _ in range(num):
        u = rng.random()
        if u < 0.1:
            rows.append(None)
        elif u < 0.2:
            rows.append([])
        else:
            items = [NAMES[k] for k in rng.integers(0, len(NAMES), rng.integers(1, 5))]
            rows.append(items + [None] if rng.random() < 0.1 else items)
    return rows


def _by_hand(rows: list, order: list[str]) -> tuple[np.ndarray, np.ndarray]:
    Y = np.array([[int(r is not None and name in r) for name in order] for r in rows], dtype=np.int64)
    M = Y.T @ Y
    n = M.diagonal().copy()
    np.fill_diagonal(M, 0)
    return n, M


def _write_shards(folder: Path, rows: list, cuts: list[int], *, ints: bool = False, row_group_size: int = 5) -> None:
    folder.mkdir(exist_ok=True)
    bounds = [0, *cuts, len(rows)]
    for k, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        part = rows[lo:hi]
        if ints:
            part = [None if r is None else [None if x is None else NAMES.index(x) for x in r] for r in part]
            column = pa.array(part, type=pa.list_(pa.int32()))
        else:
            column = pa.array(part, type=pa.list_(pa.string()))
        pq.write_table(pa.table({"id": pa.array(range(lo, hi)), "labels": column}), folder / f"part-{k:03d}.parquet",
                       row_group_size=row_group_size)


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 20])
@pytest.mark.parametrize("ints", [False, True], ids=["strings", "ints"])
def test_shards_count_as_by_hand(tmp_path: Path, chunk_size: int, ints: bool) -> None:
    rows = _random_rows(1, 60)
    _write_shards(tmp_path / "shards", rows, [17, 40], ints=ints)
    options = {"labels": NAMES} if ints else {}
    plan = plan_statistics("parquet", str(tmp_path / "shards" / "*.parquet"), chunk_size=chunk_size, **options)
    stats = partial_statistics(plan.run(), plan.source)
    order = NAMES if ints else sorted(NAMES)
    n, M = _by_hand(rows, order)
    assert stats.labels == tuple(order)
    assert stats.n.tolist() == n.tolist() and np.array_equal(stats.matrix.toarray(), M)
    assert stats.num_samples == 60
    assert stats.meta["samples_without_labels"] == sum(1 for r in rows if not r or all(x is None for x in r))
    assert [Path(f["path"]).name for f in stats.meta["files"]] == ["part-000.parquet", "part-001.parquet",
                                                                     "part-002.parquet"]
    whole = label_statistics(read_dataset("parquet", tmp_path / "shards", **options))  # a folder works too
    assert whole.n.tolist() == stats.n.tolist() and np.array_equal(whole.matrix.toarray(), M)


def test_a_big_file_is_cut_into_runs_of_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import labelgraph.datasets.parquet as mod

    monkeypatch.setattr(mod, "ROWS_PER_SHARD", 10)
    rows = _random_rows(2, 33)
    _write_shards(tmp_path / "s", rows, [], row_group_size=4)
    plan = plan_statistics("parquet", tmp_path / "s" / "part-000.parquet", chunk_size=3)
    assert [run[1:] for run in plan.shards] == [(0, 3), (3, 6), (6, 9)]  # 12 rows a run, 9 row groups
    n, M = _by_hand(rows, sorted(NAMES))
    total = plan.run()
    assert total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)


def test_a_column_of_the_wrong_type_names_file_column_and_type(tmp_path: Path) -> None:
    pq.write_table(pa.table({"labels": ["cat", "dog"]}), tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"x\.parquet: column 'labels' is string, not a list of strings or of int"):
        plan_statistics("parquet", tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"x\.parquet: no column 'tags' \(columns: labels\)"):
        plan_statistics("parquet", tmp_path / "x.parquet", column="tags")


def test_a_shard_with_another_schema_is_named(tmp_path: Path) -> None:
    pq.write_table(pa.table({"labels": [["cat"]]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"labels": pa.array([[1]], type=pa.list_(pa.int64()))}), tmp_path / "b.parquet")
    with pytest.raises(DataError, match=r"b\.parquet: column 'labels' is list<\w+: int64>, but .*a\.parquet has "
                                        r"list<\w+: string>"):
        plan_statistics("parquet", str(tmp_path / "*.parquet"))


def test_int_labels_need_names_and_stay_in_range(tmp_path: Path) -> None:
    pq.write_table(pa.table({"labels": pa.array([[0, 4]], type=pa.list_(pa.int8()))}), tmp_path / "i.parquet")
    with pytest.raises(ConfigError, match="holds label indices: pass labels="):
        plan_statistics("parquet", tmp_path / "i.parquet")
    with pytest.raises(DataError, match=r"i\.parquet: label index 4 is out of range 0\.\.3 \(4 label names\)"):
        plan_statistics("parquet", tmp_path / "i.parquet", labels=NAMES).run()


def test_a_name_outside_the_label_list_is_named(tmp_path: Path) -> None:
    pq.write_table(pa.table({"labels": [["cat", "yak"]]}), tmp_path / "s.parquet")
    with pytest.raises(DataError, match=r"s\.parquet: label 'yak' is not in the label list"):
        plan_statistics("parquet", tmp_path / "s.parquet", labels=NAMES).run()


def test_a_glob_matching_nothing_and_a_folder_without_parquet(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"shards/\*\.parquet: the pattern matches no Parquet file"):
        plan_statistics("parquet", str(tmp_path / "shards" / "*.parquet"))
    with pytest.raises(DataError, match="no \\*.parquet file in the folder"):
        plan_statistics("parquet", tmp_path)
