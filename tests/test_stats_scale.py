"""`labelgraph stats` / `build` over shards with --workers, --engine dask and --chunk-size (issue 13): the same
statistics file as one process, one-line errors for bad shards and unreachable schedulers, a light --help."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import labelgraph

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT)}


def cli(*args: object, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *map(str, args)], capture_output=True,
                          text=True, env=ENV, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[str]]]:
    """Six CSV shards with vocabularies that grow shard by shard; every row's labels, in file order."""
    folder = tmp_path_factory.mktemp("csv-shards")
    rng = np.random.default_rng(3)
    rows = []
    for s in range(6):
        vocabulary = [f"tag{j}" for j in range(4 + 3 * s)]
        lines = []
        for i in range(int(rng.integers(5, 60))):
            labels = sorted(set(rng.choice(vocabulary, size=int(rng.integers(0, 5))).tolist()))
            lines.append(f"s{s}-{i},{';'.join(labels)}\n")
            rows.append(labels)
        (folder / f"part-{s}.csv").write_text("sample,labels\n" + "".join(lines))
    return folder, rows


def by_hand(rows: list[list[str]], labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    Y = np.array([[x in r for x in labels] for r in rows], dtype=np.int64)
    M = Y.T @ Y
    np.fill_diagonal(M, 0)
    return Y.sum(axis=0), M


@pytest.mark.parametrize("engine", [["--workers", "2"], ["--engine", "dask", "--workers", "2"],
                                    ["--chunk-size", "7", "--engine", "processes"]],
                         ids=["processes", "dask", "chunks-of-7"])
def test_an_engine_writes_the_same_file_as_one_process(engine: list[str], shards, tmp_path: Path) -> None:
    folder, rows = shards
    glob = str(folder / "part-*.csv")
    one = cli("stats", "--dataset", "csv", "--annotations", glob, "--out", tmp_path / "one", "--name", "s")
    assert one.returncode == 0, one.stderr
    many = cli("stats", "--dataset", "csv", "--annotations", glob, "--out", tmp_path / "many", "--name", "s", *engine)
    assert many.returncode == 0, many.stderr
    a, b = labelgraph.load(tmp_path / "one" / "s_statistics.npz"), labelgraph.load(tmp_path / "many" / "s_statistics.npz")
    assert a.content_hash == b.content_hash
    n, M = by_hand(rows, tuple(a.labels))
    assert np.asarray(b.n).tolist() == n.tolist() and np.array_equal(b.matrix.toarray(), M)
    assert b.num_samples == len(rows)


def test_build_takes_the_engine_options(shards, tmp_path: Path) -> None:
    folder, rows = shards
    proc = cli("build", "--dataset", "csv", "--annotations", folder / "part-*.csv", "--workers", "2",
               "--kind", "binary", "--out", tmp_path, "--name", "s", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = labelgraph.load(tmp_path / "s_statistics.npz")
    assert stats.num_samples == len(rows)
    assert labelgraph.load(tmp_path / "s_binary_t0.4.npz").num_labels == stats.num_labels


def test_a_bad_shard_in_a_worker_is_one_line_naming_it(shards, tmp_path: Path) -> None:
    folder, _ = shards
    bad = tmp_path / "copy"
    bad.mkdir()
    for p in folder.glob("part-*.csv"):
        (bad / p.name).write_text(p.read_text())
    (bad / "part-3.csv").write_text("sample,labels\na,x\na,y\n")  # a sample id twice
    for engine in (["--workers", "2"], ["--engine", "dask", "--workers", "2"]):
        proc = cli("stats", "--dataset", "csv", "--annotations", bad / "part-*.csv", "--out", tmp_path / "o", *engine)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "part-3.csv" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_one_line_within_the_timeout(shards, tmp_path: Path) -> None:
    folder, _ = shards
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    start = time.monotonic()
    proc = cli("stats", "--dataset", "csv", "--annotations", folder / "part-*.csv", "--scheduler", address,
               "--timeout", "2", "--out", tmp_path)
    took = time.monotonic() - start
    assert proc.returncode == 3
    assert proc.stderr.strip() == f"Error: cannot reach the Dask scheduler at {address} within 2 s"
    assert took < 2 + 15  # the interpreter's start and imports, then the 2 s wait
    assert list(tmp_path.iterdir()) == []


def test_contradicting_engine_options_are_refused(shards, tmp_path: Path) -> None:
    folder, _ = shards
    proc = cli("stats", "--dataset", "csv", "--annotations", folder / "part-*.csv", "--engine", "processes",
               "--scheduler", "tcp://127.0.0.1:8786", "--out", tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == \
        "Error: --scheduler needs --engine dask (got --engine processes)"
    proc = cli("stats", "--dataset", "csv", "--annotations", folder / "part-*.csv", "--workers", "0")
    assert proc.returncode == 2 and "--workers" in proc.stderr


def test_the_engine_options_load_no_heavy_library() -> None:
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "from labelgraph_cli.main import cli\n"
            "r = CliRunner().invoke(cli, ['stats', '--help'])\n"
            "assert r.exit_code == 0 and '--scheduler' in r.output, r.output\n"
            "print(sorted(m for m in ('dask', 'distributed', 'pyarrow', 'torch') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env=ENV)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def parquet_shards(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[str]]]:
    """Five Parquet shards (two row groups each) of a list<string> column, with nulls and empty lists."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path_factory.mktemp("parquet-shards")
    rng = np.random.default_rng(11)
    rows: list[list[str]] = []
    for s in range(5):
        vocabulary = [f"/m/0{j:03d}" for j in range(6 + 5 * s)]
        column: list[list[str] | None] = []
        for _ in range(int(rng.integers(10, 50))):
            k = int(rng.integers(0, 6))
            labels = None if k == 5 else sorted(set(rng.choice(vocabulary, size=k).tolist()))
            column.append(labels)
            rows.append(labels or [])
        table = pa.table({"id": [f"{s}-{i}" for i in range(len(column))],
                          "tags": pa.array(column, type=pa.list_(pa.string()))})
        pq.write_table(table, folder / f"part-{s:02d}.parquet", row_group_size=(len(column) + 1) // 2)
    return folder, rows


@pytest.mark.parametrize("engine", [[], ["--workers", "2"], ["--engine", "dask", "--workers", "2"],
                                    ["--chunk-size", "3", "--workers", "2"]],
                         ids=["serial", "processes", "dask", "chunks-of-3"])
def test_parquet_shards_on_every_engine(engine: list[str], parquet_shards, tmp_path: Path) -> None:
    folder, rows = parquet_shards
    proc = cli("stats", "--dataset", "parquet", "--annotations", folder / "part-*.parquet", "--column", "tags",
               "--out", tmp_path, "--name", "p", *engine)
    assert proc.returncode == 0, proc.stderr
    art = labelgraph.load(tmp_path / "p_statistics.npz")
    assert sorted(art.labels) == sorted({x for r in rows for x in r})
    n, M = by_hand(rows, tuple(art.labels))
    assert np.asarray(art.n).tolist() == n.tolist() and np.array_equal(art.matrix.toarray(), M)
    assert art.num_samples == len(rows)
    assert art.meta["samples_without_labels"] == sum(1 for r in rows if not r)


def test_open_images_options_pass_through_with_workers(tmp_path: Path) -> None:
    # two official-format label files; Confidence 0 rows are verified negatives, not labels
    (tmp_path / "a-annotations-human-imagelabels.csv").write_text(
        "ImageID,Source,LabelName,Confidence\n"
        "img1,verification,/m/cat,1\nimg1,verification,/m/dog,1\nimg1,crowdsource-verified,/m/car,1\n"
        "img2,verification,/m/dog,0\nimg2,verification,/m/car,1\n")
    (tmp_path / "b-annotations-human-imagelabels.csv").write_text(
        "ImageID,Source,LabelName,Confidence\n"
        "img3,verification,/m/cat,1\nimg3,verification,/m/car,1\nimg4,crowdsource-verified,/m/dog,1\n")
    (tmp_path / "classes.csv").write_text("LabelName,DisplayName\n/m/cat,Cat\n/m/dog,Dog\n/m/car,Car\n")
    proc = cli("stats", "--dataset", "openimages", "--annotations", tmp_path / "*-human-imagelabels.csv",
               "--classes", tmp_path / "classes.csv", "--source", "verification", "--workers", "2",
               "--out", tmp_path / "out", "--name", "oi")
    assert proc.returncode == 0, proc.stderr
    art = labelgraph.load(tmp_path / "out" / "oi_statistics.npz")
    # by hand, verification rows with Confidence 1: img1 {Cat, Dog}, img2 {Car}, img3 {Cat, Car}
    assert list(art.labels) == ["Car", "Cat", "Dog"]
    assert np.asarray(art.n).tolist() == [2, 2, 1]
    assert art.matrix.toarray().tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
