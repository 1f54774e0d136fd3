"""Figures and the notebook view: real PNG/SVG files, clustering order, HTML with every label."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import labelgraph
from labelgraph import Artifact, build_graph, load
from labelgraph.errors import ConfigError
from labelgraph.inspect.html import TABLE_MAX_LABELS, artifact_html
from labelgraph.inspect.plot import cluster_order, plot_graph, plot_heatmaps


def block_graph(c: int) -> Artifact:
    labels = [f"label {i}" for i in range(c)]
    A = np.zeros((c, c))
    for i in range(c):
        for j in range(c):
            if i != j and i % 2 == j % 2:
                A[i, j] = 1.0
    return Artifact.graph("binary", labels, A)


def test_png_has_the_requested_pixel_size(tmp_path) -> None:
    g = build_graph(load(labelgraph.bundled_path("voc")), "reweighted")
    path = plot_graph(g, tmp_path / "g.png", size=3, dpi=80)
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == (2 * 3 * 80, 3 * 80)  # heatmap + network panel
        pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5  # something was drawn


def test_large_graph_gets_only_the_heatmap(tmp_path) -> None:
    path = plot_graph(block_graph(120), tmp_path / "big.png", size=2, dpi=50)
    with Image.open(path) as image:
        assert image.size == (100, 100)


def test_svg_and_bad_suffix(tmp_path) -> None:
    path = plot_graph(block_graph(6), tmp_path / "g.svg", size=2, dpi=50)
    assert "<svg" in path.read_text()[:2000]
    with pytest.raises(ConfigError, match="unknown figure format '.jpeg'"):
        plot_graph(block_graph(6), tmp_path / "g.jpeg")
    assert not (tmp_path / "g.jpeg").exists()


def test_cluster_order_puts_blocks_together() -> None:
    order = cluster_order(block_graph(10).to_dense()).tolist()
    parity = [i % 2 for i in order]
    assert parity == sorted(parity) or parity == sorted(parity, reverse=True)
    assert sorted(order) == list(range(10))


def test_plot_heatmaps_aligns_labels() -> None:
    a = block_graph(6)
    b = a.reorder(list(reversed(a.labels)))
    fig = plot_heatmaps({"a": a, "b": b}, size=2, dpi=40)
    assert len(fig.axes) == 2
    first, second = (ax.images[0].get_array() for ax in fig.axes)
    np.testing.assert_array_equal(np.ma.filled(first, -1), np.ma.filled(second, -1))


def test_repr_html_contains_every_label_of_a_small_graph() -> None:
    labels = ["cat", "dog", "hot dog", "a&b", "tennis racket"]
    A = np.zeros((5, 5))
    A[0, 1] = A[1, 0] = 0.5
    g = Artifact.graph("ks", labels, A)
    text = g._repr_html_()
    for name in ["cat", "dog", "hot dog", "a&amp;b", "tennis racket"]:
        assert name in text
    assert "<table" in text and "edges" in text
    assert 'title="cat → dog: 0.5"' in text


def test_repr_html_of_a_larger_graph_has_an_inline_png_and_all_labels() -> None:
    g = block_graph(TABLE_MAX_LABELS + 10)
    text = artifact_html(g)
    assert "data:image/png;base64," in text
    assert all(name in text for name in g.labels)


def test_repr_html_of_statistics_and_embeddings() -> None:
    stats = load(labelgraph.bundled_path("voc"))
    text = stats._repr_html_()
    assert "P = M / n" in text and all(name in text for name in stats.labels)
    emb = Artifact.embeddings(["a", "b"], np.ones((2, 3)))
    assert "dimensions" in emb._repr_html_()


def test_missing_matplotlib_is_a_clear_error_and_imports_stay_light() -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["matplotlib"] = None  # what an environment without matplotlib looks like to import
        import labelgraph, labelgraph.inspect, labelgraph.graphs.ks
        assert "networkx" not in sys.modules, "networkx imported at import time"
        from labelgraph import Artifact
        from labelgraph.errors import MissingDependencyError
        from labelgraph.inspect.plot import plot_graph
        g = Artifact.graph("binary", ["a", "b"], [[0, 1], [1, 0]])
        try:
            plot_graph(g)
        except MissingDependencyError as exc:
            print(exc)
        html = g._repr_html_()
        assert "a" in html and "<table" in html
        big = Artifact.graph("binary", [str(i) for i in range(40)], [[0] * 40] * 40)
        assert "install matplotlib" in big._repr_html_()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "matplotlib is not installed: pip install 'labelgraph[plot]'"
