"""Engines: one per-shard function mapped over shards, the partial statistics added up (SPEC §6).

:func:`map_reduce` runs ``task(shard)`` for every shard and returns the sum of the
:class:`~labelgraph.partial.PartialStatistics` it returned, the same integers and the
same label order whichever engine ran it:

- ``serial``: in this process, one shard at a time (a running sum);
- ``processes``: a pool of worker processes on this machine;
- ``dask``: a Dask ``distributed`` cluster, or a ``LocalCluster`` started for the call
  (the ``labelgraph[dask]`` extra).

Partials are added in shard order (the dask engine in a tree that keeps that order), so
labels discovered shard by shard come out in order of first appearance in shard order.

Examples
--------
>>> from labelgraph.partial import PartialStatistics
>>> shards = [[[1, 1]], [[0, 1]], [[1, 0]]]
>>> total = map_reduce(lambda rows: PartialStatistics.of(rows, ["a", "b"]), shards)
>>> total.n.tolist(), total.num_samples
([2, 2], 3)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..errors import ConfigError

if TYPE_CHECKING:  # the CLI reads ENGINES without loading scipy
    from ..partial import PartialStatistics

__all__ = ["ENGINES", "DEFAULT_TIMEOUT", "choose_engine", "map_reduce"]

#: The engines :func:`map_reduce` knows (``--engine``).
ENGINES: tuple[str, ...] = ("serial", "processes", "dask")

#: Seconds to wait for a Dask scheduler to answer (``--timeout``).
DEFAULT_TIMEOUT: float = 10.0


def choose_engine(engine: str | None, workers: int | None, scheduler: str | None = None) -> str:
    """The engine to run: ``engine`` when given, else ``processes`` for ``workers > 1``, ``dask`` for a
    ``scheduler`` address, else ``serial``.

    Examples
    --------
    >>> choose_engine(None, None), choose_engine(None, 2), choose_engine("dask", 2), choose_engine(None, 1)
    ('serial', 'processes', 'dask', 'serial')
    >>> choose_engine("serial", None, "tcp://10.0.0.1:8786")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --scheduler needs --engine dask (got --engine serial)
    """
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {workers}")
    if engine is None:
        engine = "dask" if scheduler else ("processes" if workers is not None and workers > 1 else "serial")
    if engine not in ENGINES:
        raise ConfigError(f"unknown --engine {engine!r} (known: {', '.join(ENGINES)})")
    if scheduler and engine != "dask":
        raise ConfigError(f"--scheduler needs --engine dask (got --engine {engine})")
    return engine


def map_reduce(task: Callable[[Any], PartialStatistics], shards: Sequence[Any], *, engine: str | None = "serial",
               workers: int | None = None, scheduler: str | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> PartialStatistics:
    """``task(shard)`` for every shard, summed, on the chosen engine.

    Parameters
    ----------
    task : a picklable function (module-level, or a ``functools.partial`` of one) from a shard
        description to its :class:`~labelgraph.partial.PartialStatistics`
    shards : small picklable shard descriptions (paths, ``(path, row group)`` pairs …), in order
    engine : ``serial``, ``processes`` or ``dask``; ``None``: chosen by :func:`choose_engine`
    workers : worker processes (``processes``: default the CPUs; ``dask`` without ``scheduler``:
        the ``LocalCluster``'s workers, default 2)
    scheduler : a Dask scheduler address (``tcp://host:8786``); without one ``dask`` starts a ``LocalCluster``
    timeout : seconds to wait for the scheduler to answer

    A shard whose task fails stops the run with that error, its message naming the shard.

    Examples
    --------
    >>> from functools import partial
    >>> from labelgraph.partial import PartialStatistics
    >>> task = partial(PartialStatistics.of, labels=["a", "b"])
    >>> map_reduce(task, [[[1, 1]], [[1, 0]]], engine="serial").M.toarray().tolist()
    [[0, 1], [1, 0]]
    """
    engine = choose_engine(engine, workers, scheduler)
    shards = list(shards)
    if engine == "serial" or (engine == "processes" and (workers == 1 or len(shards) <= 1)):
        return _serial(task, shards)
    if engine == "processes":
        from .pool import pool_map_reduce

        return pool_map_reduce(task, shards, workers=workers)
    from .cluster import dask_map_reduce

    return dask_map_reduce(task, shards, workers=workers, scheduler=scheduler, timeout=timeout)


def _serial(task: Callable[[Any], PartialStatistics], shards: Sequence[Any]) -> PartialStatistics:
    from ..partial import sum_partials
    from .shards import run_shard

    return sum_partials(run_shard(task, i, shard, in_process=True) for i, shard in enumerate(shards))
