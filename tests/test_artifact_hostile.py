"""Hostile ``.npz`` files written by other programs: each loads as a valid artifact or is refused in one line.

Every file is built here with numpy/zipfile/scipy; the CLI checks run the real
``labelgraph`` in a subprocess (a segfault shows as a negative return code).
"""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import labelgraph
from labelgraph import Artifact, load
from labelgraph.errors import ArtifactError, DataError

ROOT = Path(__file__).resolve().parents[1]
LABELS = np.array(["cat", "dog", "bird"])


def write_npz(path: Path, **arrays: object) -> Path:
    np.savez_compressed(path, **{k: np.asarray(v) for k, v in arrays.items()})
    return path


def graph_arrays(**override: object) -> dict[str, object]:
    """A valid 3 × 3 binary graph (cat–dog) in the SPEC §4 layout, with ``override`` applied."""
    arrays: dict[str, object] = dict(
        data=np.array([1.0, 1.0], dtype=np.float32), indices=np.array([1, 0], dtype=np.int32),
        indptr=np.array([0, 1, 2, 2], dtype=np.int32), shape=np.array([3, 3]), format=np.array("csr"),
        labels=LABELS, kind=np.array("binary"), meta=np.array("{}"))
    arrays.update(override)
    return {k: v for k, v in arrays.items() if v is not None}


def stats_arrays(**override: object) -> dict[str, object]:
    """Valid statistics: N = 4, n = (3, 2, 1), cat & dog together twice."""
    base: dict[str, object] = dict(kind=np.array("statistics"), data=np.array([2, 2]), n=np.array([3, 2, 1]),
                                   num_samples=np.array(4))
    return graph_arrays(**{**base, **override})


def run_cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "labelgraph_cli.main", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=ROOT)


def refused(result: subprocess.CompletedProcess, path: Path, *fragments: str) -> str:
    """The one ``Error:`` line of a refused command (never a crash or a traceback)."""
    assert result.returncode > 0, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def load_error(path: Path) -> str:
    with pytest.raises(ArtifactError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


# -- sparse structure ---------------------------------------------------------------------------
def test_column_index_out_of_range_is_refused_by_every_command(tmp_path: Path) -> None:
    bad = write_npz(tmp_path / "bad.npz", **graph_arrays(indices=np.array([7, 0], dtype=np.int32)))
    assert "indices: column index 7 outside 0..2" in load_error(bad)
    good = write_npz(tmp_path / "good.npz", **graph_arrays())
    for args in (["show", str(bad)], ["inspect", str(bad)], ["compare", str(good), str(bad)],
                 ["export", str(bad), "--to", "csv", "--out", str(tmp_path / "x.csv")]):
        refused(run_cli(*args), bad, "indices", "outside 0..2")
    assert not (tmp_path / "x.csv").exists()


def test_negative_index_and_coo_row_out_of_range(tmp_path: Path) -> None:
    neg = write_npz(tmp_path / "neg.npz", **graph_arrays(indices=np.array([-1, 0], dtype=np.int32)))
    assert "column index -1" in load_error(neg)
    coo = write_npz(tmp_path / "coo.npz", **graph_arrays(indices=None, indptr=None, format=np.array("coo"),
                                                        row=np.array([0, 3]), col=np.array([1, 0])))
    assert "row: row index 3 outside 0..2" in load_error(coo)


@pytest.mark.parametrize("indptr, fragment", [
    (np.array([0, 2, 1, 2]), "never decrease"),
    (np.array([1, 1, 2, 2]), "start at 0"),
    (np.array([0, 1, 2]), "indptr: shape (3,), expected (4,)"),
    (np.array([0, 1, 2, 9]), "indices: shape (2,), expected (9,)"),
])
def test_broken_indptr_is_refused(tmp_path: Path, indptr: np.ndarray, fragment: str) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(indptr=indptr))
    assert fragment in load_error(path)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path: Path, value: float) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(data=np.array([1.0, value], dtype=np.float32)))
    assert "data: holds NaN or inf" in load_error(path)


def test_shape_must_match_the_labels(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(shape=np.array([3, 4])))
    assert "shape: (3, 4) does not match the 3 labels" in load_error(path)


# -- statistics --------------------------------------------------------------------------------
@pytest.mark.parametrize("override, fragment", [
    (dict(data=np.array([-2, -2])), "data: negative entry -2"),
    (dict(n=np.array([3, -2, 1])), "n: label counts must be whole numbers >= 0"),
    (dict(num_samples=np.array(-1)), "num_samples: N = -1 is negative"),
    (dict(num_samples=np.array(2)), "n: label 'cat' occurs 3 times in N = 2 samples"),
    (dict(n=np.array([3, 1, 1])), "M['cat', 'dog'] = 2 exceeds min(n_i, n_j) = 1"),
    (dict(data=np.array([1.5, 1.5])), "counts M must be whole numbers"),
    (dict(num_samples=None), "needs 'num_samples'"),
])
def test_impossible_statistics_are_refused(tmp_path: Path, override: dict, fragment: str) -> None:
    path = write_npz(tmp_path / "s.npz", **stats_arrays(**override))
    assert fragment in load_error(path)


def test_valid_foreign_statistics_load_with_their_counts(tmp_path: Path) -> None:
    s = load(write_npz(tmp_path / "s.npz", **stats_arrays()))
    assert s.n.tolist() == [3, 2, 1] and s.num_samples == 4
    assert s.conditional_probability()[0, 1] == pytest.approx(2 / 3)


# -- labels, kind, meta ------------------------------------------------------------------------
@pytest.mark.parametrize("labels, fragment", [
    (np.array([["cat", "dog", "bird"]]), "labels: expected a 1-D array"),
    (np.array("cat"), "labels: expected a 1-D array"),
    (np.array(["cat", "dog"]), "does not match the 2 labels"),
    (np.array([1, 2, 3]), "labels: label names must be strings"),
    (np.array(["cat", "dog", "cat"]), "duplicate label names: cat"),
])
def test_bad_labels_are_refused(tmp_path: Path, labels: np.ndarray, fragment: str) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(labels=labels))
    assert fragment in load_error(path)


@pytest.mark.parametrize("kind, fragment", [("", "unknown artifact kind ''"), ("adjacency", "'adjacency'")])
def test_unknown_kind_lists_the_known_ones(tmp_path: Path, kind: str, fragment: str) -> None:
    message = load_error(write_npz(tmp_path / "g.npz", **graph_arrays(kind=np.array(kind))))
    assert fragment in message
    for known in ("statistics", "probability", "binary", "reweighted", "mlgcn", "knowledge", "ks", "ppmi",
                  "embeddings"):
        assert known in message.split("(known: ")[1]


@pytest.mark.parametrize("meta, fragment", [
    ("[1, 2]", "meta: must be a JSON object, got a list"),
    ("3", "meta: must be a JSON object, got a int"),
    ("{", "meta: not valid JSON"),
    ("[" * 100_000, "meta: JSON nested too deeply"),
])
def test_bad_meta_is_refused(tmp_path: Path, meta: str, fragment: str) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(meta=np.array(meta)))
    assert fragment in load_error(path)
    if meta.startswith("[["):
        refused(run_cli("show", str(path)), path, "nested too deeply")


def test_object_arrays_are_never_unpickled(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(meta=np.array([{"a": 1}], dtype=object)))
    assert "pickled objects" in load_error(path)


# -- embeddings --------------------------------------------------------------------------------
@pytest.mark.parametrize("vectors, fragment", [
    (np.zeros(3, dtype=np.float32), "vectors: shape (3,), expected (3, d)"),
    (np.zeros((3, 0), dtype=np.float32), "zero-width vectors"),
    (np.array([[0.1, np.nan], [0, 1], [1, 0]], dtype=np.float32), "vectors: holds NaN or inf"),
    (np.array([["a"], ["b"], ["c"]]), "vectors: dtype <U1 is not a real number type"),
])
def test_bad_embeddings_are_refused(tmp_path: Path, vectors: np.ndarray, fragment: str) -> None:
    path = write_npz(tmp_path / "e.npz", labels=LABELS, kind=np.array("embeddings"), vectors=vectors)
    assert fragment in load_error(path)


# -- other writers' sparse formats -------------------------------------------------------------
def _append(path: Path, **arrays: np.ndarray) -> None:
    with zipfile.ZipFile(path, "a") as zf:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value))
            zf.writestr(f"{key}.npy", buffer.getvalue())


@pytest.mark.parametrize("to_format", [sp.coo_matrix, sp.csc_matrix])
def test_scipy_coo_and_csc_files_load(tmp_path: Path, to_format: type) -> None:
    dense = np.array([[0, 0.5, 0], [0.25, 0, 0.75], [0, 1.0, 0]], dtype=np.float32)
    path = tmp_path / "foreign.npz"
    sp.save_npz(path, to_format(dense), compressed=True)
    _append(path, labels=LABELS, kind=np.array("probability"))
    art = load(path)
    assert art.kind == "probability" and art.labels == tuple(LABELS)
    np.testing.assert_array_equal(art.to_dense(), dense)
    np.testing.assert_array_equal(sp.load_npz(path).toarray(), dense)   # scipy reads it too


# -- knowledge rules ---------------------------------------------------------------------------
def test_knowledge_diagonal_is_dropped_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    A = np.array([[5, 1, 0], [1, 0, 2], [0, 2, 0]], dtype=np.float32)
    sparse = sp.csr_matrix(A)
    path = write_npz(tmp_path / "k.npz", **graph_arrays(kind=np.array("knowledge"), data=sparse.data,
                                                        indices=sparse.indices, indptr=sparse.indptr))
    with caplog.at_level(logging.WARNING):
        k = load(path)
    warnings = [r.getMessage() for r in caplog.records if "diagonal" in r.getMessage()]
    assert len(warnings) == 1 and str(path) in warnings[0] and "dropped" in warnings[0]
    np.testing.assert_array_equal(k.to_dense(), A - np.diag(np.diag(A)))


def test_ks_drops_an_in_memory_knowledge_diagonal(caplog: pytest.LogCaptureFixture) -> None:
    from labelgraph.assemble import ks_artifact

    s = Artifact.statistics(["a", "b", "c"], [4, 2, 2], [[0, 2, 0], [2, 0, 0], [0, 0, 0]], 6)
    clean = Artifact.graph("knowledge", ["a", "b", "c"], [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    dirty = Artifact.graph("knowledge", ["a", "b", "c"], [[9, 0, 1], [0, 3, 0], [1, 0, 0]])
    with caplog.at_level(logging.WARNING):
        got = ks_artifact(s, dirty, lam=0.4, tau=0.02, eta=0.4)
    assert any("non-zero diagonal" in r.getMessage() for r in caplog.records)
    want = ks_artifact(s, clean, lam=0.4, tau=0.02, eta=0.4)
    np.testing.assert_array_equal(got.to_dense(), want.to_dense())


def test_negative_knowledge_is_refused(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "k.npz", **graph_arrays(kind=np.array("knowledge"),
                                                        data=np.array([0.5, -0.5], dtype=np.float32)))
    assert "data: negative entry -0.5; a knowledge matrix is non-negative" in load_error(path)


def test_stored_hash_mismatch_is_only_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(meta=np.array(json.dumps({"content_hash": "0" * 64}))))
    with caplog.at_level(logging.WARNING):
        assert load(path).num_labels == 3
    assert any("content hash differs" in r.getMessage() for r in caplog.records)


# -- size: dense limit and zip bombs -----------------------------------------------------------
def empty_graph(path: Path, c: int, kind: str = "binary") -> Path:
    labels = np.array([f"l{i}" for i in range(c)])
    return write_npz(path, data=np.zeros(0, np.float32), indices=np.zeros(0, np.int32),
                     indptr=np.zeros(c + 1, np.int32), shape=np.array([c, c]), format=np.array("csr"),
                     labels=labels, kind=np.array(kind))


@pytest.mark.slow
def test_big_sparse_graph_loads_but_is_never_densified(tmp_path: Path) -> None:
    path = empty_graph(tmp_path / "big.npz", 200_000)
    big = load(path)
    assert big.num_labels == 200_000 and big.matrix.nnz == 0
    with pytest.raises(DataError, match="dense 200000 x 200000 matrix .* above the limit of 20,000 labels"):
        big.to_dense()
    start = time.monotonic()
    result = run_cli("compare", str(path), str(path), timeout=60)   # compare works on the stored entries
    assert result.returncode == 0, result.stderr
    assert "200000 shared" in result.stdout and "0 vs 0, 0 in both" in result.stdout
    result = run_cli("inspect", str(path), "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["isolated"][:2] == ["l0", "l1"]
    assert time.monotonic() - start < 60
    assert "no heatmap above 5,000 labels" in big._repr_html_()
    pytest.importorskip("matplotlib")
    result = run_cli("plot", str(path), "--out", str(tmp_path / "big.png"), timeout=60)
    assert result.returncode == 2 and "heatmap of 200,000 labels" in result.stderr and "--top N" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "big.png").exists()


def test_dense_limit_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g = load(write_npz(tmp_path / "g.npz", **graph_arrays()))
    monkeypatch.setenv("LABELGRAPH_DENSE_LIMIT", "2")
    with pytest.raises(DataError, match="limit of 2 labels"):
        g.to_dense()
    monkeypatch.setenv("LABELGRAPH_DENSE_LIMIT", "3")
    assert g.to_dense().shape == (3, 3)


@pytest.mark.slow
def test_million_label_statistics_build_sparse_and_inspect_but_refuse_dense(tmp_path: Path) -> None:
    c = 1_000_000
    labels = np.char.add("l", np.arange(c).astype(str))
    path = write_npz(tmp_path / "huge_statistics.npz", data=np.zeros(0, np.int64), indices=np.zeros(0, np.int32),
                     indptr=np.zeros(c + 1, np.int32), shape=np.array([c, c]), format=np.array("csr"),
                     labels=labels, kind=np.array("statistics"), n=np.zeros(c, np.int64), num_samples=np.array(0))
    assert path.stat().st_size < 20 * 2**20
    result = run_cli("build", "--stats", str(path), "--kind", "binary", "--dense", "--out", str(tmp_path / "out"),
                     timeout=120)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "dense 1000000 x 1000000 matrix" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    # inspect and sweep stay sparse (SPEC §6): every label isolated, one component each
    result = run_cli("inspect", str(path), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "isolated labels       1000000" in result.stdout and "999,800 more labels" in result.stdout
    assert len(result.stdout.splitlines()) < 300
    result = run_cli("sweep", "--kind", "binary", "--stats", str(path), "--tau", "0.3,0.4", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["num_edges"], r["components"]) for r in (rows if isinstance(rows, list) else rows["rows"])] == \
        [(0, c), (0, c)]
    # the default sparse path (SPEC §6) builds it: no pair co-occurs, so the graph has no edge
    result = run_cli("build", "--stats", str(path), "--kind", "binary", "--raw", "--out", str(tmp_path / "out"),
                     timeout=120)
    assert result.returncode == 0, result.stderr
    [graph] = (tmp_path / "out").glob("*_binary_t0.4_raw.npz")
    assert load(graph).num_labels == c and load(graph).matrix.nnz == 0


def _npy(value: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, value)
    return buffer.getvalue()


def write_bomb(path: Path, small: dict[str, np.ndarray], name: str, header: dict, zeros: int) -> Path:
    """A zip with ``small`` members and one ``name`` member: a .npy ``header`` then ``zeros`` zero bytes, deflated."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, value in small.items():
            zf.writestr(f"{key}.npy", _npy(value))
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(head, dict(fortran_order=False, **header))
        info = zipfile.ZipInfo(f"{name}.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            out.write(head.getvalue())
            chunk = bytes(2**22)
            for start in range(0, zeros, len(chunk)):
                out.write(chunk[: min(len(chunk), zeros - start)])
    return path


PEAK_RSS = """
import sys
import labelgraph
from labelgraph.errors import ArtifactError
try:
    labelgraph.load(sys.argv[1])
except ArtifactError as exc:
    print(exc)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking (pytest) process across exec
print(next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")) // 1024)
"""


def _peak_mib(path: Path) -> tuple[str, int]:
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, str(path)], capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 0, result.stderr
    message, peak = result.stdout.strip().splitlines()
    return message, int(peak)


BOMB = 256 * 2**20
EMB = dict(kind=np.array("embeddings"), labels=np.array(["a", "b"]))
GRAPH = {k: np.asarray(v) for k, v in graph_arrays(data=None).items()}


@pytest.mark.parametrize("small, name, header, fragment", [
    # a header that lies about the member's size
    (EMB, "labels", dict(descr="<U1", shape=(2,)), "labels: the zip declares"),
    # an honest header the rest of the file does not allow: 3 x 3 graph, 64 Mi entries
    (GRAPH, "data", dict(descr="<f4", shape=(BOMB // 4,)), "data: shape (67108864,), expected (2,)"),
    # an honest header the file allows: 2 labels x 32 Mi dims, all zeros
    (EMB, "vectors", dict(descr="<f4", shape=(2, BOMB // 8)), "likely zip bomb"),
])
@pytest.mark.slow
def test_zip_bombs_are_refused_before_they_inflate(tmp_path: Path, small: dict, name: str, header: dict,
                                                   fragment: str) -> None:
    small = {k: v for k, v in small.items() if k != name}
    path = write_bomb(tmp_path / "bomb.npz", small, name, header, BOMB)
    assert path.stat().st_size < BOMB // 200
    message, peak = _peak_mib(path)
    assert message.startswith(str(path)) and fragment in message, message
    assert peak < 200, f"peak RSS {peak} MiB"


def test_small_members_have_a_cap(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "g.npz", **graph_arrays(kind=np.array("binary" + " " * 5000)))
    assert "kind: " in load_error(path) and "more than the 4,096 allowed" in load_error(path)


# -- the trainer -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tests.conftest import require_shared
    from labelgraph.datasets.arff import read_mulan

    folder = require_shared("mulan") / "scene"
    out = tmp_path_factory.mktemp("scene")
    ls = read_mulan(folder, "train")
    c = ls.num_labels
    graph = labelgraph.build_graph(ls.statistics(), "mlgcn", tau=0.3, p=0.25).save(out / "g.npz")
    bad_graph = write_npz(out / "bad_graph.npz", data=np.ones(1, np.float32), indices=np.array([c + 4]),
                          indptr=np.array([0] + [1] * c), shape=np.array([c, c]), format=np.array("csr"),
                          labels=np.array(ls.labels), kind=np.array("binary"))
    emb = Artifact.embeddings(ls.labels, np.eye(c, dtype=np.float32)).save(out / "e.npz")
    nan = np.eye(c, dtype=np.float32)
    nan[1, 1] = np.nan
    nan_emb = write_npz(out / "nan_emb.npz", labels=np.array(ls.labels), kind=np.array("embeddings"), vectors=nan)
    zero_emb = write_npz(out / "zero_emb.npz", labels=np.array(ls.labels), kind=np.array("embeddings"),
                         vectors=np.zeros((c, 0), np.float32))
    return dict(annotations=folder, graph=graph, bad_graph=bad_graph, embeddings=emb, nan_emb=nan_emb,
                zero_emb=zero_emb)


@pytest.mark.parametrize("graph, embeddings, fragment", [
    ("bad_graph", "embeddings", "indices: column index"),
    ("graph", "nan_emb", "vectors: holds NaN or inf"),
    ("graph", "zero_emb", "zero-width vectors"),
])
def test_train_refuses_hostile_inputs_at_load(scene: dict[str, Path], tmp_path: Path, graph: str,
                                              embeddings: str, fragment: str) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "run"
    start = time.monotonic()
    result = run_cli("train", "--dataset", "mulan", "--annotations", str(scene["annotations"]),
                     "--backbone", "features", "--graph", str(scene[graph]), "--embeddings", str(scene[embeddings]),
                     "--epochs", "1", "--out", str(out), "-q", timeout=240)
    bad = scene[graph] if graph == "bad_graph" else scene[embeddings]
    refused(result, bad, fragment)
    assert time.monotonic() - start < 120
    assert not (out / "last.pt").exists()
