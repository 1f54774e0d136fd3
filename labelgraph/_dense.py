"""The one limit on dense C × C arrays: above it, code that would densify a matrix refuses.

Sparse artifacts of any size load and stay sparse; only the steps that need a
dense C × C array (``Artifact.to_dense``, ``P = M / n``, graph builders, ks,
plots, sweeps, the trainer's adjacency) call :func:`check_dense` first,
so a 1,000,000-label file gives one clear line instead of a 7 TiB allocation.
"""
from __future__ import annotations

import os

from .errors import ConfigError, DataError

__all__ = ["DENSE_LIMIT", "DENSE_LIMIT_ENV", "SPARSE_ABOVE", "dense_limit", "check_dense", "use_sparse"]

#: Default largest C for which a dense C × C array is built (20,000² float64 ≈ 3 GiB).
DENSE_LIMIT = 20_000
#: Environment variable that overrides :data:`DENSE_LIMIT` (a whole number of labels).
DENSE_LIMIT_ENV = "LABELGRAPH_DENSE_LIMIT"
#: Above this many labels every graph kind takes the sparse path (``--sparse`` / ``--dense`` decide otherwise).
SPARSE_ABOVE = 2_000


def dense_limit() -> int:
    """The largest C allowed for a dense C × C array: ``$LABELGRAPH_DENSE_LIMIT`` or :data:`DENSE_LIMIT`.

    Examples
    --------
    >>> dense_limit() > 0
    True
    """
    text = os.environ.get(DENSE_LIMIT_ENV, "").strip()
    if not text:
        return DENSE_LIMIT
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{DENSE_LIMIT_ENV} must be a whole number of labels, got {text!r}") from None
    if value < 0:
        raise ConfigError(f"{DENSE_LIMIT_ENV} must be >= 0, got {value}")
    return value


def check_dense(c: int, what: str) -> None:
    """Raise :class:`~labelgraph.errors.DataError` when a dense ``c × c`` array is above :func:`dense_limit`.

    Examples
    --------
    >>> check_dense(80, "P")
    >>> check_dense(10**6, "P")
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: P: a dense 1000000 x 1000000 matrix (7,451 GiB as float64) is above the limit of 20,000 labels (set LABELGRAPH_DENSE_LIMIT to raise it)
    """
    limit = dense_limit()
    if c > limit:
        gib = c * c * 8 / 2**30
        raise DataError(f"{what}: a dense {c} x {c} matrix ({gib:,.0f} GiB as float64) is above the limit of "
                        f"{limit:,} labels (set {DENSE_LIMIT_ENV} to raise it)")


def use_sparse(c: int, sparse: bool | None = None) -> bool:
    """Whether a graph of ``c`` labels is built sparse: ``sparse`` when given, else ``c >`` :data:`SPARSE_ABOVE`.

    Examples
    --------
    >>> use_sparse(80), use_sparse(20_000), use_sparse(80, True), use_sparse(20_000, False)
    (False, True, True, False)
    """
    return bool(sparse) if sparse is not None else c > SPARSE_ABOVE
