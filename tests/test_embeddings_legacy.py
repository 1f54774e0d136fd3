"""ML-GCN's published label-embedding pickles through the restricted unpickler, and what it refuses."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph.embeddings import import_mlgcn_pickle, read_mlgcn_pickle, restricted_load
from labelgraph.errors import DataError, LabelMismatchError
from labelgraph_cli.main import cli
from tests.conftest import require_shared


def _names(path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("pkl, shape", [("coco_glove_word2vec.pkl", (80, 300)), ("voc_glove_word2vec.pkl", (20, 300))])
def test_published_pickles_load(pkl, shape):
    path = require_shared("mlgcn", pkl)
    ours = read_mlgcn_pickle(path)
    assert ours.shape == shape and ours.dtype == np.float32
    # independent check: the ordinary unpickler on this known, trusted file gives the same array
    with open(path, "rb") as f:
        reference = pickle.load(f, encoding="latin1")
    np.testing.assert_array_equal(ours, reference)


def test_adjacency_pickle_loads_too():
    adj = restricted_load(require_shared("mlgcn", "coco_adj.pkl"))
    assert set(adj) == {"nums", "adj"} and adj["adj"].shape == (80, 80) and int(adj["nums"][49]) == 45174


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch should-not-exist",))


def test_code_in_a_pickle_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "coco_glove_word2vec.pkl"
    p.write_bytes(pickle.dumps([np.zeros((2, 3), np.float32), _Payload()], protocol=2))
    with pytest.raises(DataError, match=rf"{p}: refused global '(posix|os)\.system'"):
        read_mlgcn_pickle(p)
    assert not (tmp_path / "should-not-exist").exists()


def test_not_an_array(tmp_path):
    p = tmp_path / "x.pkl"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(DataError, match="expected a 2-D numeric array"):
        read_mlgcn_pickle(p)
    p.write_bytes(b"\x80\x02garbage")
    with pytest.raises(DataError, match="not a readable pickle"):
        read_mlgcn_pickle(p)


def test_label_count_must_match(tmp_path):
    p = require_shared("mlgcn", "voc_glove_word2vec.pkl")
    with pytest.raises(LabelMismatchError, match="20 rows but 3 labels"):
        import_mlgcn_pickle(p, ["a", "b", "c"])


def test_cli_import_pkl(tmp_path):
    mlgcn = require_shared("mlgcn")
    res = CliRunner().invoke(cli, ["embed", "--import-pkl", str(mlgcn / "coco_glove_word2vec.pkl"), "--labels",
                                   str(mlgcn / "coco_categories_mlgcn_order.txt"), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    art = labelgraph.load(tmp_path / "coco_categories_mlgcn_order_coco_glove_word2vec.npz")
    assert art.labels == tuple(_names(mlgcn / "coco_categories_mlgcn_order.txt"))
    with open(mlgcn / "coco_glove_word2vec.pkl", "rb") as f:
        np.testing.assert_array_equal(art.vectors, pickle.load(f, encoding="latin1"))
    assert art.meta["format"] == "mlgcn-pickle" and len(art.meta["source"]["fingerprint"]["sha256"]) == 64


def test_cli_import_refused_pickle_writes_nothing(tmp_path):
    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps(_Payload()))
    (tmp_path / "labels.txt").write_text("a\n")
    res = CliRunner().invoke(cli, ["embed", "--import-pkl", str(p), "--labels", str(tmp_path / "labels.txt"),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1 and "refused global" in res.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
