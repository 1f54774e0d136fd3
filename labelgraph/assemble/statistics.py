"""The statistics artifact of a label set (SPEC §1): :func:`labelgraph.stats.cooccurrence_counts` plus provenance."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..artifact import Artifact
from ..stats import cooccurrence_counts

__all__ = ["label_statistics", "partial_statistics"]


def label_statistics(labelset: Any, meta: dict[str, Any] | None = None) -> Artifact:
    """The statistics artifact of a :class:`~labelgraph.labelset.LabelSet`.

    Examples
    --------
    >>> from labelgraph.labelset import LabelSet
    >>> ls = LabelSet.from_lists(["a", "b"], ["cat", "dog"], [["cat"], ["cat", "dog"]])
    >>> s = label_statistics(ls)
    >>> s.n.tolist(), s.num_samples, s.matrix.toarray().tolist()
    ([2, 1], 2, [[0, 1], [1, 0]])
    """
    n, M = cooccurrence_counts(labelset.Y)
    info = dict(labelset.source)
    info.update(meta or {})
    empty = int(labelset.Y.shape[0] - np.count_nonzero(np.diff(labelset.Y.indptr)))
    info.setdefault("samples_without_labels", empty)
    return Artifact.statistics(labelset.labels, n, M, labelset.num_samples, info)


def partial_statistics(partial: Any, meta: dict[str, Any] | None = None) -> Artifact:
    """The statistics artifact of summed :class:`~labelgraph.partial.PartialStatistics` (a chunked read).

    Equal, array for array, to :func:`label_statistics` of the whole label set.

    Examples
    --------
    >>> from labelgraph.partial import PartialStatistics
    >>> part = PartialStatistics.of([[1, 0]], ["cat", "dog"]) + PartialStatistics.of([[1, 1]], ["cat", "dog"])
    >>> s = partial_statistics(part, {"dataset": "mine"})
    >>> s.n.tolist(), s.num_samples, s.matrix.toarray().tolist(), s.meta["samples_without_labels"]
    ([2, 1], 2, [[0, 1], [1, 0]], 0)
    """
    info = dict(meta or {})
    if partial.files and "files" not in info:
        info["files"] = [dict(f) for f in partial.files]
    info.setdefault("samples_without_labels", int(partial.empty))
    # The sum's arrays go into the artifact without a copy (read-only arrays are shared): at 9 M samples its
    # M holds 65 M entries, and a copy was the largest allocation after counting.
    M = partial.M
    M = sp.csr_matrix((M.data.astype(np.int64, copy=False), M.indices, M.indptr), shape=M.shape)
    M.has_sorted_indices = True
    for arr in (M.data, M.indices, M.indptr):
        arr.setflags(write=False)
    return Artifact.statistics(partial.labels, partial.n, M, partial.num_samples, info)
