"""Statistics speed paths (issue 13): byte-range CSV shards, the threaded product, partial sums over new labels."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import labelgraph.datasets.user_plan as user_plan
from labelgraph import stats
from labelgraph.datasets.csv_arrow import RangeNotRows, RowCheck
from labelgraph.datasets.plan import plan_statistics
from labelgraph.engines import map_reduce
from labelgraph.errors import DataError
from labelgraph.partial import PartialStatistics
from labelgraph.statistics_sources import count_statistics


def _rows(count: int, seed: int = 3) -> list[tuple[str, list[str]]]:
    rng = np.random.default_rng(seed)
    return [(f"s{i}", [f"L{x}" for x in rng.choice(25, int(rng.integers(0, 5)), replace=False)]) for i in range(count)]


def _expected(rows: list[tuple[str, list[str]]]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """n and M of the rows, by hand with numpy (labels sorted, as the csv reader orders them)."""
    names = sorted({x for _, labels in rows for x in labels})
    pos = {x: i for i, x in enumerate(names)}
    Y = np.zeros((len(rows), len(names)), dtype=np.int64)
    for r, (_, labels) in enumerate(rows):
        Y[r, [pos[x] for x in labels]] = 1
    M = Y.T @ Y
    np.fill_diagonal(M, 0)
    return names, Y.sum(axis=0), M


def _count(path, pieces: int, engine: str = "serial", **options):
    plan = plan_statistics("csv", path, chunk_size=7, pieces=pieces, **options)
    return plan, plan.finish(map_reduce(plan.task, plan.shards, engine=engine, workers=2))


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(user_plan, "MIN_PIECE_BYTES", 64)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_byte_ranges_count_what_the_whole_file_counts(tmp_path, small_pieces, monkeypatch, fast, ending):
    monkeypatch.setattr(user_plan, "FAST_CSV", fast)
    rows = _rows(300)
    path = tmp_path / "tags.csv"
    lines = ["sample,labels"] + [f"{sid},{';'.join(labels)}" for sid, labels in rows]
    path.write_text(ending.join(lines[:40] + ["", " "] + lines[40:]))  # blank lines, no final newline
    names, n, M = _expected(rows)
    whole_plan, whole = _count(path, 1)
    assert len(whole_plan.shards) == 1
    for pieces in (2, 3, 5):
        plan, total = _count(path, pieces)
        assert len(plan.shards) == pieces and all(isinstance(s, tuple) for s in plan.shards)
        starts = [s[1] for s in plan.shards]
        data = path.read_bytes()
        assert starts[0] == 0 and all(data[k - 1:k] == b"\n" for k in starts[1:])  # every range starts a line
        assert list(total.labels) == names and total.num_samples == len(rows)
        assert total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)
        assert total.empty == sum(1 for _, labels in rows if not labels)
        assert total.files == whole.files and total.files[0]["bytes"] == len(data)


def test_byte_ranges_on_a_process_pool(tmp_path, small_pieces):
    rows = _rows(500, seed=5)
    path = tmp_path / "pool.csv"
    path.write_text("".join(f"{sid},{';'.join(labels)}\n" for sid, labels in rows))
    names, n, M = _expected(rows)
    plan, total = _count(path, 2, engine="processes")
    assert len(plan.shards) == 2
    assert list(total.labels) == names and total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)


def test_a_range_the_fast_path_declines_is_read_by_python(tmp_path, small_pieces):
    rows = _rows(200, seed=7)
    lines = [f"{sid},{';'.join(labels)}" for sid, labels in rows]
    lines[150] = "s150"  # one column: pyarrow refuses the row, the Python path reads it as a sample without labels
    rows[150] = ("s150", [])
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    names, n, M = _expected(rows)
    _, total = _count(path, 3)
    assert total.num_samples == 200 and total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)


def test_an_error_in_a_later_range_names_its_line(tmp_path, small_pieces):
    rows = _rows(200, seed=9)
    lines = ["sample,labels"] + [f"{sid},{';'.join(labels)}" for sid, labels in rows]
    lines[181] = "s180,L1;zebra"  # file line 182
    path = tmp_path / "unknown.csv"
    path.write_text("\n".join(lines) + "\n")
    labels = [f"L{i}" for i in range(25)]
    with pytest.raises(DataError, match=r"unknown\.csv:182: label 'zebra' is not in the label list"):
        _count(path, 3, labels=labels)


def test_duplicate_ids_are_checked_within_a_range(tmp_path, small_pieces):
    rows = _rows(200, seed=11)
    lines = [f"{sid},{';'.join(labels)}" for sid, labels in rows]
    lines[199] = "s198,L2"  # lines 199 and 200: the same range
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"dup\.csv:200: duplicate sample id 's198' \(first on line 199\)"):
        _count(path, 3)
    lines[199] = "s0,L2"  # lines 1 and 200: different ranges, not compared (docs/datasets.md)
    path.write_text("\n".join(lines) + "\n")
    assert _count(path, 3)[1].num_samples == 200
    with pytest.raises(DataError, match="duplicate sample id 's0'"):
        _count(path, 1)


def test_quoted_cells_split_unless_a_cell_spans_lines(tmp_path, small_pieces, monkeypatch):
    rows = _rows(200, seed=13)
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("".join(f'"{sid}","{";".join(labels)}"\n' for sid, labels in rows))  # as pyarrow writes
    names, n, M = _expected(rows)
    plan, total = _count(quoted, 3)
    assert len(plan.shards) == 3 and total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)
    for fast in (True, False):  # a quoted line break: the ranges refuse, the file is counted whole
        monkeypatch.setattr(user_plan, "FAST_CSV", fast)
        spans = tmp_path / "spans.csv"
        spans.write_text("".join(f'{sid},"{";".join(labels[:1])}\n{";".join(labels[1:])}"\n' for sid, labels in rows))
        plan = plan_statistics("csv", spans, chunk_size=7, pieces=3)
        assert len(plan.shards) == 3
        with pytest.raises(RangeNotRows, match="spans.csv: a quoted cell may span lines"):
            map_reduce(plan.task, plan.shards)
        total = count_statistics("csv", spans, engine="processes", workers=3)
        whole = count_statistics("csv", spans)
        assert total.labels == whole.labels and total.num_samples == whole.num_samples == len(rows)
        assert total.n.tolist() == whole.n.tolist() and (total.matrix != whole.matrix).nnz == 0
    check = RowCheck(",")
    check.feed(b'a,"x""y"\n')  # a doubled quote inside a cell: not checked line by line, refused
    assert not check.ok
    onehot = tmp_path / "onehot.csv"
    onehot.write_text("id,a,b\n" + "".join(f"s{i},{i % 2},1\n" for i in range(100)))
    assert _count(onehot, 4)[0].shards == (str(onehot),)


def test_threaded_product_equals_numpy(monkeypatch):
    rng = np.random.default_rng(17)
    Y = (rng.random((3000, 40)) < 0.1).astype(np.int64)
    expected = Y.T @ Y
    np.fill_diagonal(expected, 0)
    monkeypatch.setattr(stats, "THREADED_MIN_NNZ", 1)
    for threads in (1, 2, 3):
        monkeypatch.setattr(stats, "PRODUCT_THREADS", threads)
        n, M = stats.cooccurrence_counts(sp.csr_matrix(Y))
        assert n.tolist() == Y.sum(axis=0).tolist() and np.array_equal(M.toarray(), expected)
        assert M.dtype == np.int64 and M.has_sorted_indices


def test_sums_and_reorders_over_new_labels_equal_the_whole_matrix():
    rng = np.random.default_rng(19)
    for _ in range(100):
        c = int(rng.integers(1, 20))
        names = [f"l{i}" for i in range(c)]
        Y = (rng.random((30, c)) < 0.3).astype(np.int64)
        other = [names[i] for i in rng.permutation(c)][:max(1, c - 2)] + ["new"]
        Y2 = (rng.random((20, len(other))) < 0.3).astype(np.int64)
        total = PartialStatistics.of(Y, names) + PartialStatistics.of(Y2, other)
        assert total.labels[:c] == tuple(names)  # the left's labels first, new ones after
        pos = {x: i for i, x in enumerate(total.labels)}
        whole = np.zeros((50, len(pos)), dtype=np.int64)
        whole[:30, [pos[x] for x in names]] = Y
        whole[30:, [pos[x] for x in other]] = Y2
        M = whole.T @ whole
        np.fill_diagonal(M, 0)
        assert total.n.tolist() == whole.sum(axis=0).tolist() and np.array_equal(total.M.toarray(), M)
        order = [total.labels[i] for i in rng.permutation(len(pos))] + ["unseen"]
        moved = total.reorder(order)
        back = [pos[x] for x in order[:-1]]
        assert moved.n.tolist() == whole.sum(axis=0)[back].tolist() + [0]
        assert np.array_equal(moved.M.toarray()[:-1, :-1], M[np.ix_(back, back)]) and moved.M.has_sorted_indices
        assert not moved.M[-1].nnz
