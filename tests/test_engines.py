"""The engines (SPEC §6): serial, a process pool and a Dask LocalCluster give the same integers, bit for bit,
on real shard files; a failing shard is one line naming it; an unreachable scheduler fails within its timeout."""
from __future__ import annotations

import os

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from labelgraph.datasets.user import read_csv
from labelgraph.engines import map_reduce
from labelgraph.engines.shards import ShardError
from labelgraph.errors import ConfigError, DataError, NetworkError
from labelgraph.partial import PartialStatistics

ROOT = Path(__file__).resolve().parents[1]


def csv_shard_statistics(path: str) -> PartialStatistics:
    """One CSV shard's partial statistics, through the library's CSV reader."""
    ls = read_csv(path)
    return PartialStatistics.of(ls.Y, ls.labels, [{"path": path}])


def failing_task(path: str) -> PartialStatistics:
    if path.endswith("3.csv"):
        raise KeyError("row 2 has no 'labels' key")
    return csv_shard_statistics(path)


def pid_task(shard: int) -> PartialStatistics:
    """A one-sample partial that records the process that counted it."""
    return PartialStatistics.of([[1]], ["x"], [{"shard": shard, "pid": os.getpid()}])


def write_shards(folder: Path, count: int = 7, seed: int = 5) -> tuple[list[str], list[list[list[str]]]]:
    """CSV shards whose vocabularies grow shard by shard (labels first seen in later shards too)."""
    rng = np.random.default_rng(seed)
    paths, rows_per_shard = [], []
    for s in range(count):
        vocabulary = [f"label{j:02d}" for j in range(3 + 2 * s)]
        rows = []
        for _ in range(int(rng.integers(1, 40))):
            k = int(rng.integers(0, 4))
            rows.append(sorted(set(rng.choice(vocabulary, size=k).tolist())) if k else [])
        path = folder / f"shard{s}.csv"
        path.write_text("sample,labels\n" + "".join(f"s{s}_{i},{';'.join(r)}\n" for i, r in enumerate(rows)))
        paths.append(str(path))
        rows_per_shard.append(rows)
    return paths, rows_per_shard


def expected(rows_per_shard: list[list[list[str]]]) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """Labels in first appearance over the shards (each shard's own labels sorted, as the CSV reader orders
    them), and n, M of the dense 0/1 matrix of every row, counted with numpy."""
    order: list[str] = []
    for rows in rows_per_shard:
        order += [x for x in sorted({x for r in rows for x in r}) if x not in order]
    all_rows = [r for rows in rows_per_shard for r in rows]
    Y = np.array([[1 if x in r else 0 for x in order] for r in all_rows], dtype=np.int64)
    M = Y.T @ Y
    np.fill_diagonal(M, 0)
    return order, Y.sum(axis=0), M, len(all_rows)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[list[list[str]]]]:
    return write_shards(tmp_path_factory.mktemp("shards"))


@pytest.fixture(scope="module")
def cluster():
    """A Dask LocalCluster of two single-threaded worker processes, reached by its scheduler address."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c:
        yield c


def engine_options(engine: str, request: pytest.FixtureRequest) -> dict:
    if engine == "dask":
        return {"engine": "dask", "scheduler": request.getfixturevalue("cluster").scheduler_address}
    return {"engine": engine, "workers": 2}


@pytest.mark.parametrize("engine", ["serial", "processes", "dask"])
def test_every_engine_gives_the_same_integers(engine: str, shards, request: pytest.FixtureRequest) -> None:
    paths, rows = shards
    labels, n, M, num = expected(rows)
    total = map_reduce(csv_shard_statistics, paths, **engine_options(engine, request))
    assert list(total.labels) == labels
    assert total.n.dtype == np.int64 and total.n.tolist() == n.tolist()
    assert total.M.dtype == np.int32 and np.array_equal(total.M.toarray(), M)  # partials count in int32 below 2^31 samples
    assert total.num_samples == num and total.empty == sum(1 for rs in rows for r in rs if not r)
    assert [f["path"] for f in total.files] == paths  # provenance in shard order, whatever finished first


def test_the_pool_keeps_shard_order_when_shards_finish_out_of_order(tmp_path: Path) -> None:
    # a large first shard finishes after the small ones behind it
    paths, rows = write_shards(tmp_path, count=2, seed=1)
    big = tmp_path / "big.csv"
    big_rows = [["zz"], ["zz", "aa"]] * 20000
    big.write_text("sample,labels\n" + "".join(f"b{i},{';'.join(r)}\n" for i, r in enumerate(big_rows)))
    order = [str(big)] + paths * 3
    labels, n, M, num = expected([big_rows] + rows * 3)
    total = map_reduce(csv_shard_statistics, order, engine="processes", workers=2)
    assert list(total.labels) == labels and total.n.tolist() == n.tolist() and np.array_equal(total.M.toarray(), M)
    assert total.num_samples == num


def test_the_pool_counts_the_first_run_in_this_process() -> None:
    total = map_reduce(pid_task, list(range(6)), engine="processes", workers=3)
    assert [f["shard"] for f in total.files] == list(range(6)) and total.num_samples == 6
    pids = [f["pid"] for f in total.files]
    assert pids[:2] == [os.getpid()] * 2  # runs of two: 0 1 | 2 3 | 4 5
    assert len(set(pids[2:4])) == 1 and len(set(pids[4:])) == 1 and os.getpid() not in pids[2:]


@pytest.mark.parametrize("engine", ["processes", "dask"])
def test_a_bad_shard_is_one_error_naming_it(engine: str, shards, tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    paths, _ = shards
    bad = tmp_path / "broken.csv"
    bad.write_text("sample,labels\na,cat\na,dog\n")  # a sample id twice: the reader's DataError
    with pytest.raises(DataError, match="broken.csv") as info:
        map_reduce(csv_shard_statistics, paths[:2] + [str(bad)] + paths[2:], **engine_options(engine, request))
    assert "\n" not in str(info.value)
    with pytest.raises(ShardError) as info:
        map_reduce(failing_task, paths, **engine_options(engine, request))
    assert str(info.value) == f"{paths[3]}: KeyError: \"row 2 has no 'labels' key\""
    assert info.value.__cause__ is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(shards) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(NetworkError, match=f"cannot reach the Dask scheduler at {address} within 2 s"):
        map_reduce(csv_shard_statistics, shards[0], engine="dask", scheduler=address, timeout=2)
    assert time.monotonic() - start < 2 + 8


def test_options_that_contradict_are_refused() -> None:
    with pytest.raises(ConfigError, match="--scheduler needs --engine dask"):
        map_reduce(len, ["a"], engine="processes", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ConfigError, match="--workers must be 1 or more"):
        map_reduce(len, ["a"], engine="processes", workers=0)
    with pytest.raises(ConfigError, match="unknown --engine 'spark'"):
        map_reduce(len, ["a"], engine="spark")


def test_dask_without_the_extra_names_it(tmp_path: Path) -> None:
    code = ("import sys\n"
            "sys.modules['distributed'] = None  # as if the dask extra were not installed\n"
            "from labelgraph.engines import map_reduce\n"
            "try:\n"
            "    map_reduce(len, ['a'], engine='dask')\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.stdout.strip() == "MissingDependencyError distributed is not installed: pip install 'labelgraph[dask]'"

