"""The notebook view of an artifact (``Artifact._repr_html_``): a summary table and a small heatmap.

Importing this module registers :func:`artifact_html` as every artifact's view
(:func:`labelgraph.artifact.register_html_view`); ``labelgraph``'s top-level
names arrange the import on first use, so the artifact module never imports upward.

Graphs of at most :data:`TABLE_MAX_LABELS` labels get an HTML-table heatmap
(label names on both axes, each cell's weight in its tooltip; no matplotlib
needed).  Larger graphs get a small inline PNG when matplotlib is installed.
Every label is listed, in a collapsible block for large graphs.
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np

from .._dense import dense_limit
from ..artifact import Artifact, register_html_view
from .plot import HEATMAP_MAX_LABELS

__all__ = ["TABLE_MAX_LABELS", "artifact_html", "html_heatmap"]

#: Up to this many labels the heatmap is an HTML table with names on both axes.
TABLE_MAX_LABELS = 30


def _color(value: float, vmax: float) -> str:
    # white → dark blue
    t = 0.0 if vmax <= 0 else max(0.0, min(1.0, value / vmax))
    r, g, b = (int(round(255 - t * (255 - c))) for c in (8, 48, 107))
    return f"#{r:02x}{g:02x}{b:02x}"


def html_heatmap(artifact: Artifact) -> str:
    """An HTML ``<table>`` heatmap of the matrix (off-diagonal colour scale), label names on both axes.

    Examples
    --------
    >>> g = Artifact.graph("binary", ["cat", "dog"], [[0, 1], [1, 0]])
    >>> "cat" in html_heatmap(g) and 'title="cat → dog: 1"' in html_heatmap(g)
    True
    """
    from .summary import graph_matrix

    A = graph_matrix(artifact).toarray()
    off = A[~np.eye(A.shape[0], dtype=bool)]
    vmax = float(off.max()) if off.size else 0.0
    names = [html.escape(x) for x in artifact.labels]
    cell = "width:14px;height:14px;padding:0;border:1px solid #eee"
    head = "".join(f'<th style="writing-mode:vertical-rl;font-size:9px;font-weight:normal">{n}</th>' for n in names)
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j, other in enumerate(names):
            w = float(A[i, j])
            color = "#dddddd" if i == j else _color(w, vmax)
            cells.append(f'<td style="{cell};background:{color}" title="{name} → {other}: {w:.4g}"></td>')
        rows.append(f'<tr><th style="font-size:9px;font-weight:normal;text-align:right">{name}</th>{"".join(cells)}</tr>')
    return (f'<table style="border-collapse:collapse"><tr><th></th>{head}</tr>{"".join(rows)}</table>'
            '<div style="font-size:9px;color:#666">diagonal in grey; darker = stronger edge</div>')


def _png_heatmap(artifact: Artifact) -> str | None:
    try:
        from .plot import draw_heatmap, new_figure
        fig = new_figure((2.6, 2.6), dpi=72)
    except ImportError:
        return None
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.88))
    draw_heatmap(ax, artifact, tick_labels=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="heatmap of {html.escape(artifact.kind)}" src="data:image/png;base64,{data}"/>'


def _summary_rows(artifact: Artifact) -> list[tuple[str, str]]:
    if artifact.kind == "embeddings":
        v = artifact.vectors
        return [("kind", "embeddings"), ("labels", str(artifact.num_labels)), ("dimensions", str(v.shape[1])),
                ("mean norm", f"{float(np.linalg.norm(v, axis=1).mean()):.4g}")]
    from .summary import graph_summary

    rows = graph_summary(artifact, top=0).rows()
    if artifact.kind == "statistics":
        rows.insert(1, ("samples (N)", f"{artifact.num_samples:,}"))
        rows.insert(2, ("shown", "P = M / n"))
    return rows


def artifact_html(artifact: Artifact) -> str:
    """HTML for a notebook: the summary table, a heatmap, and every label name.

    Examples
    --------
    >>> g = Artifact.graph("binary", ["cat", "dog", "hot dog"], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> text = artifact_html(g)
    >>> all(name in text for name in g.labels), "<table" in text
    (True, True)
    """
    rows = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(k)}</th><td style="text-align:left">{html.escape(v)}</td></tr>'
        for k, v in _summary_rows(artifact))
    table = f'<table>{rows}</table>'
    picture = ""
    if artifact.kind != "embeddings":
        if artifact.num_labels <= TABLE_MAX_LABELS:
            picture = html_heatmap(artifact)
        elif artifact.num_labels > min(dense_limit(), HEATMAP_MAX_LABELS):
            most = min(dense_limit(), HEATMAP_MAX_LABELS)
            picture = (f'<div style="color:#666">(no heatmap above {most:,} labels: '
                       f'plot_graph(artifact, top=N) draws the N labels of highest degree)</div>')
        else:
            picture = _png_heatmap(artifact) or '<div style="color:#666">(install matplotlib for a heatmap)</div>'
    names = ", ".join(html.escape(x) for x in artifact.labels)
    labels = (f"<details><summary>{artifact.num_labels} labels</summary><div style='font-size:11px'>{names}</div></details>"
              if artifact.num_labels > TABLE_MAX_LABELS else f"<div style='font-size:11px'>labels: {names}</div>")
    return (f'<div class="labelgraph-artifact"><b>labelgraph {html.escape(artifact.kind)} artifact</b>'
            f'<div style="display:flex;gap:2em;align-items:flex-start"><div>{table}</div><div>{picture}</div></div>'
            f'{labels}</div>')


register_html_view(artifact_html)
