"""Baseline graphs (SPEC §2.8), to answer "does the graph help?": identity, complete, shuffled, random.

Each has the labels and file format of a real graph, so the trainer and a sweep
treat them like any other kind.  ``shuffled`` and ``random`` are seeded.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ConfigError

__all__ = ["DENSE_LIMIT", "identity_graph", "complete_graph", "shuffled_graph", "random_graph", "check_seed"]

#: The largest C for which ``complete`` (C² entries) is built.
DENSE_LIMIT = 5000


def check_seed(value: Any) -> int:
    """A seed: an integer ≥ 0.

    Examples
    --------
    >>> check_seed(3)
    3
    """
    if isinstance(value, bool) or not float(value).is_integer() or value < 0:
        raise ConfigError(f"--seed must be an integer >= 0, got {value}")
    return int(value)


def identity_graph(c: int) -> sp.csr_matrix:
    """``I``: every label keeps its own features, nothing propagates.

    Examples
    --------
    >>> identity_graph(2).toarray().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return sp.identity(c, dtype=np.float64, format="csr")


def complete_graph(c: int) -> sp.csr_matrix:
    """Every pair at weight 1, zero diagonal (saved as ``norm(X + I)`` = the uniform ``1/C``).

    Refused above :data:`DENSE_LIMIT` labels (C² entries).

    Examples
    --------
    >>> complete_graph(3).toarray().tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    if c > DENSE_LIMIT:
        raise ConfigError(f"complete graph of {c} labels has {c * c:,} entries; it is refused above "
                          f"{DENSE_LIMIT} labels (use --top-k on a real kind, or random)")
    X = np.ones((c, c))
    np.fill_diagonal(X, 0.0)
    return sp.csr_matrix(X)


def permutation(c: int, seed: int) -> np.ndarray:
    """The seeded permutation ``shuffled`` uses (never the identity when C ≥ 2).

    Examples
    --------
    >>> sorted(permutation(5, 0).tolist())
    [0, 1, 2, 3, 4]
    """
    rng = np.random.default_rng(seed)
    perm = rng.permutation(c)
    while c >= 2 and (perm == np.arange(c)).all():
        perm = rng.permutation(c)
    return perm


def shuffled_graph(A: Any, seed: int) -> sp.csr_matrix:
    """``A`` with its labels permuted: ``S = Π A Πᵀ``, ``S[i, j] = A[π(i), π(j)]``.

    Same weights and spectrum as ``A``, wrong label identities.

    Examples
    --------
    >>> A = sp.csr_matrix([[0, 1.0, 0], [0, 0, 2.0], [0, 0, 0]])
    >>> sorted(shuffled_graph(A, 0).data.tolist())
    [1.0, 2.0]
    """
    A = sp.csr_matrix(A)
    perm = permutation(A.shape[0], seed)
    return sp.csr_matrix(A[perm][:, perm])


def random_graph(c: int, num_edges: int, seed: int) -> sp.csr_matrix:
    """``num_edges`` off-diagonal entries at weight 1, placed uniformly at random (seeded).

    Examples
    --------
    >>> random_graph(4, 5, seed=0).nnz
    5
    """
    slots = c * (c - 1)
    if not 0 <= num_edges <= slots:
        raise ConfigError(f"cannot place {num_edges} edges among {c} labels")
    rng = np.random.default_rng(seed)
    flat = rng.choice(slots, size=num_edges, replace=False) if num_edges else np.zeros(0, dtype=np.int64)
    rows = flat // (c - 1)
    cols = flat % (c - 1)
    cols = cols + (cols >= rows)  # skip the diagonal
    return sp.csr_matrix((np.ones(num_edges), (rows, cols)), shape=(c, c))
