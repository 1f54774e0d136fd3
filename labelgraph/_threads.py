"""BLAS threads for small matrices: one thread below a size, the library's default above it.

OpenBLAS starts all its threads for every product; for a C × C matrix with C in the
hundreds the hand-off costs more than the arithmetic, and on a busy machine the
threads wait for cores (``benchmarks/bench_inspect_scale.py``: two threads were 3–7×
slower than one at C = 80–300, equal from C = 1,000). Dense products on small
matrices run inside :func:`blas_threads`, which limits BLAS to one thread through
threadpoolctl (a dependency; without it nothing changes).
"""
from __future__ import annotations

import contextlib
import functools
import os
from typing import Any, Iterator

__all__ = ["SMALL_BLAS_MAX", "blas_threads", "usable_cpus"]

#: Largest C for which a dense C × C product runs on one BLAS thread.
SMALL_BLAS_MAX = 1_000


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS tells it), at least 1.

    Examples
    --------
    >>> usable_cpus() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@functools.lru_cache(maxsize=1)
def _controller() -> Any:
    # the BLAS libraries are found once (about 2 ms); a product on 80 labels takes about 1 ms
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def blas_threads(c: int) -> Iterator[None]:
    """Run the block with one BLAS thread when ``c ≤`` :data:`SMALL_BLAS_MAX`, else unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> with blas_threads(80):
    ...     (np.eye(80) @ np.ones((80, 2))).sum()
    np.float64(160.0)
    """
    controller = _controller() if c <= SMALL_BLAS_MAX else None
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
