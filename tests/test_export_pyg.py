"""SPEC §2.9: propagating an exported graph with PyG gives Â·X, not Âᵀ·X; to_pyg / to_torch / to_dgl agree."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import labelgraph
from labelgraph import Artifact
from labelgraph.assemble import build_graph
from labelgraph.assemble import ks_artifact
from labelgraph.inspect.export import export_graph

torch = pytest.importorskip("torch", reason="torch is the train extra")


def _import_or_skip(name: str):
    try:
        return __import__(name)
    except Exception as exc:  # dgl fails with OSError / ImportError / RuntimeError when built for another torch
        if os.environ.get("CI") == "true" and name == "torch_geometric":
            pytest.fail(f"{name} is in the test extra and must import under CI ({exc})")
        pytest.skip(f"{name} does not import here: {type(exc).__name__}: {exc}")


def _knowledge(stats: Artifact) -> Artifact:
    rng = np.random.default_rng(7)
    c = stats.num_labels
    A = rng.random((c, c)) * (rng.random((c, c)) < 0.3)
    A = np.triu(A, 1)
    return Artifact.graph("knowledge", stats.labels, A + A.T)


def graphs() -> dict[str, Artifact]:
    """Every asymmetric kind, from the real bundled VOC 2007 statistics."""
    stats = labelgraph.load(labelgraph.bundled_path("voc2007"))
    out = {k: build_graph(stats, k) for k in ("probability", "binary", "reweighted", "mlgcn")}
    out["ks"] = ks_artifact(stats, _knowledge(stats), lam=0.4, tau=0.02, eta=0.4)
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[np.ndarray, str]]:
    folder = tmp_path_factory.mktemp("graphs")
    out = {}
    for kind, art in graphs().items():
        path = art.save(folder / f"{kind}.npz")
        out[kind] = (labelgraph.load(path).to_dense().astype(np.float64), str(path))
    return out


KINDS = ["probability", "binary", "reweighted", "mlgcn", "ks"]


def _features(c: int) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((c, 16))


@pytest.mark.parametrize("kind", KINDS)
def test_message_passing_over_exported_edges_is_A_times_X(tmp_path, saved, kind) -> None:
    pyg = _import_or_skip("torch_geometric")
    from torch_geometric.nn import GCNConv, MessagePassing

    A, path = saved[kind]
    X = _features(A.shape[0])
    want = A @ X
    assert np.abs(want - A.T @ X).max() > 1e-2, "the graph must be asymmetric for this test to mean anything"

    out = export_graph(labelgraph.load(path), tmp_path / "g.pyg.npz", "pyg")
    with np.load(out, allow_pickle=False) as npz:
        edge_index = torch.from_numpy(npz["edge_index"])
        edge_weight = torch.from_numpy(npz["edge_weight"]).double()

    class WeightedSum(MessagePassing):
        def __init__(self) -> None:
            super().__init__(aggr="add")

        def forward(self, x, edge_index, edge_weight):
            return self.propagate(edge_index, x=x, edge_weight=edge_weight)

        def message(self, x_j, edge_weight):
            return edge_weight.view(-1, 1) * x_j

    x = torch.from_numpy(X)
    got = WeightedSum()(x, edge_index, edge_weight).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)

    conv = GCNConv(16, 16, normalize=False, bias=False, add_self_loops=False).double()
    with torch.no_grad():
        conv.lin.weight.copy_(torch.eye(16, dtype=torch.float64))
    np.testing.assert_allclose(conv(x, edge_index, edge_weight).detach().numpy(), want, atol=1e-6)
    assert pyg.__version__


@pytest.mark.parametrize("kind", KINDS)
def test_to_pyg_and_to_torch_propagate_A_times_X(saved, kind) -> None:
    A, path = saved[kind]
    art = labelgraph.load(path)
    X = _features(A.shape[0])
    edge_index, edge_weight = art.to_pyg()
    assert edge_index.dtype == torch.int64 and edge_weight.dtype == torch.float32
    got = np.zeros_like(X)
    # scatter-add by hand: target edge_index[1] gathers weight * x[source edge_index[0]]
    np.add.at(got, edge_index[1].numpy(), edge_weight.double().numpy()[:, None] * X[edge_index[0].numpy()])
    np.testing.assert_allclose(got, A @ X, atol=1e-6)

    dense = art.to_torch()
    assert dense.dtype == torch.float32 and tuple(dense.shape) == A.shape
    np.testing.assert_array_equal(dense.numpy(), A.astype(np.float32))
    sparse = art.to_torch(sparse=True)
    assert sparse.is_sparse and sparse.is_coalesced()
    np.testing.assert_allclose(torch.sparse.mm(sparse.double(), torch.from_numpy(X)).numpy(), A @ X, atol=1e-6)


def test_to_torch_of_statistics_and_embeddings() -> None:
    stats = labelgraph.load(labelgraph.bundled_path("voc2007"))
    M = stats.to_torch()
    assert M.dtype == torch.int64 and (M.numpy() == stats.matrix.toarray()).all()
    emb = Artifact.embeddings(["a", "b"], [[1.0, 2.0], [3.0, 4.0]])
    assert emb.to_torch().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(labelgraph.errors.ArtifactError, match="dense"):
        emb.to_torch(sparse=True)
    with pytest.raises(labelgraph.errors.ArtifactError, match="no graph"):
        emb.to_pyg()


def test_to_dgl_update_all_is_A_times_X(saved) -> None:
    dgl = _import_or_skip("dgl")
    import dgl.function as fn

    A, path = saved["reweighted"]
    X = _features(A.shape[0])
    g = labelgraph.load(path).to_dgl()
    g.ndata["h"] = torch.from_numpy(X)
    g.edata["weight"] = g.edata["weight"].double()
    g.update_all(fn.u_mul_e("h", "weight", "m"), fn.sum("m", "h"))
    np.testing.assert_allclose(g.ndata["h"].numpy(), A @ X, atol=1e-6)
    assert dgl.__version__


def test_import_and_load_stay_without_torch() -> None:
    code = ("import sys, labelgraph; a = labelgraph.load(labelgraph.bundled_path('voc2007')); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
