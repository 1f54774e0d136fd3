"""The ``processes`` engine: a process pool on this machine, partials added in shard order."""
from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Sequence

from ..partial import PartialStatistics
from .shards import run_shard

__all__ = ["default_workers", "pool_map_reduce"]


def default_workers() -> int:
    """The CPUs this process may run on.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def pool_map_reduce(task: Callable[[Any], PartialStatistics], shards: Sequence[Any], *,
                    workers: int | None = None) -> PartialStatistics:
    """``task`` over ``shards`` in ``workers`` processes; the sum in shard order.

    At most ``2 × workers`` shards are in flight and a finished partial waits only for
    the shards before it, so memory holds a few partials plus the running sum. Workers
    are spawned (fresh interpreters): a fork of a process that runs threads is not safe.

    Examples
    --------
    >>> from functools import partial
    >>> task = partial(PartialStatistics.of, labels=["a", "b"])
    >>> pool_map_reduce(task, [[[1, 1]], [[1, 0]], [[0, 1]]], workers=2).n.tolist()
    [2, 2]
    """
    workers = workers or default_workers()
    ctx = multiprocessing.get_context("spawn")
    total: PartialStatistics | None = None
    done: dict[int, PartialStatistics] = {}
    pending: dict[Future[PartialStatistics], int] = {}
    upcoming = iter(enumerate(shards))
    next_index = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        try:
            while True:
                while len(pending) + len(done) < 2 * workers:
                    item = next(upcoming, None)
                    if item is None:
                        break
                    pending[pool.submit(run_shard, task, item[0], item[1])] = item[0]
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(finished, key=pending.__getitem__):
                    index = pending.pop(future)
                    done[index] = _result(future)
                while next_index in done:
                    part = done.pop(next_index)
                    total = part if total is None else total + part
                    next_index += 1
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    if total is None:
        from ..errors import DataError

        raise DataError("no statistics to add up: no shard was read")
    return total


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
