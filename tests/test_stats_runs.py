"""One-pass statistics (issue 13): sorted partials, Parquet runs counted in one pass, the product on threads.

Every expected value is computed here with dense numpy (``Yᵀ Y`` by hand) or by the per-shard path.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from labelgraph import stats
from labelgraph.datasets import plan_statistics
from labelgraph.engines import map_reduce
from labelgraph.engines.shards import describe_shard
from labelgraph.errors import DataError
from labelgraph.partial import PartialStatistics, sum_partials
from labelgraph.statistics_sources import count_statistics


def _dense(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    M = Y.T @ Y
    n = M.diagonal().copy()
    np.fill_diagonal(M, 0)
    return n, M


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), chunks=st.integers(1, 6), labels=st.integers(1, 12))
def test_sorted_partials_in_any_grouping_equal_the_whole_matrix(seed: int, chunks: int, labels: int) -> None:
    rng = np.random.default_rng(seed)
    names = [f"t{k:02d}" for k in rng.permutation(labels)]
    Y = (rng.random((3 * chunks + 1, labels)) < 0.4).astype(np.int64)
    cuts = np.sort(rng.integers(0, Y.shape[0], chunks - 1))
    parts = []
    for block in np.split(np.arange(Y.shape[0]), cuts):
        seen = [k for k in rng.permutation(labels) if Y[block, k].any()] or [int(rng.integers(labels))]
        parts.append(PartialStatistics.of(Y[np.ix_(block, seen)], [names[k] for k in seen], sort=True))
    order = sorted(names)
    n, M = _dense(Y[:, [names.index(x) for x in order]])
    running = sum_partials(parts)
    tree = parts
    while len(tree) > 1:  # pairwise, as the dask engine adds them
        tree = [tree[i] + tree[i + 1] for i in range(0, len(tree) - 1, 2)] + ([tree[-1]] if len(tree) % 2 else [])
    for total in (running, tree[0]):
        assert total.sorted_labels and list(total.labels) == sorted(total.labels)
        whole = total.reorder(order)
        assert whole.n.tolist() == n.tolist() and np.array_equal(whole.M.toarray(), M)
        assert total.M.has_sorted_indices and total.M.dtype == np.int32  # int32 below 2^31 samples
        assert total.num_samples == Y.shape[0]


def test_unsorted_partials_keep_the_order_of_first_appearance() -> None:
    a = PartialStatistics.of([[1, 1]], ["b", "c"])
    b = PartialStatistics.of([[1, 1]], ["a", "b"])
    assert (a + b).labels == ("b", "c", "a") and not (a + b).sorted_labels
    assert (a.sorted() + b.sorted()).labels == ("a", "b", "c")
    mixed = a.sorted() + b  # one unsorted side: first appearance
    assert mixed.labels == ("b", "c", "a") and not mixed.sorted_labels


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_product_on_threads_equals_numpy(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    rng = np.random.default_rng(5)
    # Zipf-like columns, and a last label with no sample (an empty last row of M)
    Y = (rng.random((4000, 60)) < 0.5 / np.arange(1, 61)).astype(np.int64)
    Y[:, 59] = 0
    monkeypatch.setattr(stats, "THREADED_MIN_NNZ", 1)
    monkeypatch.setattr(stats, "PRODUCT_THREADS", threads)
    n, M = stats.cooccurrence_counts(sp.csr_matrix(Y))
    n_ref, M_ref = _dense(Y)
    assert n.tolist() == n_ref.tolist() and np.array_equal(M.toarray(), M_ref)
    assert M.dtype == np.int64 and M.has_sorted_indices and (M.diagonal() == 0).all()
    assert M.nnz == np.count_nonzero(M_ref)


NAMES = ["cat", "dog", "emu", "fox", "gnu", "owl"]


def _shards(folder: Path, seed: int, sizes: list[int], ints: bool = False) -> list[list[str] | None]:
    rng = np.random.default_rng(seed)
    folder.mkdir()
    everything: list[list[str] | None] = []
    for k, size in enumerate(sizes):
        rows: list[list[str] | None] = []
        for _ in range(size):
            u = rng.random()
            rows.append(None if u < 0.1 else [NAMES[j] for j in rng.choice(6, int(rng.integers(0, 4)), replace=False)])
        everything += rows
        column = (pa.array([None if r is None else [NAMES.index(x) for x in r] for r in rows], pa.list_(pa.int16()))
                  if ints else pa.array(rows, pa.list_(pa.string())))
        pq.write_table(pa.table({"labels": column}), folder / f"part-{k}.parquet", row_group_size=4)
    return everything


@pytest.mark.parametrize("chunk_size", [1, 7, 1 << 20])
@pytest.mark.parametrize("ints", [False, True], ids=["strings", "ints"])
def test_runs_of_parquet_shards_equal_shard_by_shard(tmp_path: Path, chunk_size: int, ints: bool) -> None:
    rows = _shards(tmp_path / "s", 2, [13, 0, 21, 9], ints)
    options = {"labels": NAMES} if ints else {}
    plan = plan_statistics("parquet", str(tmp_path / "s" / "*.parquet"), chunk_size=chunk_size, **options)
    per_shard = plan.run()
    order = list(per_shard.labels)
    n, M = _dense(np.array([[int(r is not None and x in r) for x in order] for r in rows], dtype=np.int64))
    for pieces in (1, 2, 3):
        task, runs = plan.work(pieces)
        assert task is plan.run_task and len(runs) == min(pieces, len(plan.shards))
        assert [s for run in runs for s in run] == list(plan.shards)  # neighbours, in order
        total = plan.finish(map_reduce(task, runs, engine="serial"))
        assert total.labels == per_shard.labels
        assert total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)
        assert total.num_samples == len(rows) and total.empty == per_shard.empty
        assert [f["path"] for f in total.files] == [f["path"] for f in per_shard.files]


def test_processes_on_runs_equal_one_process(tmp_path: Path) -> None:
    _shards(tmp_path / "s", 4, [30, 11, 25, 7, 19])
    one = count_statistics("parquet", str(tmp_path / "s" / "*.parquet"), chunk_size=5)
    two = count_statistics("parquet", str(tmp_path / "s" / "*.parquet"), chunk_size=5, engine="processes", workers=2)
    assert one.labels == two.labels and one.content_hash == two.content_hash


def test_an_unknown_label_in_a_later_file_of_a_run_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    pq.write_table(pa.table({"labels": pa.array([[0, 1]], pa.list_(pa.int32()))}), tmp_path / "s" / "a.parquet")
    pq.write_table(pa.table({"labels": pa.array([[7]], pa.list_(pa.int32()))}), tmp_path / "s" / "b.parquet")
    plan = plan_statistics("parquet", str(tmp_path / "s" / "*.parquet"), labels=["x", "y"])
    task, runs = plan.work(1)
    with pytest.raises(DataError, match=r"b\.parquet: label index 7 is out of range"):
        map_reduce(task, runs, engine="serial")


def test_a_damaged_file_in_a_run_is_named(tmp_path: Path) -> None:
    _shards(tmp_path / "s", 6, [40, 40])
    target = tmp_path / "s" / "part-1.parquet"
    blob = bytearray(target.read_bytes())
    blob[8:200] = bytes(192)  # the first data pages: the footer still opens, the pages do not decode
    target.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"part-1\.parquet"):
        count_statistics("parquet", str(tmp_path / "s" / "*.parquet"))


def test_a_run_of_shards_is_described_by_its_ends() -> None:
    run = (("a.parquet", 0, 4), ("b.parquet", 0, 2), ("c.parquet", 4, 8))
    assert describe_shard(run, 0) == "run 0 of shards (a.parquet, 0, 4 … c.parquet, 4, 8)"


@pytest.mark.parametrize("values", [[3, None, -5, 7], [0, 1, 2], [None, None]])
@pytest.mark.parametrize("type_", ["int8", "int32", "uint16", "int64"])
def test_arrow_ints_equal_pyarrows_own_conversion(values: list, type_: str) -> None:
    from labelgraph.datasets.stream import arrow_ints

    if type_.startswith("u"):
        values = [None if v is None else abs(v) for v in values]
    array = pa.array(values, type=type_)
    for part in (array, array.slice(1), pa.chunked_array([array, array.slice(2)])):
        expected = [-1 if v is None else v for v in part.to_pylist()]
        assert arrow_ints(part).tolist() == expected


def test_counting_parquet_and_csv_loads_no_pandas(tmp_path: Path) -> None:
    import subprocess
    import sys

    _shards(tmp_path / "s", 8, [20, 20])
    (tmp_path / "t.csv").write_text("sample,labels\na,cat;dog\nb,\nc,emu\n")
    code = ("import sys\nfrom labelgraph.statistics_sources import count_statistics\n"
            f"count_statistics('parquet', {str(tmp_path / 's' / '*.parquet')!r})\n"
            f"count_statistics('csv', {str(tmp_path / 't.csv')!r})\n"
            "import pyarrow\nassert 'pandas' not in sys.modules, 'pandas was loaded'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_partials_widen_their_counts_to_int64_past_two_to_the_31_samples() -> None:
    big = 2**31 - 10
    M = sp.csr_matrix(np.array([[0, big], [big, 0]], dtype=np.int64))
    a = PartialStatistics(("x", "y"), np.array([big, big]), M.astype(np.int32), big, 0, (), True)
    b = PartialStatistics.of([[1, 1]] * 25, ["x", "y"], sort=True)
    assert a.M.dtype == np.int32 and b.M.dtype == np.int32
    total = a + b
    assert total.M.dtype == np.int64 and total.num_samples == big + 25
    assert total.M.toarray().tolist() == [[0, big + 25], [big + 25, 0]]  # past 2^31 - 1, exactly


def test_the_statistics_artifact_takes_the_sums_arrays_without_a_copy(tmp_path: Path) -> None:
    from labelgraph.assemble.statistics import partial_statistics

    _shards(tmp_path / "s", 9, [40, 40])
    plan = plan_statistics("parquet", str(tmp_path / "s" / "*.parquet"))
    total = plan.finish(plan.run())
    art = partial_statistics(total, plan.source)
    assert art.matrix.dtype == np.int64 and np.array_equal(art.matrix.toarray(), total.M.toarray())
    assert np.shares_memory(art.matrix.indices, total.M.indices)
    assert not art.matrix.data.flags.writeable and not art.matrix.indices.flags.writeable
    user = sp.csr_matrix(np.array([[0, 2], [2, 0]], dtype=np.int64))  # a writable matrix is still copied
    from labelgraph import Artifact
    own = Artifact.statistics(["a", "b"], [2, 2], user, 2)
    assert not np.shares_memory(own.matrix.data, user.data) and user.data.flags.writeable
