"""``labelgraph sweep`` as a Python call: a parameter grid's graph measures, written as CSV and JSON."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["load_statistics", "sweep_outputs"]


def load_statistics(dataset: str | None = None, stats_file: str | Path | None = None) -> tuple[Any, str]:
    """The statistics artifact (a file, or the dataset's bundled one) and the file-name stem for outputs.

    Examples
    --------
    >>> stats, stem = load_statistics("voc")
    >>> stats.num_labels, stem
    (20, 'voc2007')
    """
    from ..statistics_sources import output_stem, resolve_statistics

    if stats_file is not None and dataset is not None:
        raise ConfigError("give either --dataset or --stats, not both")
    src = resolve_statistics(dataset, stats=stats_file)
    if stats_file is not None:
        path = Path(stats_file)
        stem = path.name[:-4] if path.name.endswith(".npz") else path.stem
        return src.stats, stem.removesuffix("_statistics")
    return src.stats, output_stem(src.stats, dataset)


def sweep_outputs(kind: str = "ks", *, dataset: str | None = None, stats: str | Path | None = None,
                  knowledge: str | Path | None = None, embeddings: str | Path | None = None,
                  csv_out: str | Path | None = None, json_out: str | Path | None = None,
                  save_dir: str | Path | None = None, force: bool = False, **grid: Any) -> Any:
    """Run :func:`labelgraph.inspect.sweep.sweep` from files and write its rows (CSV and JSON: both or neither).

    ``grid`` holds the axes and switches of ``sweep`` (``lam``, ``tau``, ``p``,
    ``stat_graph``, ``align``, ``yes``, ``progress``, ``sparse`` …). Returns the
    :class:`~labelgraph.inspect.sweep.SweepResult`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     r = sweep_outputs("binary", dataset="voc", tau="0.3,0.5", csv_out=pathlib.Path(d) / "s.csv")
    ...     lines = (pathlib.Path(d) / "s.csv").read_text().splitlines()
    >>> [row["tau"] for row in r.rows], len(lines)
    ([0.3, 0.5], 3)
    """
    from ..artifact import load
    from ..files import StagedWrites
    from ..inspect.sweep import sweep

    if kind == "ks" and knowledge is None:
        raise ConfigError("--kind ks needs a knowledge graph: build one with `labelgraph build --kind knowledge "
                          "--dataset ...` and pass it with --knowledge FILE")
    statistics, stem = load_statistics(dataset, stats)
    know = load(knowledge) if knowledge is not None else None
    emb = load(embeddings) if embeddings is not None else None
    for path in (csv_out, json_out):
        if path is not None and Path(path).is_dir():
            raise ConfigError(f"{path}: is a folder, not a file")
    result = sweep(statistics, kind, knowledge=know, embeddings=emb, save_dir=save_dir, stem=stem, force=force,
                   **grid)
    with StagedWrites(force=force) as run:  # both files, or neither
        if csv_out is not None:
            run.add(csv_out, result.to_csv_text().encode())
        if json_out is not None:
            run.add(json_out, (json.dumps(result.to_document(), indent=2, default=str) + "\n").encode())
    return result
