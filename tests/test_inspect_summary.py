"""Graph summaries and comparisons, checked by hand and against networkx / plain numpy."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import labelgraph
from labelgraph import Artifact, build_graph, load
from labelgraph.errors import ArtifactError, LabelMismatchError
from labelgraph.inspect import compare_graphs, graph_summary
from labelgraph.inspect.summary import asymmetry, degree_histogram, strongest_edges

LABELS = ("a", "b", "c", "d", "e")
# a→b 0.5, b→a 0.25, a→c 0.1, d–d self loop only, e isolated; diagonal 1 on a, b
MATRIX = np.array([
    [1.0, 0.5, 0.1, 0, 0],
    [0.25, 1.0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0.7, 0],
    [0, 0, 0, 0, 0],
])


def test_summary_by_hand() -> None:
    s = graph_summary(Artifact.graph("probability", LABELS, MATRIX), top=2)
    assert s.num_labels == 5
    assert s.num_edges == 3  # a→b, b→a, a→c (per direction; diagonal ignored)
    assert s.density == pytest.approx(3 / 20)
    assert s.isolated == ("d", "e")
    assert s.mean_degree == pytest.approx(4 / 5)
    assert (s.max_degree, s.max_degree_labels) == (2, ("a",))
    assert s.components == 3  # {a,b,c}, {d}, {e}
    assert s.self_loops == 3
    assert s.weight_min == pytest.approx(0.1) and s.weight_max == pytest.approx(0.5)
    assert s.weight_mean == pytest.approx((0.5 + 0.1 + 0.25) / 3)
    # ‖A − Aᵀ‖_F / ‖A‖_F by hand: differences ±0.25 (a,b) and ±0.1 (a,c)
    expected = np.sqrt(2 * 0.25**2 + 2 * 0.1**2) / np.sqrt(1 + 0.25 + 0.01 + 0.0625 + 1 + 0.49)
    assert s.asymmetry == pytest.approx(expected)
    assert [(x, y, round(w, 6)) for x, y, w in s.strongest] == [("a", "b", 0.5), ("b", "a", 0.25)]
    assert s.degree_histogram == ((0, 0, 2), (1, 1, 2), (2, 2, 1))
    assert s.as_dict()["isolated"] == ("d", "e")


def test_summary_of_coco_binary_against_networkx() -> None:
    stats = load(labelgraph.bundled_path("coco"))
    g = build_graph(stats, "binary", tau=0.4)
    s = graph_summary(g)
    P = stats.conditional_probability()
    B = (P >= 0.4)
    np.fill_diagonal(B, False)
    G = nx.Graph()
    G.add_nodes_from(range(80))
    G.add_edges_from(zip(*np.nonzero(B)))
    assert s.num_edges == int(np.count_nonzero(B))  # per direction
    assert s.components == nx.number_connected_components(G)
    assert len(s.isolated) == nx.number_of_isolates(G)
    assert s.max_degree == max(d for _, d in G.degree())
    assert "person" in s.max_degree_labels


def test_symmetric_graph_lists_each_pair_once() -> None:
    g = Artifact.graph("binary", ["x", "y", "z"], [[0, 0.3, 0.2], [0.3, 0, 0], [0.2, 0, 0]])
    assert [(a, b) for a, b, _ in strongest_edges(g, 10)] == [("x", "y"), ("x", "z")]
    assert asymmetry(g.matrix) == 0.0


def test_degree_histogram_bins_cover_every_label() -> None:
    degree = np.random.default_rng(0).integers(0, 600, size=600)
    hist = degree_histogram(degree, bins=10)
    assert len(hist) <= 10 and sum(n for _, _, n in hist) == 600
    assert hist[0][0] == 0 and hist[-1][1] >= degree.max()


def test_embeddings_have_no_graph() -> None:
    with pytest.raises(ArtifactError, match="no graph"):
        graph_summary(Artifact.embeddings(["a"], [[1.0, 2.0]]))


# ----------------------------------------------------------------------------------------------
# compare
# ----------------------------------------------------------------------------------------------
def spearman_by_hand(x: np.ndarray, y: np.ndarray) -> float:
    def ranks(v: np.ndarray) -> np.ndarray:  # average ranks for ties
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=float)
        for value in np.unique(v):
            r[v == value] = r[v == value].mean()
        return r
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def test_compare_by_hand() -> None:
    a = Artifact.graph("binary", LABELS, MATRIX)
    B = MATRIX.copy()
    B[0, 2] = B[2, 0] = 0  # drop {a,c}
    B[3, 4] = B[4, 3] = 0.4  # add {d,e}
    b = Artifact.graph("binary", LABELS, B).reorder(["e", "d", "c", "b", "a"])
    c = compare_graphs(a, b)
    assert c.alignment == "reordered" and c.common_labels == 5
    # a: a→b, b→a, a→c;  b: a→b, b→a, d→e, e→d
    assert (c.edges_a, c.edges_b, c.edges_common) == (3, 4, 2)
    assert c.edge_jaccard == pytest.approx(2 / 5)
    assert c.frobenius == pytest.approx(np.linalg.norm(MATRIX - B), rel=1e-6)
    off = ~np.eye(5, dtype=bool) & ((MATRIX != 0) | (B != 0))
    assert c.spearman == pytest.approx(spearman_by_hand(MATRIX[off], B[off]), abs=1e-6)
    assert [(x, y) for x, y, _ in c.edges_only_in_a] == [("a", "c")]
    assert [(x, y, round(w, 6)) for x, y, w in c.edges_only_in_b] == [("d", "e", 0.4), ("e", "d", 0.4)]


def test_compare_identical_and_partial() -> None:
    a = Artifact.graph("binary", LABELS, MATRIX)
    same = compare_graphs(a, a)
    assert same.alignment == "identical" and same.edge_jaccard == 1.0 and same.frobenius == 0.0
    assert same.spearman == pytest.approx(1.0)
    part = compare_graphs(a, a.subgraph(["a", "b", "c"]))
    assert part.alignment == "partial" and part.only_in_a == ("d", "e") and part.common_labels == 3


def test_compare_needs_shared_labels() -> None:
    a = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])
    b = Artifact.graph("binary", ["x", "b"], [[0, 1], [1, 0]])
    with pytest.raises(LabelMismatchError, match="share 1 label"):
        compare_graphs(a, b)
