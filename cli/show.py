"""``labelgraph show`` (summary of any artifact) and ``labelgraph datasets`` (the reader registry)."""
from __future__ import annotations

from typing import Any

import click

from ._common import echo_json, format_table


def artifact_summary(art: Any) -> dict[str, Any]:
    """A JSON-ready summary of an artifact (kind, size, parameters, provenance, measures)."""
    import numpy as np

    info: dict[str, Any] = {"kind": art.kind, "num_labels": art.num_labels, "content_hash": art.content_hash}
    meta = {k: v for k, v in art.meta.items() if k != "content_hash"}
    if art.kind == "embeddings":
        info["dimension"] = int(art.vectors.shape[1])
        info["zero_rows"] = int(np.count_nonzero(~art.vectors.any(axis=1)))
    elif art.kind == "statistics":
        info["num_samples"] = art.num_samples
        info["label_instances"] = int(art.n.sum())
        info["labels_per_sample"] = round(float(art.n.sum()) / max(art.num_samples, 1), 4)
        order = np.argsort(-art.n, kind="stable")
        info["most_frequent"] = [[art.labels[i], int(art.n[i])] for i in order[:5]]
        info["least_frequent"] = [[art.labels[i], int(art.n[i])] for i in order[::-1][:5]]
    else:
        from labelgraph.graphs.measures import structure_measures

        info.update({("num_edges" if k == "edges" else k): v for k, v in structure_measures(art.matrix).items()})
    info["meta"] = meta
    return info


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show(file: str, as_json: bool) -> None:
    """Summarize any labelgraph artifact: kind, size, parameters, provenance.

    \b
    Example:
      labelgraph show graphs/coco2014_reweighted_t0.4_p0.2.npz
    """
    from labelgraph import load

    info = artifact_summary(load(file))
    if as_json:
        echo_json(info)
        return
    click.echo(f"{file}")
    for key, value in info.items():
        if key == "meta":
            continue
        if isinstance(value, list):
            value = ", ".join(f"{a} ({b})" for a, b in value)
        click.echo(f"  {key:<22} {value}")
    for key, value in info["meta"].items():
        if isinstance(value, (dict, list)):
            value = _short(value)
        click.echo(f"  meta.{key:<17} {value}")


def _short(value: Any, width: int = 90) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
def datasets(as_json: bool) -> None:
    """List the dataset readers: format, licence, download source and bundled statistics.

    \b
    Example:
      labelgraph datasets
    """
    from labelgraph.datasets import DATASETS

    rows = [{"name": r.name, "format": r.format, "licence": r.licence, "default_split": r.default_split,
             "download": ", ".join(r.downloads) or "-", "bundled": r.bundled or "-", "summary": r.summary}
            for r in DATASETS.values()]
    if as_json:
        echo_json(rows)
        return
    headers = ["name", "format", "download", "bundled", "licence"]
    click.echo(format_table(headers, [[r[h] for h in headers] for r in rows]))
