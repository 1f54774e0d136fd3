"""SPEC §4 artifacts: the file layout, determinism, atomic writes, refusal of pickles."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp

from labelgraph import Artifact, load
from labelgraph.errors import ArtifactError, LabelMismatchError
from labelgraph.artifact import require_same_labels


def _stats():
    return Artifact.statistics(["cat", "dog", "bird"], [3, 2, 1], [[0, 2, 1], [2, 0, 0], [1, 0, 0]], 4,
                               {"dataset": "toy", "split": "train"})


def test_file_opens_with_numpy_and_scipy(tmp_path):
    g = Artifact.graph("binary", ["a", "b", "c"], [[0, 0.5, 0], [0.25, 0, 0], [0, 0, 1]], {"tau": 0.4})
    path = g.save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert str(npz["kind"]) == "binary"
        assert npz["labels"].dtype.kind == "U"
        assert npz["labels"].tolist() == ["a", "b", "c"]
        meta = json.loads(str(npz["meta"]))
    assert meta["tau"] == 0.4 and meta["content_hash"] == g.content_hash
    m = sp.load_npz(path)
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m.toarray(), [[0, 0.5, 0], [0.25, 0, 0], [0, 0, 1]])


def test_statistics_file_layout(tmp_path):
    path = _stats().save(tmp_path / "s.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert npz["n"].dtype == np.int64 and npz["n"].tolist() == [3, 2, 1]
        assert npz["num_samples"].dtype == np.int64 and int(npz["num_samples"]) == 4
    M = sp.load_npz(path)
    assert M.dtype == np.int64 and not M.diagonal().any()
    back = load(path)
    assert back.kind == "statistics" and back.num_samples == 4
    assert back.content_hash == _stats().content_hash


def test_embeddings_layout(tmp_path):
    e = Artifact.embeddings(["a", "b"], np.arange(6).reshape(2, 3), {"format": "glove"})
    path = e.save(tmp_path / "e.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert npz["vectors"].dtype == np.float32 and npz["vectors"].shape == (2, 3)
        assert "data" not in npz.files
    assert load(path).vectors.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_same_inputs_same_hash_and_arrays(tmp_path):
    a = _stats().save(tmp_path / "a.npz")
    b = _stats().save(tmp_path / "b.npz")
    with np.load(a) as x, np.load(b) as y:
        assert x.files == y.files
        for key in x.files:
            assert np.array_equal(x[key], y[key]), key
    assert load(a).content_hash == load(b).content_hash
    other = Artifact.statistics(["cat", "dog", "bird"], [3, 2, 1], [[0, 1, 1], [1, 0, 0], [1, 0, 0]], 4)
    assert other.content_hash != _stats().content_hash


def test_file_written_by_another_program_loads(tmp_path):
    # scipy's own writer plus the extra keys, no meta: the format is the contract
    path = tmp_path / "foreign.npz"
    m = sp.csr_matrix(np.array([[0, 1.0], [1.0, 0]], dtype=np.float32))
    np.savez(path, data=m.data, indices=m.indices, indptr=m.indptr, shape=np.array(m.shape),
             format=np.array("csr"), labels=np.array(["x", "y"]), kind=np.array("knowledge"))
    art = load(path)
    assert art.kind == "knowledge" and art.labels == ("x", "y")
    assert art.to_dense().tolist() == [[0, 1], [1, 0]]


def test_pickled_content_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, labels=np.array([{"x": 1}], dtype=object), kind=np.array("binary"))
    with pytest.raises(ArtifactError, match="pickled"):
        load(path)


@pytest.mark.parametrize("content,match", [
    (b"not a zip", "not a readable"),
    (None, "missing key"),
])
def test_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.npz"
    if content is None:
        np.savez(path, data=np.zeros(1))
    else:
        path.write_bytes(content)
    with pytest.raises(ArtifactError, match=match):
        load(path)
    with pytest.raises(ArtifactError, match="no such file"):
        load(tmp_path / "absent.npz")


def test_existing_output_needs_force_only_when_it_would_change(tmp_path):
    path = _stats().save(tmp_path / "s.npz")
    before = path.read_bytes()
    assert _stats().save(path) == path and path.read_bytes() == before  # same content: nothing to do
    other = Artifact.graph("binary", _stats().labels, np.zeros((3, 3)))
    with pytest.raises(ArtifactError, match=r"would change \(kind statistics -> binary.*--force"):
        other.save(path)
    assert path.read_bytes() == before
    other.save(path, force=True)
    assert load(path).kind == "binary"


def test_label_checks():
    with pytest.raises(ArtifactError, match="duplicate"):
        Artifact.graph("binary", ["a", "a"], np.zeros((2, 2)))
    with pytest.raises(LabelMismatchError, match="only in first: c"):
        require_same_labels(["a", "c"], ["a", "b"])
    with pytest.raises(LabelMismatchError, match="did you mean: person"):
        Artifact.graph("binary", ["person", "dog"], np.zeros((2, 2))).index("persn")


def test_reorder_and_networkx():
    s = _stats()
    r = s.reorder(["bird", "cat", "dog"])
    assert r.n.tolist() == [1, 3, 2]
    assert r.matrix.toarray().tolist() == [[0, 1, 0], [1, 0, 2], [0, 2, 0]]
    g = Artifact.graph("binary", ["a", "b", "c"], [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]]).to_networkx()
    assert sorted(g.edges(data="weight")) == [("a", "b", 0.5)]
    assert set(g.nodes) == {"a", "b", "c"}
    d = Artifact.graph("binary", ["a", "b"], [[0, 1], [0, 0]]).to_networkx()
    assert d.is_directed() and list(d.edges) == [("a", "b")]


WRITER = r"""
import sys, numpy as np
from labelgraph import Artifact
path = sys.argv[1]
labels = [f"l{i}" for i in range(1500)]
rng = np.random.default_rng(0)
print("ready", flush=True)
while True:
    Artifact.graph("binary", labels, rng.random((1500, 1500)) < 0.5).save(path, force=True)
"""


def test_writer_killed_mid_write_leaves_previous_file(tmp_path):
    path = tmp_path / "g.npz"
    before = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]]).save(path)
    expected_hash = load(before).content_hash
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.3)  # mid-way through a multi-megabyte save
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    art = load(path)  # either the original or one complete write, never a torn file
    assert art.kind == "binary"
    if art.num_labels == 2:
        assert art.content_hash == expected_hash
    else:
        assert zipfile.is_zipfile(path) and art.num_labels == 1500
    leftovers = [p for p in os.listdir(tmp_path) if p != "g.npz"]
    assert all(p.endswith(".tmp") for p in leftovers)  # temp files only, never a partial g.npz


def test_import_is_light():
    code = ("import sys, labelgraph; heavy = [m for m in ('torch', 'gensim', 'matplotlib', 'networkx', 'torchvision')"
            " if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
