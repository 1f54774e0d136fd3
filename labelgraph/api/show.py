"""``labelgraph show`` and ``labelgraph datasets`` as Python calls: summaries ready for JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["summarize", "dataset_rows"]


def summarize(artifact: Any) -> dict[str, Any]:
    """A JSON-ready summary of an artifact (or the path of one): kind, size, measures, then ``meta``.

    Statistics: samples, label instances, the most and least frequent labels;
    embeddings: dimension and all-zero rows; graphs: the structure measures.

    Examples
    --------
    >>> import labelgraph
    >>> info = summarize(labelgraph.bundled_path("voc"))
    >>> info["kind"], info["num_samples"], info["most_frequent"][0]
    ('statistics', 5011, ['person', 2008])
    """
    import numpy as np

    from ..artifact import load

    art = load(artifact) if isinstance(artifact, (str, Path)) else artifact
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
        from ..graphs.measures import structure_measures

        info.update(structure_measures(art.matrix))
    info["meta"] = meta
    return info


def dataset_rows() -> list[dict[str, Any]]:
    """One row per registered dataset reader, as ``labelgraph datasets --json`` prints them.

    Examples
    --------
    >>> rows = dataset_rows()
    >>> rows[1]["name"], rows[1]["splits"], rows[1]["eval_split"], rows[1]["aliases"]
    ('voc', ['train', 'val', 'trainval', 'test'], 'test', ['voc2007', 'voc2012'])
    """
    from ..datasets import DATASETS

    return [{"name": r.name, "format": r.format, "licence": r.licence, "default_split": r.default_split,
             "eval_split": r.eval_split, "splits": list(r.splits), "aliases": list(r.aliases),
             "options": [o for o in r.options if o != "split"],
             "download": ", ".join(r.downloads) or "-", "bundled": r.bundled or "-", "summary": r.summary}
            for r in DATASETS.values()]
