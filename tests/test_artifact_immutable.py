"""An artifact cannot be changed in place; a changed copy (replace / with_meta) carries its own hash."""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import labelgraph
from labelgraph import Artifact, load
from labelgraph.errors import ArtifactError


def file_hash(path: Path) -> tuple[str, str]:
    """(the hash stored in the file's meta, sha256 of its arrays per docs/graphs.md), read with numpy alone."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    stored = json.loads(str(arrays.pop("meta")))["content_hash"]
    digest = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        digest.update(name.encode() + arr.dtype.str.encode() + repr(arr.shape).encode() + arr.tobytes())
    return stored, digest.hexdigest()


@pytest.fixture
def graph() -> Artifact:
    return Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 0.5], [0, 0, 0]],
                          {"tau": 0.4, "source": {"dataset": "toy", "files": [{"path": "x.txt"}]}})


def test_arrays_are_read_only(graph: Artifact) -> None:
    stats = labelgraph.load(labelgraph.bundled_path("voc"))
    emb = Artifact.embeddings(["a", "b"], np.eye(2))
    for arr in (graph.matrix.data, graph.matrix.indices, graph.matrix.indptr, stats.n, stats.matrix.data,
                emb.vectors):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 7
    with pytest.raises(ValueError, match="read-only"):
        graph.matrix[0, 1] = 3.0  # an existing entry: written into data
    with warnings.catch_warnings(), pytest.raises(ValueError, match="read-only"):
        warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
        graph.matrix[2, 0] = 3.0  # a new entry
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.kind = "probability"  # type: ignore[misc]


def test_the_callers_arrays_are_copied_not_frozen() -> None:
    n = np.array([2, 1])
    vectors = np.ones((2, 3))
    Artifact.statistics(["a", "b"], n, [[0, 1], [1, 0]], 2)
    Artifact.embeddings(["a", "b"], vectors)
    n[0] = 5
    vectors[0, 0] = 5.0  # still the caller's to change


def test_meta_is_a_read_only_deep_copy(graph: Artifact) -> None:
    given = {"tau": 0.4, "files": [{"path": "x.txt"}], "where": Path("/tmp/x")}
    a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]], given)
    given["files"][0]["path"] = "changed"
    assert a.meta["files"] == [{"path": "x.txt"}] and a.meta["where"] == "/tmp/x"
    with pytest.raises(TypeError):
        a.meta["tau"] = 0.5  # type: ignore[index]
    with pytest.raises(TypeError):
        a.meta["files"].append({})
    with pytest.raises(TypeError):
        a.meta["files"][0]["path"] = "y"
    with pytest.raises(TypeError):
        graph.meta["source"].update(dataset="other")
    assert json.loads(json.dumps(dict(graph.meta)))["source"] == {"dataset": "toy", "files": [{"path": "x.txt"}]}
    with pytest.raises(ArtifactError, match="JSON-serializable"):
        Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]], {"bad": object()})


def test_replace_gives_a_new_hash_that_load_save_reproduces(graph: Artifact, tmp_path: Path) -> None:
    changed = graph.replace(matrix=sp.csr_matrix([[0, 1, 0], [0, 0, 0.5], [0, 0, 0]]))
    fresh = Artifact.graph("binary", graph.labels, [[0, 1, 0], [0, 0, 0.5], [0, 0, 0]])
    assert changed.content_hash == fresh.content_hash != graph.content_hash
    assert changed.meta["tau"] == 0.4 and graph.matrix.nnz == 3  # the original is untouched
    back = load(changed.save(tmp_path / "g.npz"))
    assert back.content_hash == changed.content_hash
    assert file_hash(tmp_path / "g.npz") == (changed.content_hash, changed.content_hash)
    relabelled = graph.with_meta(tau=0.5)
    assert relabelled.meta["tau"] == 0.5 and graph.meta["tau"] == 0.4
    assert relabelled.content_hash == graph.content_hash  # meta is not part of the content hash
    with pytest.raises(ArtifactError, match="no field 'weights'"):
        graph.replace(weights=1)


def test_a_saved_file_never_carries_a_stale_hash(graph: Artifact, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    # Rebinding a scipy attribute is the one change read-only flags cannot stop.
    graph.matrix.data = np.array([1.0, 1.0, 0.25], dtype=np.float32)
    path = graph.save(tmp_path / "g.npz")
    stored, actual = file_hash(path)
    assert stored == actual != graph.content_hash
    with caplog.at_level(logging.WARNING):
        back = load(path)
    assert "differs" not in caplog.text and back.matrix[1, 2] == np.float32(0.25)


def test_copies_and_pickles_keep_everything(graph: Artifact) -> None:
    for other in (copy.deepcopy(graph), pickle.loads(pickle.dumps(graph))):
        assert other.content_hash == graph.content_hash and dict(other.meta) == dict(graph.meta)
        with pytest.raises(ValueError, match="read-only"):
            other.matrix.data[0] = 2
