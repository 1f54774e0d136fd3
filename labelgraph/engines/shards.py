"""Running one shard's task: its errors become one line that names the shard."""
from __future__ import annotations

import os
from typing import Any, Callable

from ..errors import LabelGraphError

__all__ = ["ShardError", "describe_shard", "run_shard"]


class ShardError(LabelGraphError):
    """A shard's task failed with an error that is not labelgraph's own (a bug or an unexpected input)."""

    exit_code = 1


def describe_shard(shard: Any, index: int) -> str:
    """How an error names a shard: its path, or ``shard <index>`` and a short description.

    Examples
    --------
    >>> describe_shard("data/part-0003.parquet", 3)
    'data/part-0003.parquet'
    >>> describe_shard(("data/a.parquet", 2), 7)
    'shard 7 (data/a.parquet, 2)'
    >>> describe_shard((("a.parquet", 0, 4), ("b.parquet", 0, 4), ("c.parquet", 0, 4)), 1)
    'run 1 of shards (a.parquet, 0, 4 … c.parquet, 0, 4)'
    """
    if isinstance(shard, (str, os.PathLike)):
        return os.fspath(shard)
    if _is_run(shard):  # a run of neighbouring shards (ShardPlan.work)
        ends = [describe_shard(shard[0], index)] + ([describe_shard(shard[-1], index)] if len(shard) > 1 else [])
        inner = " … ".join(e[e.index("(") + 1:-1] if e.startswith("shard ") else e for e in ends)
        return f"run {index} of shards ({inner})"
    text = str(shard)
    if isinstance(shard, tuple):
        text = ", ".join(os.fspath(x) if isinstance(x, os.PathLike) else str(x) for x in shard)
    text = " ".join(text.split())
    return f"shard {index} ({text[:117] + '...' if len(text) > 120 else text})"


def run_shard(task: Callable[[Any], Any], index: int, shard: Any, *, in_process: bool = False) -> Any:
    """``task(shard)``; a failure is re-raised as one line naming the shard.

    A labelgraph error keeps its class (and exit code), prefixed by the shard unless it
    names it already; an operating-system error naming its file and ``MemoryError`` pass
    unchanged. Anything else becomes a :class:`ShardError` — in a worker process only
    (``in_process=False``): in this process the CLI's own mapping of it still applies. A worker
    (``in_process=False``) counts on one thread (:data:`labelgraph.stats.PRODUCT_THREADS`).

    Examples
    --------
    >>> run_shard(len, 0, "abc")
    3
    >>> def fails(shard):
    ...     raise ValueError("bad row 4")
    >>> run_shard(fails, 2, "part-2.csv")
    Traceback (most recent call last):
    ...
    labelgraph.engines.shards.ShardError: part-2.csv: ValueError: bad row 4
    """
    if not in_process:  # a worker of an engine: its sibling workers use the other cores
        from .. import stats

        stats.PRODUCT_THREADS = 1
    try:
        return task(shard)
    except LabelGraphError as exc:
        where = describe_shard(shard, index)
        if _names(str(exc), shard, where):
            raise
        raise _same_class(exc, f"{where}: {exc}") from (exc if in_process else None)
    except MemoryError:
        raise
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise ShardError(f"{describe_shard(shard, index)}: {exc.strerror or exc}") from (exc if in_process else None)
    except Exception as exc:
        if in_process:
            raise
        raise ShardError(f"{describe_shard(shard, index)}: {type(exc).__name__}: {exc}") from None


def _is_run(shard: Any) -> bool:
    return isinstance(shard, tuple) and bool(shard) and all(isinstance(s, (tuple, str, os.PathLike)) for s in shard) \
        and any(isinstance(s, tuple) for s in shard)


def _names(message: str, shard: Any, where: str) -> bool:
    """Whether an error message already names the shard (its path, or its file's name; any shard of a run)."""
    if where in message:
        return True
    if _is_run(shard):
        return any(_names(message, s, where) for s in shard)
    first = shard[0] if isinstance(shard, tuple) and shard else shard
    if isinstance(first, (str, os.PathLike)):
        path = os.fspath(first)
        return path in message or os.path.basename(path) in message
    return False


def _same_class(exc: LabelGraphError, message: str) -> LabelGraphError:
    try:
        return type(exc)(message)
    except Exception:  # a subclass with another signature: keep the exit code at least
        err = LabelGraphError(message)
        err.exit_code = getattr(exc, "exit_code", 1)  # type: ignore[misc]
        return err
