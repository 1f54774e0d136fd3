"""Statistics as a plan over shards (SPEC §6): a picklable per-shard function, partials that add up, a finish.

:func:`plan_statistics` turns a dataset (a file, a folder, or a glob of shards) into a
:class:`ShardPlan`.  Any engine maps ``plan.task`` over ``plan.shards`` (in this process,
a process pool, a Dask cluster), adds the :class:`~labelgraph.partial.PartialStatistics`
up with ``+`` in any grouping, and calls ``plan.finish`` once on the sum; the statistics
artifact is then ``partial_statistics(total, plan.source)``.  The integers equal, bit for
bit, those of ``label_statistics(read_dataset(name, path, **options))``.

Streaming readers (``csv``, ``jsonl``, ``parquet``, ``hf``, ``openimages``) make one shard per
file (or per group of Parquet row groups) and read it chunk by chunk, so a shard needs one
chunk plus ``nnz(M)`` of memory.  Readers of bounded-size files (COCO JSON, VOC, …) read at
plan time with their usual reader, and their one shard is the label matrix, counted in row
chunks of ``chunk_size``.
"""
from __future__ import annotations

import functools
import glob
import importlib
import inspect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..errors import DataError

if TYPE_CHECKING:  # numpy and scipy load when a plan runs, not with the registry
    import scipy.sparse as sp

    from ..partial import PartialStatistics

__all__ = ["DEFAULT_CHUNK_SIZE", "ShardPlan", "plan_statistics", "expand_shards", "whole_file_plan", "chunk_rows",
           "dataset_tag"]

#: Rows counted at once when a plan is given no ``chunk_size`` (measured: docs/datasets.md, "Streaming").
DEFAULT_CHUNK_SIZE = 1 << 20


def _identity(partial: PartialStatistics) -> PartialStatistics:
    return partial


@dataclass(frozen=True)
class ShardPlan:
    """How to count a dataset shard by shard.

    Attributes
    ----------
    shards : tuple, small picklable descriptions of the work (a path; ``(path, row groups)``; a label matrix)
    task : callable, shard → :class:`~labelgraph.partial.PartialStatistics`; picklable (module-level)
    finish : callable, the summed partial → the final one (label order, checks); runs in the caller
    source : dict, the artifact's provenance (dataset, split, reader, options); file records come from the partials
    run_task : callable or None, a tuple of neighbouring shards → their summed partial, counted in one pass (one
        label index, chunks that run across shard boundaries); :meth:`work` hands it to an engine

    Examples
    --------
    >>> p = tmp / "tags.csv"
    >>> _ = p.write_text("img1,cat;dog\\nimg2,dog\\n")
    >>> plan = plan_statistics("csv", p, chunk_size=1)
    >>> total = plan.run()
    >>> total.labels, total.n.tolist(), total.num_samples
    (('cat', 'dog'), [1, 2], 2)
    """

    shards: tuple[Any, ...]
    task: Callable[[Any], PartialStatistics]
    finish: Callable[[PartialStatistics], PartialStatistics] = _identity
    source: dict[str, Any] = field(default_factory=dict)
    run_task: Callable[[tuple[Any, ...]], PartialStatistics] | None = None

    def work(self, pieces: int = 1) -> tuple[Callable[[Any], PartialStatistics], tuple[Any, ...]]:
        """What an engine maps for ``pieces`` workers: ``(task, shards)``, or with a ``run_task`` that task over
        at most ``pieces`` runs of neighbouring shards (one run in a single process), in shard order.

        Examples
        --------
        >>> plan = ShardPlan(("a", "b", "c"), len, run_task=len)
        >>> plan.work(2)
        (<built-in function len>, (('a', 'b'), ('c',)))
        >>> ShardPlan(("a", "b"), len).work(2)[1]
        ('a', 'b')
        """
        if self.run_task is None or not self.shards:
            return self.task, self.shards
        parts = max(1, min(int(pieces), len(self.shards)))
        size, extra = divmod(len(self.shards), parts)
        runs, start = [], 0
        for k in range(parts):
            stop = start + size + (k < extra)
            runs.append(tuple(self.shards[start:stop]))
            start = stop
        return self.run_task, tuple(runs)

    def run(self, mapper: Callable[..., Iterable[PartialStatistics]] = map) -> PartialStatistics:
        """Map the task over the shards with ``mapper`` (``map``, ``Pool.imap``), add the partials up, finish.

        Examples
        --------
        >>> _ = (tmp / "run.jsonl").write_text('{"id": 1, "labels": ["a"]}\\n')
        >>> plan_statistics("jsonl", tmp / "run.jsonl").run(map).num_samples
        1
        """
        from ..partial import sum_partials

        return self.finish(sum_partials(mapper(self.task, self.shards)))


def plan_statistics(name: str, path: str | os.PathLike[str], *, chunk_size: int | None = None, pieces: int = 1,
                    **options: Any) -> ShardPlan:
    """The :class:`ShardPlan` of dataset ``name`` at ``path`` (a file, folder, or glob for the streaming readers).

    ``options`` are the reader's (as for :func:`~labelgraph.datasets.read_dataset`);
    ``chunk_size`` is the number of rows counted at once (default :data:`DEFAULT_CHUNK_SIZE`);
    ``pieces``, the workers that will share the plan: a reader that can cut a large file into
    byte ranges (``csv``) makes that many shards of it.

    Examples
    --------
    >>> from labelgraph.assemble.statistics import partial_statistics
    >>> p = tmp / "mine.jsonl"
    >>> _ = p.write_text('{"id": "a", "labels": ["dog"]}\\n{"id": "b", "labels": ["cat", "dog"]}\\n')
    >>> plan = plan_statistics("jsonl", p, chunk_size=1)
    >>> s = partial_statistics(plan.run(), plan.source)
    >>> s.labels, s.n.tolist(), s.num_samples
    (('cat', 'dog'), [1, 2], 2)
    """
    from .registry import check_options, get_reader

    reader = get_reader(name)
    check_options(reader, options)
    if chunk_size is not None and (isinstance(chunk_size, bool) or int(chunk_size) < 1):
        raise DataError(f"chunk size must be a positive number of rows, got {chunk_size!r}")
    size = int(chunk_size) if chunk_size is not None else DEFAULT_CHUNK_SIZE
    if reader.plan is None:
        return whole_file_plan(reader.load_reader()(Path(path), **options), size)
    module, func = reader.plan.split(":")
    planner = getattr(importlib.import_module(f"labelgraph.datasets.{module}"), func)
    if pieces > 1 and "pieces" in inspect.signature(planner).parameters:
        options = {**options, "pieces": int(pieces)}
    return planner(path, chunk_size=size, **options)


def whole_file_plan(result: Any, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ShardPlan:
    """The plan of a reader's whole result: a LabelSet's matrix counted in row chunks, or a statistics artifact.

    Examples
    --------
    >>> from labelgraph.labelset import LabelSet
    >>> ls = LabelSet.from_lists(["a", "b", "c"], ["x", "y"], [["x"], ["x", "y"], []], {"dataset": "d"})
    >>> plan = whole_file_plan(ls, chunk_size=2)
    >>> t = plan.run()
    >>> t.n.tolist(), t.M.toarray().tolist(), t.num_samples, t.empty, plan.source["dataset"]
    ([2, 1], [[0, 1], [1, 0]], 3, 1, 'd')
    """
    import numpy as np

    from ..artifact import Artifact
    from ..partial import PartialStatistics

    if isinstance(result, Artifact):
        part = PartialStatistics(tuple(result.labels), np.asarray(result.n, dtype=np.int64),
                                 _int_csr(result.matrix), int(result.num_samples),
                                 int(result.meta.get("samples_without_labels", 0)))
        return ShardPlan((part,), _identity, _identity, dict(result.meta))
    task = functools.partial(_count_matrix, labels=tuple(result.labels), chunk_size=int(chunk_size))
    return ShardPlan((result.Y,), task, _identity, dict(result.source))


def _int_csr(M: Any) -> sp.csr_matrix:
    import numpy as np
    import scipy.sparse as sp

    out = sp.csr_matrix(M, dtype=np.int64)
    out.sort_indices()
    return out


def _count_matrix(Y: sp.csr_matrix, *, labels: tuple[str, ...], chunk_size: int) -> PartialStatistics:
    from ..partial import PartialStatistics, sum_partials

    return sum_partials((PartialStatistics.of(Y[i:i + chunk_size], labels)
                         for i in range(0, Y.shape[0], chunk_size)), labels=labels)


def chunk_rows(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter).

    Examples
    --------
    >>> list(chunk_rows(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_GLOB = re.compile(r"[*?\[]")


def expand_shards(path: str | os.PathLike[str], what: str = "file") -> list[Path]:
    """The files ``path`` names: itself, or the sorted matches of a glob (``'shards/*.parquet'``).

    A glob that matches nothing is a :class:`DataError` naming the pattern.

    Examples
    --------
    >>> for k in (2, 1):
    ...     _ = (tmp / f"part-{k}.csv").write_text("a,x\\n")
    >>> [p.name for p in expand_shards(str(tmp / "part-*.csv"))]
    ['part-1.csv', 'part-2.csv']
    >>> expand_shards(str(tmp / "nothing-*.csv"), "CSV file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...nothing-*.csv: the pattern matches no CSV file
    """
    text = os.fspath(path)
    if _GLOB.search(text) and not os.path.exists(text):
        matches = sorted(Path(m) for m in glob.glob(text) if os.path.isfile(m))
        if not matches:
            raise DataError(f"{text}: the pattern matches no {what}")
        return matches
    return [Path(text)]


def dataset_tag(path: str | os.PathLike[str]) -> str:
    """A dataset name from a file or glob: the stem, glob characters and their separators dropped.

    Examples
    --------
    >>> dataset_tag("data/tags.csv"), dataset_tag("shards/tags-*.parquet"), dataset_tag("shards/*.parquet")
    ('tags', 'tags', 'shards')
    """
    p = Path(os.fspath(path))
    stem = p.name.split(".")[0] if _GLOB.search(p.name) else p.stem
    tag = re.sub(r"[*?\[\]]", "", stem).strip("-_. ")
    return tag or p.parent.name or "dataset"
