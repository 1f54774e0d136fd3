"""Where a dataset's statistics come from: a given artifact, raw annotations, a download, or the bundled file.

The CLI's ``build`` and ``stats`` call :func:`resolve_statistics`; so can a notebook.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .artifact import Artifact, load
from .bundled import BUNDLED, bundled_path
from .engines import DEFAULT_TIMEOUT
from .errors import ConfigError

__all__ = ["StatisticsSource", "resolve_statistics", "count_statistics", "output_stem"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatisticsSource:
    """Statistics and a one-line description of where they came from."""

    stats: Artifact
    description: str
    origin: str  # "file", "annotations", "download" or "bundled"


def resolve_statistics(dataset: str | None, *, stats: str | Path | None = None, root: str | Path | None = None,
                       annotations: str | Path | None = None, split: str | None = None,
                       download: bool = False, progress: bool = False,
                       reader_options: dict[str, Any] | None = None, engine: str | None = None,
                       workers: int | None = None, scheduler: str | None = None, chunk_size: int | None = None,
                       timeout: float = DEFAULT_TIMEOUT) -> StatisticsSource:
    """Find the statistics for ``dataset`` in this order: ``stats`` file, raw annotations
    (``annotations`` file, glob of shards or ``root`` folder), a ``download``, then the bundled artifact.

    Annotations are counted shard by shard (:func:`count_statistics`) on ``engine``
    (``serial``, ``processes``, ``dask``; see :func:`labelgraph.engines.map_reduce` for
    ``workers``, ``scheduler`` and ``timeout``), ``chunk_size`` rows at a time.

    Examples
    --------
    >>> src = resolve_statistics("voc")
    >>> src.origin, src.stats.num_samples
    ('bundled', 5011)
    """
    options = {k: v for k, v in (reader_options or {}).items() if v is not None}
    if stats is not None:
        art = load(stats)
        if art.kind != "statistics":
            raise ConfigError(f"{stats}: --stats needs a statistics artifact, got {art.kind}")
        return StatisticsSource(art, f"statistics file {stats}", "file")
    if dataset is None:
        raise ConfigError("no statistics: pass --dataset NAME (see `labelgraph datasets`) or --stats FILE")
    from .datasets import check_options, get_reader

    reader = get_reader(dataset)
    split = split or reader.default_split
    if split is not None:
        options["split"] = split
    check_options(reader, options)
    if annotations is not None or root is not None:
        path = Path(annotations if annotations is not None else root)
        art = count_statistics(reader.name, path, options, engine=engine, workers=workers, scheduler=scheduler,
                               chunk_size=chunk_size, timeout=timeout)
        return StatisticsSource(art, f"annotations {path} (split {split})", "annotations")
    if download:
        if not reader.downloads:
            raise ConfigError(f"dataset {dataset!r} has no download source; pass --root or --annotations")
        from .download import dataset_files

        path = dataset_files(dataset, year=options.get("year"), split=split, progress=progress)
        art = count_statistics(reader.name, path, options, engine=engine, workers=workers, scheduler=scheduler,
                               chunk_size=chunk_size, timeout=timeout)
        return StatisticsSource(art, f"downloaded annotations {path} (split {split})", "download")
    if reader.bundled is None:
        raise ConfigError(f"dataset {dataset!r} has no bundled statistics: pass --root DIR or "
                          f"--annotations FILE" + (" (or --download)" if reader.downloads else ""))
    art = load(bundled_path(reader.bundled))
    bundled_split = art.meta.get("split")
    year = options.get("year")
    if (split is not None and bundled_split is not None and split != bundled_split) or (
            year is not None and str(year) not in reader.bundled):
        raise ConfigError(f"the bundled {reader.bundled} statistics are for split {bundled_split!r}; "
                          f"for split {split!r} pass --root DIR or --annotations FILE (or --download)")
    return StatisticsSource(art, f"bundled {reader.bundled} statistics ({BUNDLED[reader.bundled][1]})", "bundled")


def count_statistics(dataset: str, path: str | Path, options: dict[str, Any] | None = None, *,
                     engine: str | None = None, workers: int | None = None, scheduler: str | None = None,
                     chunk_size: int | None = None, timeout: float = DEFAULT_TIMEOUT) -> Artifact:
    """The statistics artifact of ``dataset``'s annotations at ``path``, counted shard by shard on ``engine``.

    The reader's :class:`~labelgraph.datasets.plan.ShardPlan` is mapped over its shards
    by :func:`labelgraph.engines.map_reduce`; every engine gives the same integers.

    Examples
    --------
    >>> _ = (tmp / "tags.csv").write_text("sample,labels\\nimg1,cat;dog\\nimg2,dog\\n")
    >>> s = count_statistics("csv", tmp / "tags.csv", chunk_size=1)
    >>> s.labels, s.n.tolist(), s.num_samples
    (('cat', 'dog'), [1, 2], 2)
    """
    from .assemble.statistics import partial_statistics
    from .datasets.csv_arrow import RangeNotRows
    from .datasets.plan import plan_statistics
    from .engines import choose_engine, map_reduce
    from .engines.pool import default_workers

    chosen = choose_engine(engine, workers, scheduler)
    pieces = 1 if chosen == "serial" else (workers or (default_workers() if chosen == "processes" else 2))
    plan = plan_statistics(dataset, path, chunk_size=chunk_size, pieces=pieces, **(options or {}))
    try:
        total = map_reduce(*plan.work(pieces), engine=engine, workers=workers, scheduler=scheduler, timeout=timeout)
    except RangeNotRows:  # a CSV cut into byte ranges may have a quoted cell across a cut: whole files
        plan = plan_statistics(dataset, path, chunk_size=chunk_size, **(options or {}))
        total = map_reduce(*plan.work(pieces), engine=engine, workers=workers, scheduler=scheduler, timeout=timeout)
    return partial_statistics(plan.finish(total), plan.source)


def output_stem(stats: Artifact, dataset: str | None = None) -> str:
    """The file-name stem for outputs: the statistics' dataset tag, plus the split when it is not the default.

    A MULAN set is named after the set and split of its file (``scene``, ``yeast_test``), not ``mulan``.

    Examples
    --------
    >>> import labelgraph
    >>> output_stem(labelgraph.load(labelgraph.bundled_path("coco")))
    'coco2014'
    >>> output_stem(Artifact.statistics(["a"], [1], [[0]], 1, {"dataset": "mulan",
    ...     "path": "/data/mulan/scene-train.arff.gz", "split": "train"}))
    'scene'
    """
    tag = str(stats.meta.get("dataset") or dataset or "dataset")
    split = stats.meta.get("split")
    if tag == "mulan" and stats.meta.get("path"):  # the set and split are in the file name: scene-test.arff
        name = Path(str(stats.meta["path"])).name.split(".")[0]
        match = re.fullmatch(r"(.+)-(train|test|val|trainval)", name)
        tag, split = (match.group(1), match.group(2)) if match else (name or tag, split)
    if split and split not in ("train", "trainval"):
        tag = f"{tag}_{split}"
    return tag.replace("/", "_").replace("\\", "_").replace(" ", "_")
