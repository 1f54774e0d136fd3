"""The ``processes`` engine: a process pool on this machine, each worker summing a run of neighbouring shards."""
from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Sequence

from ..partial import PartialStatistics, sum_partials
from .shards import run_shard

__all__ = ["default_workers", "pool_map_reduce"]


def default_workers() -> int:
    """The CPUs this process may run on.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    from .._threads import usable_cpus

    return usable_cpus()


def pool_map_reduce(task: Callable[[Any], PartialStatistics], shards: Sequence[Any], *,
                    workers: int | None = None) -> PartialStatistics:
    """``task`` over ``shards`` in ``workers`` processes; the sum in shard order.

    The shards are cut into ``workers`` runs of neighbours (``s0 s1 s2 | s3 s4 s5 | …``);
    this process counts the first run itself while ``workers - 1`` worker processes count
    the others, each adding its partials up, so only one partial per worker travels back
    and this process adds them in run order (labels keep their order over the shards).
    Workers are spawned (fresh interpreters): a fork of a process that runs threads is not
    safe. Counting the first run here saves one interpreter's start and one partial's
    transfer, and keeps this process's core busy while the workers start.

    Examples
    --------
    >>> from functools import partial
    >>> task = partial(PartialStatistics.of, labels=["a", "b"])
    >>> pool_map_reduce(task, [[[1, 1]], [[1, 0]], [[0, 1]]], workers=2).n.tolist()
    [2, 2]
    """
    workers = workers or default_workers()
    shards = list(shards)
    if not shards:
        from ..errors import DataError

        raise DataError("no statistics to add up: no shard was read")
    runs = [run for run in _runs(len(shards), workers)]
    if len(runs) == 1:
        return sum_partials(run_shard(task, i, shards[i], in_process=True) for i in runs[0])
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(runs) - 1, mp_context=ctx) as pool:
        futures = [pool.submit(_sum_run, task, [(i, shards[i]) for i in run]) for run in runs[1:]]
        try:
            total = _here(task, [(i, shards[i]) for i in runs[0]])  # the first run, while the workers start
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in futures if f in done and f.exception() is not None]
            if failed:  # the first failing run in shard order names its shard
                _result(failed[0])
            for future in futures:
                total = total + _result(future)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return total


def _runs(count: int, parts: int) -> list[range]:
    """``range(count)`` cut into at most ``parts`` runs of neighbours, of sizes differing by one at most.

    Examples
    --------
    >>> [list(r) for r in _runs(5, 2)]
    [[0, 1, 2], [3, 4]]
    """
    parts = max(1, min(parts, count))
    size, extra = divmod(count, parts)
    bounds = [0]
    for k in range(parts):
        bounds.append(bounds[-1] + size + (k < extra))
    return [range(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _sum_run(task: Callable[[Any], PartialStatistics], run: list[tuple[int, Any]]) -> PartialStatistics:
    """The sum of ``task`` over a run of shards, in order (in a worker)."""
    return sum_partials(run_shard(task, index, shard) for index, shard in run)


def _here(task: Callable[[Any], PartialStatistics], run: list[tuple[int, Any]]) -> PartialStatistics:
    """The sum of ``task`` over a run of shards in this process, as a worker counts it (one thread for the
    product, errors named as a worker names them)."""
    from .. import stats

    threads = stats.PRODUCT_THREADS
    try:
        return _sum_run(task, run)
    finally:
        stats.PRODUCT_THREADS = threads  # run_shard set one thread for the product, as in a worker


def _result(future: Future[PartialStatistics]) -> PartialStatistics:
    """The future's partial; its error raised without the pool's copy of the worker's traceback."""
    exc = future.exception()
    if exc is None:
        return future.result()
    if sys.flags.dev_mode:  # keep the worker's traceback where a developer asked for detail
        raise exc
    exc.__cause__ = None
    exc.__suppress_context__ = True
    raise exc.with_traceback(None)
