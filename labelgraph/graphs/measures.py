"""Basic measures of a C × C graph matrix (diagonal ignored): edges, density, isolated labels, degrees."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["basic_measures"]


def basic_measures(matrix: Any) -> dict[str, float | int]:
    """Edges (directed off-diagonal non-zeros), density, isolated labels, max and mean degree.

    A label's degree counts its distinct neighbours in either direction; a label is
    isolated when it has none.

    Examples
    --------
    >>> basic_measures([[1, 0.5, 0], [0, 1, 0], [0, 0, 1]])
    {'labels': 3, 'edges': 1, 'density': 0.16666666666666666, 'isolated': 1, 'max_degree': 1, 'mean_degree': 0.6666666666666666}
    """
    m = sp.csr_matrix(matrix)
    m = m - sp.diags(m.diagonal())
    m.eliminate_zeros()
    c = m.shape[0]
    pattern = (m != 0).astype(np.int8)
    both = ((pattern + pattern.T) != 0).astype(np.int8)
    degree = np.asarray(both.sum(axis=1)).ravel()
    edges = int(pattern.nnz)
    return {
        "labels": c,
        "edges": edges,
        "density": edges / (c * (c - 1)) if c > 1 else 0.0,
        "isolated": int(np.count_nonzero(degree == 0)),
        "max_degree": int(degree.max()) if c else 0,
        "mean_degree": float(degree.mean()) if c else 0.0,
    }
