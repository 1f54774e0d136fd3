"""GraphML written from the sparse entries: networkx's own bytes, read back by networkx, memory O(nnz)."""
from __future__ import annotations

import io
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from labelgraph import Artifact
from labelgraph.inspect.export import export_graph, graphml_bytes


def networkx_graphml(artifact: Artifact) -> bytes:
    """What the export wrote before: networkx's writer over ``to_networkx`` with an index on every node."""
    graph = artifact.to_networkx(self_loops=True)
    for i, label in enumerate(artifact.labels):
        graph.nodes[label]["index"] = i
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return buffer.getvalue()


def cases() -> list[Artifact]:
    rng = np.random.default_rng(0)
    A = rng.random((40, 40)) * (rng.random((40, 40)) < 0.2)
    S = (A + A.T) / 2
    names = [f"label {i}" for i in range(38)] + ['a&b <c> "d"', "tab\there"]
    return [
        Artifact.graph("ks", names, S, {"lam": 0.4, "normalized": True, "tau": 1, "note": 'x<y & "z"'}),
        Artifact.graph("reweighted", names, A),
        Artifact.graph("binary", ["a", "b", "c"], np.zeros((3, 3))),  # no edge: no weight key
        Artifact.graph("identity", ["a", "b"], np.eye(2)),  # self loops only
        Artifact.graph("probability", ["x", "y"], [[0, 0.3], [0.1, 0]]),
    ]


@pytest.mark.parametrize("art", cases(), ids=lambda a: a.kind)
def test_same_bytes_as_networkx(art: Artifact) -> None:
    assert bytes(graphml_bytes(art)) == networkx_graphml(art)


@pytest.mark.parametrize("art", cases()[:2], ids=lambda a: a.kind)
def test_read_back_by_networkx(tmp_path, art: Artifact) -> None:
    path = export_graph(art, tmp_path / "g.graphml", "graphml")
    G = nx.read_graphml(path)
    assert G.is_directed() == (art.kind == "reweighted")
    got = np.zeros((art.num_labels, art.num_labels))
    index = {n: int(d["index"]) for n, d in G.nodes(data=True)}
    assert sorted(index.values()) == list(range(art.num_labels))
    assert [n for n, _ in sorted(index.items(), key=lambda t: t[1])] == list(art.labels)
    for u, v, w in G.edges(data="weight"):
        got[index[u], index[v]] = w
        if not G.is_directed():
            got[index[v], index[u]] = w
    np.testing.assert_array_equal(got.astype(np.float32), art.to_dense())


def test_export_of_2000_labels_fits_in_little_memory(tmp_path) -> None:
    """A dense-ish graph of 2,000 labels (400,000 edges): under a 512 MiB address-space limit the export runs
    (networkx's graph of it needed 685 MB RSS and fails under this limit)."""
    rng = np.random.default_rng(1)
    c = 2000
    A = sp.random(c, c, density=0.1, random_state=rng, format="csr", dtype=np.float64)
    Artifact.graph("probability", [f"l{i}" for i in range(c)], A).save(tmp_path / "big.npz")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 29, 1 << 29)); "
            "from labelgraph import load; from labelgraph.inspect.export import export_graph; "
            "export_graph(load(sys.argv[1]), sys.argv[2], 'graphml')")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.npz"), str(tmp_path / "big.graphml")],
                         capture_output=True, text=True, timeout=240, env={"OPENBLAS_NUM_THREADS": "1", "PATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    text = (tmp_path / "big.graphml").read_text()
    assert text.count("<edge ") == A.nnz and text.count("<node ") == c
