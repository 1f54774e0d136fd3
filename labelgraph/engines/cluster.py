"""The ``dask`` engine: Dask ``distributed``, partials reduced by sparse addition in a tree on the workers."""
from __future__ import annotations

import contextlib
import logging
import operator
import os
from typing import Any, Callable, Iterator, Sequence

from ..errors import ConfigError, NetworkError, missing_dependency
from ..partial import PartialStatistics
from .shards import ShardError, run_shard

__all__ = ["dask_map_reduce"]

#: LocalCluster workers when ``--workers`` is not given.
LOCAL_WORKERS = 2


def dask_map_reduce(task: Callable[[Any], PartialStatistics], shards: Sequence[Any], *, workers: int | None = None,
                    scheduler: str | None = None, timeout: float = 10.0) -> PartialStatistics:
    """``task`` over ``shards`` on a Dask cluster; the partials added pairwise, neighbours first.

    With ``scheduler`` the cluster at that address (started with ``dask scheduler`` and
    ``dask worker ADDRESS`` on each machine) runs it; without one a ``LocalCluster`` of
    ``workers`` single-threaded processes is started for the call and closed after it.
    Only the final sum travels back to this process.

    Examples
    --------
    >>> dask_map_reduce(len, ["a"], scheduler="tcp://127.0.0.1:1", timeout=0.5)
    Traceback (most recent call last):
    ...
    labelgraph.errors.NetworkError: cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 0.5 s
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise missing_dependency("distributed", "dask") from None
    shards = list(shards)
    if not shards:
        from ..errors import DataError

        raise DataError("no statistics to add up: no shard was read")
    with _quiet_dask():
        if scheduler:
            client = _connect(Client, scheduler, timeout)
            cluster = None
        else:
            cluster = LocalCluster(n_workers=workers or LOCAL_WORKERS, processes=True, threads_per_worker=1,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster, timeout=timeout)
        try:
            return _tree_sum(client, task, shards)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's INFO lines (workers starting, closing) kept off stderr: the command prints its own result.

    The worker processes of a LocalCluster read their log levels from the environment when they start.
    """
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client", "distributed.scheduler",
                                                     "distributed.nanny", "distributed.worker")]
    levels = [lg.level for lg in loggers]
    previous = os.environ.get(_LOG_ENV)
    if previous is None:
        os.environ[_LOG_ENV] = "critical"  # a failed task is reported once, by this process
    for lg in loggers:
        lg.setLevel(max(lg.level, logging.ERROR) if lg.level else logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        if previous is None:
            os.environ.pop(_LOG_ENV, None)


_LOG_ENV = "DASK_LOGGING__DISTRIBUTED"


def _connect(client_class: Any, address: str, timeout: float) -> Any:
    if "://" not in address and ":" not in address:
        raise ConfigError(f"--scheduler {address!r}: expected an address like tcp://HOST:8786")
    try:
        return client_class(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise NetworkError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s") from exc
    except ValueError as exc:
        raise ConfigError(f"--scheduler {address!r}: {exc}") from None


def _tree_sum(client: Any, task: Callable[[Any], PartialStatistics], shards: list[Any]) -> PartialStatistics:
    """Map, then add neighbours level by level (``(s0 + s1) + (s2 + s3)`` …): the shard order is kept."""
    from distributed import KilledWorker

    level = client.map(run_shard, [task] * len(shards), range(len(shards)), shards, pure=False)
    while len(level) > 1:
        pairs = [client.submit(operator.add, level[i], level[i + 1], pure=False)
                 for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    try:
        return level[0].result()
    except KilledWorker as exc:
        raise ShardError(f"a Dask worker died while running {exc.task} (out of memory?)") from None
    except Exception as exc:
        exc.__cause__ = None
        exc.__suppress_context__ = True
        raise exc.with_traceback(None)
