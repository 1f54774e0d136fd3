"""Counting a stream of ``(line, sample id, label names)`` chunk by chunk into one shard's partial statistics.

Memory: one chunk of (row, column) pairs, ``nnz(M)``, and 8 bytes per sample for the
duplicate-id check (a 64-bit hash of each id; a repeated hash is confirmed on a second
pass that keeps only the ids with that hash, so the error names both lines as the
whole-file readers do).
"""
from __future__ import annotations

import dataclasses
from array import array
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from ..partial import PartialStatistics
from ._common import check_label, data_error, file_record

__all__ = ["LabelIndex", "count_stream", "count_pending", "ids_unique", "label_matrix", "arrow_ints"]


class LabelIndex:
    """Label names → columns: a fixed list (an unknown name is an error naming ``path:line``) or open, growing.

    Examples
    --------
    >>> ix = LabelIndex("x.csv")
    >>> ix.column("dog", 1), ix.column("cat", 2), ix.column("dog", 3), ix.names
    (0, 1, 0, ['dog', 'cat'])
    >>> LabelIndex("x.csv", ("cat",)).column("dog", 4)
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: x.csv:4: label 'dog' is not in the label list
    """

    def __init__(self, path: str | Path, fixed: Sequence[str] | None = None) -> None:
        self.path = path
        self.fixed = fixed is not None
        self.names: list[str] = list(fixed or ())
        self.index = {n: i for i, n in enumerate(self.names)}
        self._arrow: Any = None  # the names as an arrow array, for :meth:`columns` (rebuilt when they grow)

    def column(self, name: str, lineno: int | None) -> int:
        """The column of ``name``, added at the end when the list is open."""
        col = self.index.get(name)
        if col is None:
            check_label(self.path, name, lineno)
            if self.fixed:
                raise data_error(self.path, f"label {name!r} is not in the label list", lineno)
            col = self.index[name] = len(self.names)
            self.names.append(name)
        return col

    def columns(self, names: Any, lineno: int | None = None) -> np.ndarray:
        """The columns of an arrow array of distinct names: known ones looked up in arrow, new ones added in order.

        Examples
        --------
        >>> import pyarrow as pa
        >>> ix = LabelIndex("x.parquet", None)
        >>> ix.columns(pa.array(["dog", "cat"])).tolist(), ix.columns(pa.array(["emu", "cat"])).tolist()
        ([0, 1], [2, 1])
        """
        import pyarrow.compute as pc

        if self._arrow is None or len(self._arrow) != len(self.names):
            self._arrow = _arrow_strings(self.names)
        lookup = arrow_ints(pc.index_in(names, value_set=self._arrow))  # a new name: null, -1
        for k in np.flatnonzero(lookup < 0).tolist():
            lookup[k] = self.column(str(names[k].as_py()), lineno)
        return lookup


def arrow_ints(array: Any, null: int = -1) -> np.ndarray:
    """An arrow integer array as int64 numpy, a null as ``null``; read from its buffers.

    (``Array.to_numpy`` loads pandas, 0.3 s, the first time it runs in a process.)

    Examples
    --------
    >>> import pyarrow as pa
    >>> arrow_ints(pa.array([3, None, 5], pa.int32()).slice(1)).tolist()
    [-1, 5]
    """
    import pyarrow as pa

    if isinstance(array, pa.ChunkedArray):
        return np.concatenate([arrow_ints(c, null) for c in array.chunks]) if array.num_chunks else \
            np.zeros(0, dtype=np.int64)
    width = array.type.bit_width // 8
    dtype = np.dtype(f"{'i' if pa.types.is_signed_integer(array.type) else 'u'}{width}")
    validity, data = array.buffers()[:2]
    n, start = len(array), array.offset
    values = np.frombuffer(data, dtype=dtype, count=start + n)[start:].astype(np.int64) if n else \
        np.zeros(0, dtype=np.int64)
    if array.null_count:
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[start:start + n]
        values[bits == 0] = null
    return values


def _arrow_strings(names: Sequence[str]) -> Any:
    """``names`` as an arrow string array, made from its buffers (``pa.array`` of a list loads pandas, 0.3 s)."""
    import pyarrow as pa

    encoded = [name.encode() for name in names]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def label_matrix(num: int, rows: np.ndarray, cols: np.ndarray, c: int) -> sp.csr_matrix:
    """The ``num × c`` 0/1 CSR with a label at each ``(rows[k], cols[k])`` (a label twice on a row: summed).

    Rows in ascending order (as the readers make them) give the row pointers by counting,
    without a COO sort; any other order goes through COO.

    Examples
    --------
    >>> label_matrix(3, np.array([0, 0, 2]), np.array([1, 0, 1]), 2).toarray().tolist()
    [[1, 1], [0, 0], [0, 1]]
    """
    rows = np.asarray(rows)
    if rows.size and not bool((rows[1:] >= rows[:-1]).all()):
        return sp.csr_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(num, c))
    indptr = np.zeros(num + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=num), out=indptr[1:])
    index_type = np.int32 if c < 2**31 and rows.shape[0] < 2**31 else np.int64
    Y = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.int8), np.asarray(cols, dtype=index_type),
                       indptr.astype(index_type, copy=False)), shape=(num, c))
    Y.sum_duplicates()
    return Y


def count_stream(path: Path, samples: Callable[[], Iterable[tuple[int, str, Sequence[str]]]], index: LabelIndex,
                 chunk_size: int) -> PartialStatistics:
    """The partial statistics of one file's samples, ``chunk_size`` at a time; ids unique within the file.

    ``samples`` opens the stream (called again only to name a duplicate id).

    Examples
    --------
    >>> rows = [(1, "a", ["x"]), (2, "b", ["x", "y"]), (3, "c", [])]
    >>> p = tmp / "s.txt"
    >>> _ = p.write_text("three samples")
    >>> part = count_stream(p, lambda: rows, LabelIndex(p), chunk_size=2)
    >>> part.labels, part.n.tolist(), part.num_samples, part.empty
    (('x', 'y'), [2, 1], 3, 1)
    """
    hashes = array("q")
    total: PartialStatistics | None = None
    rows: list[int] = []
    cols: list[int] = []
    r = 0
    for lineno, sid, names in samples():
        if not sid:
            raise data_error(path, "empty sample id", lineno)
        hashes.append(hash(sid))
        for name in names:
            rows.append(r)
            cols.append(index.column(name, lineno))
        r += 1
        if r == chunk_size:
            total = _add(total, count_pending([(r, rows, cols)], index))
            rows, cols, r = [], [], 0
    if r or total is None:
        total = _add(total, count_pending([(r, rows, cols)], index))
    ids_unique(path, hashes, samples)
    return dataclasses.replace(total, files=(file_record(path),))


def count_pending(pending: Sequence[tuple[int, np.ndarray, np.ndarray]], index: LabelIndex) -> PartialStatistics:
    """The partial statistics of ``(rows, row of each label, its column)`` batches, counted as one chunk.

    An open ``index`` gives the partial in sorted label order.

    Examples
    --------
    >>> ix = LabelIndex("x", ("a", "b"))
    >>> p = count_pending([(2, np.array([0, 1]), np.array([0, 1])), (1, np.array([0]), np.array([0]))], ix)
    >>> p.n.tolist(), p.num_samples
    ([2, 1], 3)
    """
    if len(pending) == 1:
        num, rows, cols = pending[0]
    else:
        offsets = np.cumsum([0] + [batch[0] for batch in pending])
        num = int(offsets[-1])
        rows = np.concatenate([r + off for (_, r, _), off in zip(pending, offsets)]) if pending else \
            np.zeros(0, np.int64)
        cols = np.concatenate([c for _, _, c in pending]) if pending else np.zeros(0, np.int64)
    Y = label_matrix(num, np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), len(index.names))
    return PartialStatistics.of(Y, tuple(index.names), sort=not index.fixed)  # an open list: sorted partials


def _add(total: PartialStatistics | None, part: PartialStatistics) -> PartialStatistics:
    return part if total is None else total + part


def ids_unique(path: Path, hashes: Any, samples: Callable[[], Iterable[tuple[int, str, Any]]]) -> None:
    """Raise naming the first repeated sample id (and its first line) when two of ``hashes`` are equal.

    Examples
    --------
    >>> rows = [(1, "a", []), (2, "b", []), (5, "a", [])]
    >>> ids_unique("x.csv", [hash(r[1]) for r in rows], lambda: rows)
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: x.csv:5: duplicate sample id 'a' (first on line 1)
    """
    h = np.sort(np.asarray(hashes, dtype=np.int64))
    repeated = set(h[1:][h[1:] == h[:-1]].tolist())
    if not repeated:
        return
    seen: dict[str, int] = {}
    for lineno, sid, _ in samples():
        if hash(sid) in repeated:
            if sid in seen:
                raise data_error(path, f"duplicate sample id {sid!r} (first on line {seen[sid]})", lineno)
            seen[sid] = lineno
