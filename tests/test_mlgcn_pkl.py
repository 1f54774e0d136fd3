"""ML-GCN pickles through the restricted unpickler; the bundled statistics artifacts."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import labelgraph
from labelgraph.datasets.mlgcn_pkl import read_mlgcn_adj, restricted_load
from labelgraph.errors import DataError
from tests.conftest import ROOT, require_shared


def _trusted(path: Path) -> dict:
    with open(path, "rb") as handle:  # our own shared reference file: plain pickle is fine here
        return pickle.load(handle, encoding="latin1")


def _names(path: Path) -> list[str]:
    return [x.strip() for x in path.read_text().splitlines() if x.strip()]


@pytest.mark.parametrize("name", ["coco_adj.pkl", "voc_adj.pkl", "coco_glove_word2vec.pkl", "voc_glove_word2vec.pkl"])
def test_restricted_load_equals_plain_pickle(name: str) -> None:
    path = require_shared("mlgcn", name)
    ours, ref = restricted_load(path), _trusted(path)
    if isinstance(ref, dict):
        assert sorted(ours) == sorted(ref)
        for key in ref:
            assert ours[key].dtype == ref[key].dtype and np.array_equal(ours[key], ref[key])
    else:
        assert ours.dtype == ref.dtype and np.array_equal(ours, ref)


def test_coco_adj_import_and_bundled_artifact() -> None:
    pkl = require_shared("mlgcn", "coco_adj.pkl")
    labels = _names(require_shared("coco2014", "categories_alphabetical_order.txt"))
    ref = _trusted(pkl)
    stats = read_mlgcn_adj(pkl, labels, num_samples=82081, dataset="coco2014", split="train")
    assert stats.kind == "statistics" and stats.labels == tuple(labels)
    assert np.array_equal(stats.n, ref["nums"]) and np.array_equal(stats.matrix.toarray(), ref["adj"])
    assert stats.meta["files"][0]["sha256"].startswith("351765f9")
    bundled = labelgraph.load(labelgraph.bundled_path("coco"))
    assert bundled.labels == tuple(labels) and bundled.num_samples == 82081
    assert np.array_equal(bundled.n, ref["nums"]) and np.array_equal(bundled.matrix.toarray(), ref["adj"])
    assert bundled.n[labels.index("person")] == 45174
    assert "CC BY 4.0" in bundled.meta["credit"] and bundled.meta["dataset"] == "coco2014"
    assert bundled.meta["files"][0]["sha256"] == stats.meta["files"][0]["sha256"]


def test_bundled_voc_equals_mlgcn_voc_adj() -> None:
    ref = _trusted(require_shared("mlgcn", "voc_adj.pkl"))
    bundled = labelgraph.load(labelgraph.bundled_path("voc2007"))
    assert bundled.labels == tuple(_names(require_shared("voc2007", "categories.txt")))
    assert bundled.num_samples == 5011 and bundled.meta["split"] == "trainval"
    assert np.array_equal(bundled.n, ref["nums"]) and np.array_equal(bundled.matrix.toarray(), ref["adj"])


def test_make_bundled_check_only_reports_up_to_date() -> None:
    require_shared("mlgcn", "coco_adj.pkl")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "make_bundled.py"), "--check-only"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("up to date") == 2


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


def test_refuses_os_system_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil_adj.pkl"
    path.write_bytes(pickle.dumps({"nums": np.zeros(2), "adj": _Evil(marker)}, protocol=2))
    with pytest.raises(DataError) as info:
        restricted_load(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "system" in message and "refused global" in message
    assert not marker.exists()
    with pytest.raises(DataError):
        read_mlgcn_adj(path, ["a", "b"], num_samples=3)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    _EvilEval(),
    pickle.loads(pickle.dumps(Path("/etc/passwd"))),
    {"x": __import__("collections").OrderedDict(a=1)},
    np.array([1, "a"], dtype=object),
])
def test_refuses_any_other_object(tmp_path: Path, payload: object) -> None:
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(DataError, match=r"^" + str(path).replace("/", r"\/") + ": refused"):
        restricted_load(path)


@pytest.mark.parametrize("protocol", [0, 2, 3, 4, 5])
def test_plain_arrays_load_in_every_protocol(tmp_path: Path, protocol: int) -> None:
    path = tmp_path / "ok.pkl"
    nums = np.array([3, 2, 1], dtype=np.int64)
    adj = np.array([[0, 2, 1], [2, 0, 0], [1, 0, 0]], dtype=np.int64)
    path.write_bytes(pickle.dumps({"nums": nums, "adj": adj}, protocol=protocol))
    stats = read_mlgcn_adj(path, ["a", "b", "c"], num_samples=4)
    assert stats.n.tolist() == [3, 2, 1] and stats.matrix.toarray().tolist() == adj.tolist()


@pytest.mark.parametrize("obj,match", [
    ({"nums": np.array([1, 1]), "adj": np.array([[0, 1], [0, 0]])}, "not symmetric"),
    ({"nums": np.array([1, 1]), "adj": np.array([[1, 0], [0, 0]])}, "non-zero diagonal"),
    ({"nums": np.array([1, 1, 1]), "adj": np.zeros((3, 3))}, "expected \\(2,\\)"),
    ({"nums": np.array([1, 1]), "adj": np.zeros((2, 3))}, "expected \\(2, 2\\)"),
    ({"nums": np.array([1, 1])}, "'nums' and 'adj'"),
    ([np.zeros(2)], "'nums' and 'adj'"),
    ({"nums": np.array([1, -1]), "adj": np.zeros((2, 2))}, "negative"),
    ({"nums": np.array([1, 1]), "adj": np.array([[0, 5], [5, 0]])}, "exceeds"),
])
def test_shape_and_content_checks(tmp_path: Path, obj: object, match: str) -> None:
    path = tmp_path / "bad_adj.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(DataError, match=match) as info:
        read_mlgcn_adj(path, ["a", "b"], num_samples=10)
    assert str(info.value).startswith(str(path))


def test_truncated_and_missing_pickles(tmp_path: Path) -> None:
    good = pickle.dumps({"nums": np.array([1, 1]), "adj": np.zeros((2, 2), dtype=np.int64)}, protocol=2)
    path = tmp_path / "cut.pkl"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="not a readable pickle"):
        restricted_load(path)
    with pytest.raises(DataError, match="no such pickle file"):
        restricted_load(tmp_path / "absent.pkl")


def test_labels_from_file_and_count_check(tmp_path: Path) -> None:
    path = tmp_path / "toy_adj.pkl"
    path.write_bytes(pickle.dumps({"nums": np.array([5, 2]), "adj": np.array([[0, 2], [2, 0]])}, protocol=2))
    (tmp_path / "labels.txt").write_text("cat\ndog\n")
    assert read_mlgcn_adj(path, tmp_path / "labels.txt", num_samples=5).labels == ("cat", "dog")
    with pytest.raises(DataError, match="more than num_samples"):
        read_mlgcn_adj(path, ["cat", "dog"], num_samples=4)
