"""Helpers shared by the dataset readers: building a LabelSet (the file helpers live in :mod:`labelgraph.files`).

Every error here is a :class:`~labelgraph.errors.DataError` whose message starts
with the file (and ``:line`` where one is known), so the CLI can print it as is.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ..files import (MAX_LABEL_CHARS, MAX_LINE_BYTES, check_label, data_error, file_record, raw_lines,
                     read_label_list, require_file, sha256_file, text_lines, unique_names)
from ..labelset import LabelSet

__all__ = [
    "data_error",
    "MAX_LINE_BYTES",
    "MAX_LABEL_CHARS",
    "raw_lines",
    "text_lines",
    "check_label",
    "require_file",
    "sha256_file",
    "file_record",
    "read_label_list",
    "resolve_labels",
    "build_labelset",
]


def resolve_labels(labels: Sequence[str] | str | os.PathLike[str]) -> tuple[str, ...]:
    """A label order given either as names or as a label-list file path.

    Examples
    --------
    >>> resolve_labels(["cat", "dog"])
    ('cat', 'dog')
    """
    if isinstance(labels, (str, os.PathLike)):
        return read_label_list(labels)
    return unique_names(labels)


def build_labelset(path: str | os.PathLike[str], sample_ids: Sequence[str], labels: Sequence[str],
                   rows: Iterable[int] | np.ndarray, cols: Iterable[int] | np.ndarray,
                   source: Mapping[str, Any]) -> LabelSet:
    """A validated :class:`LabelSet` from (row, column) pairs of 1s.

    Checks what every reader shares: at least one sample, unique sample ids.
    ``path`` is what the error messages name.

    Examples
    --------
    >>> ls = build_labelset("x.csv", ["a", "b"], ["cat", "dog"], [0, 1, 1], [0, 0, 1], {"dataset": "x"})
    >>> ls.Y.toarray().tolist()
    [[1, 0], [1, 1]]
    >>> build_labelset("x.csv", [], ["cat"], [], [], {})
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: x.csv: no samples (a dataset with zero samples has no statistics)
    """
    n = len(sample_ids)
    if n == 0:
        raise data_error(path, "no samples (a dataset with zero samples has no statistics)")
    if len(set(sample_ids)) != n:
        seen: set[str] = set()
        dup = next(s for s in sample_ids if s in seen or seen.add(s))  # type: ignore[func-returns-value]
        raise data_error(path, f"duplicate sample id {dup!r}")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    Y = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(n, len(labels)))
    src = {"path": str(path)}
    src.update(source)
    return LabelSet(list(sample_ids), tuple(labels), Y, src)
