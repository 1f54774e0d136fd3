"""Exports read back with networkx, the csv module and numpy give the same weighted edges."""
from __future__ import annotations

import csv

import networkx as nx
import numpy as np
import pytest

from labelgraph import Artifact
from labelgraph.errors import ArtifactError, ConfigError
from labelgraph.inspect.export import default_export_path, export_graph

LABELS = ["tennis racket", "sports ball", "person", "hot dog", "a&b <c>"]


def symmetric() -> Artifact:
    rng = np.random.default_rng(0)
    A = rng.random((5, 5)) * (rng.random((5, 5)) < 0.6)
    A = (A + A.T) / 2
    A[3, :] = A[:, 3] = 0
    A[3, 3] = 0.5  # a self loop only
    return Artifact.graph("ks", LABELS, A, {"lam": 0.4, "normalized": True})


def asymmetric() -> Artifact:
    A = np.array([[0.8, 0.1, 0, 0, 0], [0.3, 0.8, 0.05, 0, 0], [0, 0, 1, 0.2, 0], [0, 0, 0, 0, 0], [0.4, 0, 0, 0, 0]])
    return Artifact.graph("reweighted", LABELS, A)


def dense_from_networkx(G: nx.Graph) -> np.ndarray:
    out = np.zeros((5, 5))
    for u, v, w in G.edges(data="weight"):
        i, j = LABELS.index(u), LABELS.index(v)
        out[i, j] = w
        if not G.is_directed():
            out[j, i] = w
    return out


@pytest.mark.parametrize("make", [symmetric, asymmetric])
@pytest.mark.parametrize("fmt, reader", [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_networkx_formats_round_trip(tmp_path, make, fmt, reader) -> None:
    art = make()
    path = export_graph(art, tmp_path / f"g.{fmt}", fmt)
    G = reader(path)
    assert G.is_directed() == (make is asymmetric)
    assert sorted(G.nodes) == sorted(LABELS)
    assert {n: int(d["index"]) for n, d in G.nodes(data=True)} == {x: i for i, x in enumerate(LABELS)}
    np.testing.assert_allclose(dense_from_networkx(G), art.to_dense(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", [symmetric, asymmetric])
def test_csv_and_edgelist_round_trip(tmp_path, make) -> None:
    art = make()
    export_graph(art, tmp_path / "g.csv", "csv")
    export_graph(art, tmp_path / "g.edgelist", "edgelist")
    with open(tmp_path / "g.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["source", "target", "weight"]
    dense = np.zeros((5, 5), dtype=np.float32)
    for u, v, w in rows[1:]:
        dense[LABELS.index(u), LABELS.index(v)] = np.float32(float(w))
    np.testing.assert_array_equal(dense, art.to_dense())  # float32 exactly
    lines = (tmp_path / "g.edgelist").read_text().splitlines()
    assert [line.split("\t") for line in lines] == rows[1:]
    if make is symmetric:
        G = nx.read_weighted_edgelist(tmp_path / "g.edgelist", delimiter="\t")
        got = dense_from_networkx(G)
        want = art.to_dense()
        present = [LABELS.index(n) for n in G.nodes]
        np.testing.assert_allclose(got[np.ix_(present, present)], want[np.ix_(present, present)], rtol=1e-6)


@pytest.mark.parametrize("make", [symmetric, asymmetric])
def test_pyg_arrays(tmp_path, make) -> None:
    art = make()
    path = export_graph(art, tmp_path / "g.pyg.npz", "pyg")
    with np.load(path, allow_pickle=False) as npz:
        edge_index, edge_weight = npz["edge_index"], npz["edge_weight"]
        labels, num_nodes = npz["labels"].tolist(), int(npz["num_nodes"])
    assert edge_index.dtype == np.int64 and edge_index.shape == (2, np.count_nonzero(art.to_dense()))
    assert edge_weight.dtype == np.float32 and edge_weight.shape == (edge_index.shape[1],)
    assert labels == LABELS and num_nodes == 5
    dense = np.zeros((5, 5), dtype=np.float32)
    np.add.at(dense, (edge_index[1], edge_index[0]), edge_weight)  # target i, source j
    np.testing.assert_array_equal(dense, art.to_dense())


def test_overwrite_needs_force_and_leaves_no_temp_files(tmp_path) -> None:
    art = symmetric()
    path = tmp_path / "g.csv"
    path.write_text("old")
    with pytest.raises(ArtifactError, match="already exists"):
        export_graph(art, path, "csv")
    assert path.read_text() == "old"
    export_graph(art, path, "csv", force=True)
    assert path.read_text().startswith("source,target,weight")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv"]


def test_unknown_format_and_wrong_kind(tmp_path) -> None:
    with pytest.raises(ConfigError, match="unknown export format 'xml' \\(known: graphml, gexf, csv, edgelist, pyg, mlgcn, "
                                          "ssgrl, npy, pt\\)"):
        export_graph(symmetric(), tmp_path / "g.xml", "xml")
    stats = Artifact.statistics(["a", "b"], [1, 1], [[0, 1], [1, 0]], 2)
    with pytest.raises(ArtifactError, match="only graph artifacts"):
        export_graph(stats, tmp_path / "s.csv", "csv")
    assert not (tmp_path / "s.csv").exists()


def test_default_paths() -> None:
    graph_formats = ("graphml", "gexf", "csv", "edgelist", "pyg")
    assert {f: default_export_path("graphs/coco_ks.npz", f).name for f in graph_formats} == {
        "graphml": "coco_ks.graphml", "gexf": "coco_ks.gexf", "csv": "coco_ks.csv",
        "edgelist": "coco_ks.edgelist", "pyg": "coco_ks.pyg.npz"}
