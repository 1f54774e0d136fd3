"""Plots of large graphs: BLAS distances give pdist's cluster order; sizes that cannot be drawn are refused."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist

from labelgraph import Artifact
from labelgraph.errors import ConfigError
from labelgraph.inspect.plot import HEATMAP_MAX_LABELS, cluster_order, plot_graph, top_labels
from labelgraph_cli.main import cli


def pdist_order(A: np.ndarray) -> np.ndarray:
    """The order the plot used before: pdist on the rows of the symmetric part."""
    S = (A + A.T) / 2
    return leaves_list(linkage(pdist(S, "euclidean"), method="average"))


@pytest.mark.parametrize("seed", range(5))
def test_cluster_order_equals_pdist_on_random_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c = int(rng.integers(3, 250))
    A = rng.random((c, c)) * (rng.random((c, c)) < rng.choice([0.05, 0.3, 1.0])) * rng.choice([1e-3, 1, 50])
    want = pdist_order(A)
    np.testing.assert_array_equal(cluster_order(A), want)
    np.testing.assert_array_equal(cluster_order(sp.csr_matrix(A)), want)


@pytest.mark.parametrize("seed", range(3))
def test_cluster_order_of_a_very_sparse_graph_equals_pdist(seed: int) -> None:
    """Below 5 % density the Gram matrix stays sparse: its stored entries are placed in the condensed array."""
    from labelgraph.inspect.plot import _condensed_euclidean

    rng = np.random.default_rng(10 + seed)
    c = int(rng.integers(200, 400))
    A = rng.random((c, c)) * (rng.random((c, c)) < 0.004)
    A[: c // 10] = 0  # labels with no edge: equal rows, distance 0 between them
    A[:, : c // 10] = 0
    S = sp.csr_matrix((A + A.T) / 2)
    assert S.nnz < 0.05 * c * c
    np.testing.assert_allclose(_condensed_euclidean(S), pdist(S.toarray(), "euclidean"), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(cluster_order(sp.csr_matrix(A)), pdist_order(A))


def test_cluster_order_of_identical_rows_groups_them() -> None:
    """Rows that are equal have distance 0 (round-off below 0 is clamped, no NaN from the square root)."""
    rng = np.random.default_rng(0)
    W = rng.random((2, 2)) * 1234.5678
    parity = np.arange(20) % 2
    A = W[parity][:, parity] + W[parity][:, parity].T  # rows 0, 2, 4, … alike, rows 1, 3, 5, … alike
    order = cluster_order(A).tolist()
    assert sorted(order) == list(range(20))
    assert {frozenset(order[:10]), frozenset(order[10:])} == {frozenset(range(0, 20, 2)), frozenset(range(1, 20, 2))}


def big_graph(c: int) -> Artifact:
    """A ring plus chords: sparse, every label linked."""
    i = np.arange(c)
    rows = np.r_[i, i, i[::7]]
    cols = np.r_[(i + 1) % c, (i - 1) % c, (i[::7] + c // 2) % c]
    return Artifact.graph("binary", [f"l{k}" for k in range(c)],
                          sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(c, c)))


def test_heatmap_above_the_limit_is_refused_with_one_line(tmp_path) -> None:
    g = big_graph(HEATMAP_MAX_LABELS + 1)
    with pytest.raises(ConfigError, match=r"a heatmap of 5,001 labels is more than can be drawn \(at most 5,000\): "
                                          r"plot the strongest part with --top N"):
        plot_graph(g, tmp_path / "g.png")
    g.save(tmp_path / "g.npz")
    result = CliRunner().invoke(cli, ["plot", str(tmp_path / "g.npz"), "--out", str(tmp_path / "g.png")])
    assert result.exit_code != 0
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "--top N" in lines[0] and "export" in lines[0]
    assert not (tmp_path / "g.png").exists()


def test_top_n_draws_the_labels_of_highest_degree(tmp_path) -> None:
    g = big_graph(HEATMAP_MAX_LABELS + 1)  # chords give every 7th label degree 3 or 4, the rest degree 2
    degree = np.asarray(((g.matrix + g.matrix.T) != 0).sum(axis=1)).ravel()
    sub = top_labels(g, 40)
    want = sorted(sorted(range(g.num_labels), key=lambda k: (-degree[k], k))[:40])
    assert sub.labels == tuple(f"l{k}" for k in want)
    g.save(tmp_path / "g.npz")
    result = CliRunner().invoke(cli, ["plot", str(tmp_path / "g.npz"), "--out", str(tmp_path / "g.png"),
                                      "--top", "40", "--size", "2", "--dpi", "40"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_network_drawing_of_many_labels_is_refused(tmp_path) -> None:
    with pytest.raises(ConfigError, match="a network drawing of 1,001 labels is more than can be drawn"):
        plot_graph(big_graph(1001), tmp_path / "g.png", network=True)


def test_heatmap_with_more_labels_than_pixels_looks_like_matplotlibs_own_resampling() -> None:
    """Rows picked per pixel before imshow: the same picture as handing matplotlib the whole matrix."""
    from labelgraph.inspect.plot import draw_heatmap, new_figure

    c = 900
    i = np.arange(c)
    block = i * 6 // c  # six clusters of strong weights over a smooth background (no per-cell noise, which
    wave = np.sin(i / 40.0)  # would make any two nearest-row choices differ)
    A = 0.2 + 0.1 * np.outer(wave, wave) + 0.6 * (block[:, None] == block[None, :])
    g = Artifact.graph("probability", [f"l{i}" for i in range(c)], A)
    order = cluster_order(A)

    def render(picked: bool) -> np.ndarray:
        fig = new_figure((2, 2), dpi=50)
        ax = fig.add_axes((0, 0, 1, 1))
        if picked:
            image = draw_heatmap(ax, g, order)
            assert image.get_array().shape[0] < c  # fewer rows than labels were handed to matplotlib
        else:
            shown = g.to_dense().astype(np.float64)[np.ix_(order, order)]
            np.fill_diagonal(shown, np.nan)
            ax.imshow(shown, cmap="viridis", interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)

    ours, theirs = render(True), render(False)
    assert ours.shape == theirs.shape
    differ = np.abs(ours - theirs).sum(axis=2) > 60
    assert differ.mean() < 0.05  # block edges may move by a pixel
