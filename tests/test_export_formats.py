"""Files other repositories load (SPEC §2.9), read back the way those repositories read them."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph import Artifact
from labelgraph.embeddings.mlgcn_pickle import import_mlgcn_pickle
from labelgraph.errors import ArtifactError, ConfigError
from labelgraph.assemble import build_graph
from labelgraph.inspect.export import default_export_path, export_artifact
from labelgraph_cli.main import cli
from tests.conftest import require_shared


@pytest.fixture(scope="module")
def voc() -> Artifact:
    return labelgraph.load(labelgraph.bundled_path("voc2007"))


def _gen_adj_from_file(adj_file, t=0.4, p=0.25):
    """ML-GCN's util.py: gen_A(num_classes, t, adj_file) then gen_adj(A), re-written from SPEC §2.4 with numpy."""
    with open(adj_file, "rb") as f:
        result = pickle.load(f)  # the test wrote this file; ML-GCN opens it exactly like this
    _adj = result["adj"]
    _nums = result["nums"][:, np.newaxis]
    _adj = _adj / _nums
    _adj[_adj < t] = 0
    _adj[_adj >= t] = 1
    _adj = _adj * p / (_adj.sum(0, keepdims=True) + 1e-6)
    _adj = _adj + np.identity(_adj.shape[0], np.int64)
    A = _adj.astype(np.float32)
    D = np.diag(np.power(A.sum(1), -0.5))
    return np.matmul(np.matmul(A, D).T, D)


@pytest.mark.parametrize("dataset", ["voc2007", "coco2014"])
def test_mlgcn_adj_pkl_gives_our_mlgcn_graph(tmp_path, dataset) -> None:
    stats = labelgraph.load(labelgraph.bundled_path(dataset))
    path = export_artifact(stats, tmp_path / f"{dataset}_adj.pkl", "mlgcn")[0]
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert set(raw) == {"adj", "nums"}
    assert raw["adj"].dtype.kind == "i" and raw["nums"].dtype.kind == "i"
    np.testing.assert_array_equal(raw["adj"], stats.matrix.toarray())
    np.testing.assert_array_equal(raw["nums"], stats.n)
    ours = build_graph(stats, "mlgcn").to_dense()
    np.testing.assert_allclose(_gen_adj_from_file(path), ours, atol=1e-6)


def test_mlgcn_adj_pkl_equals_the_published_one(tmp_path, voc) -> None:
    published = require_shared("mlgcn", "voc_adj.pkl")
    with open(published, "rb") as f:
        want = pickle.load(f)
    with open(export_artifact(voc, tmp_path / "voc_adj.pkl", "mlgcn")[0], "rb") as f:
        got = pickle.load(f)
    np.testing.assert_array_equal(got["adj"], want["adj"])
    np.testing.assert_array_equal(got["nums"], want["nums"])


def test_glove_word2vec_pkl_round_trips_the_published_vectors(tmp_path, voc) -> None:
    published = require_shared("mlgcn", "voc_glove_word2vec.pkl")
    with open(published, "rb") as f:
        want = pickle.load(f)
    emb = import_mlgcn_pickle(published, voc.labels)
    path = export_artifact(emb, tmp_path / "voc_glove_word2vec.pkl", "mlgcn")[0]
    with open(path, "rb") as f:
        got = pickle.load(f)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (20, 300)
    np.testing.assert_array_equal(got, want)


def test_ssgrl_prob_train_and_vectors(tmp_path, voc) -> None:
    prob = np.load(export_artifact(voc, tmp_path / "prob_train.npy", "ssgrl")[0])
    M, n = voc.matrix.toarray(), voc.n
    want = np.array([[M[i, j] / n[i] for j in range(20)] for i in range(20)])
    assert prob.shape == (20, 20)
    np.testing.assert_allclose(prob, want, rtol=1e-12)
    P = build_graph(voc, "probability")
    np.testing.assert_allclose(np.load(export_artifact(P, tmp_path / "p2.npy", "ssgrl")[0]), want, rtol=1e-6)
    vectors = np.random.default_rng(0).standard_normal((20, 8)).astype(np.float32)
    emb = Artifact.embeddings(voc.labels, vectors)
    np.testing.assert_array_equal(np.load(export_artifact(emb, tmp_path / "vectors.npy", "ssgrl")[0]), vectors)


def test_npy_and_pt_with_labels_beside(tmp_path, voc) -> None:
    g = build_graph(voc, "reweighted")
    written = export_artifact(g, tmp_path / "rw.npy", "npy")
    assert [p.name for p in written] == ["rw.npy", "rw.labels.txt"]
    np.testing.assert_array_equal(np.load(written[0], allow_pickle=False), g.to_dense())
    assert written[1].read_text().splitlines() == list(voc.labels)
    counts = export_artifact(voc, tmp_path / "M.npy", "npy")[0]
    np.testing.assert_array_equal(np.load(counts), voc.matrix.toarray())

    torch = pytest.importorskip("torch")
    pt = export_artifact(g, tmp_path / "rw_t.pt", "pt")
    tensor = torch.load(pt[0], weights_only=True)
    assert tensor.dtype == torch.float32
    np.testing.assert_array_equal(tensor.numpy(), g.to_dense())
    assert pt[1].read_text().splitlines() == list(voc.labels)


def test_wrong_kinds_and_unknown_targets_write_nothing(tmp_path, voc) -> None:
    g = build_graph(voc, "binary")
    with pytest.raises(ArtifactError, match="only graph artifacts can be exported to pyg, got a statistics"):
        export_artifact(voc, tmp_path / "s.pyg.npz", "pyg")
    with pytest.raises(ArtifactError, match="cannot export a binary artifact to mlgcn: ML-GCN builds its graph"):
        export_artifact(g, tmp_path / "g_adj.pkl", "mlgcn")
    with pytest.raises(ArtifactError, match="cannot export a binary artifact to ssgrl"):
        export_artifact(g, tmp_path / "prob_train.npy", "ssgrl")
    with pytest.raises(ConfigError, match="unknown export format 'dgl' \\(known: graphml, gexf, csv, edgelist, pyg, "
                                          "mlgcn, ssgrl, npy, pt\\)"):
        export_artifact(g, tmp_path / "g.dgl", "dgl")
    (tmp_path / "taken.labels.txt").write_text("old")
    with pytest.raises(ArtifactError, match="already exists"):
        export_artifact(g, tmp_path / "taken.npy", "npy")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.labels.txt"]


def test_default_paths_per_kind() -> None:
    assert default_export_path("g/voc2007_statistics.npz", "mlgcn", "statistics").as_posix() == "g/voc2007_adj.pkl"
    assert default_export_path("e/voc2007_glove.npz", "mlgcn", "embeddings").as_posix() == \
        "e/voc2007_glove_glove_word2vec.pkl"
    assert default_export_path("g/voc2007_statistics.npz", "ssgrl", "statistics").as_posix() == \
        "g/voc2007_ssgrl/prob_train.npy"
    assert default_export_path("e/voc.npz", "ssgrl", "embeddings").as_posix() == "e/voc_ssgrl/vectors.npy"
    assert default_export_path("g/a.npz", "pt", "binary").as_posix() == "g/a.pt"


def test_cli_export_mlgcn_and_errors(tmp_path, voc) -> None:
    stats_path = voc.save(tmp_path / "voc2007_statistics.npz")
    graph_path = build_graph(voc, "binary").save(tmp_path / "voc2007_binary.npz")
    runner = CliRunner()
    out = runner.invoke(cli, ["export", str(stats_path), "--to", "mlgcn"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == f"wrote {tmp_path / 'voc2007_adj.pkl'}"
    out = runner.invoke(cli, ["export", str(graph_path), "--to", "npy"])
    assert out.exit_code == 0 and (tmp_path / "voc2007_binary.labels.txt").is_file()
    bad = runner.invoke(cli, ["export", str(graph_path), "--to", "mlgcn"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert bad.output.strip().splitlines() == [
        "Error: cannot export a binary artifact to mlgcn: ML-GCN builds its graph from counts, so its adj.pkl "
        "comes from a statistics file (and its glove_word2vec.pkl from an embeddings file)"]
    bad = runner.invoke(cli, ["export", str(stats_path), "--to", "csv"])
    assert bad.exit_code != 0 and "only graph artifacts can be exported to csv" in bad.output
    unknown = runner.invoke(cli, ["export", str(stats_path), "--to", "tsv"])
    assert unknown.exit_code == 2 and "'graphml', 'gexf', 'csv', 'edgelist', 'pyg', 'mlgcn', 'ssgrl', 'npy'" \
        in unknown.output
    assert not (tmp_path / "voc2007_binary_adj.pkl").exists() and not (tmp_path / "voc2007_statistics.csv").exists()
