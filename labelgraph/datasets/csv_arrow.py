"""The fast path of a label-list CSV shard: pyarrow's CSV reader and vectorized splitting (docs/datasets.md).

It gives the same partial statistics as the pure-Python path or none at all: on
anything it does not read exactly as :func:`labelgraph.datasets.user.read_csv` would
(a row of one or three columns, an empty sample id, a NUL byte, invalid UTF-8, an unknown
or overlong label, a repeated sample id), it returns ``None`` and the caller reads
the shard with the pure-Python path, which accepts the row or raises the one-line
error naming ``file:line``.
"""
from __future__ import annotations

import dataclasses
from array import array
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..partial import PartialStatistics
from ._common import file_record
from .stream import LabelIndex

__all__ = ["arrow_csv_shard", "BLOCK_BYTES"]

#: Bytes pyarrow parses at once (its batches are then cut into ``chunk_size`` rows).
BLOCK_BYTES = 1 << 22


class _Fallback(Exception):
    """The fast path cannot reproduce the pure-Python reading of this shard."""


def arrow_csv_shard(path: Path, *, header: bool, chunk_size: int, labels: tuple[str, ...] | None, delimiter: str,
                    label_sep: str) -> PartialStatistics | None:
    """The partial statistics of a label-list CSV read with pyarrow; ``None`` where the Python path must read it.

    ``header``: the first non-blank row is ``sample,labels`` (skipped).

    Examples
    --------
    >>> p = tmp / "fast.csv"
    >>> _ = p.write_text("sample,labels\\na, cat ;dog\\nb,\\nc,dog\\n")
    >>> part = arrow_csv_shard(p, header=True, chunk_size=2, labels=None, delimiter=",", label_sep=";")
    >>> part.labels, part.n.tolist(), part.num_samples, part.empty
    (('cat', 'dog'), [1, 2], 3, 1)
    >>> _ = p.write_text("a,cat\\nb\\n")  # a row without a label cell: the Python path reads it
    >>> arrow_csv_shard(p, header=False, chunk_size=2, labels=None, delimiter=",", label_sep=";") is None
    True
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    index = LabelIndex(path, labels)
    try:
        return _read(path, header, chunk_size, index, delimiter, label_sep)
    except (_Fallback, DataError):
        return None
    except Exception as exc:  # pyarrow's parse errors (ArrowInvalid and kin)
        if type(exc).__module__.startswith("pyarrow"):
            return None
        raise


def _read(path: Path, header: bool, chunk_size: int, index: LabelIndex, delimiter: str,
          label_sep: str) -> PartialStatistics:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    reader = pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(column_names=["sample", "labels"], block_size=BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(column_types={"sample": pa.string(), "labels": pa.string()},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    hashes = array("q")
    total: PartialStatistics | None = None
    first = header
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []
    have = 0
    for batch in reader:
        if first:
            batch = batch.slice(1)
            first = False
        lo = 0
        while lo < batch.num_rows:
            piece = batch.slice(lo, chunk_size - have)
            lo += piece.num_rows
            pending.append(_pairs(piece, index, label_sep, hashes, pc))
            have += piece.num_rows
            if have == chunk_size:
                total = _add(total, _count(pending, index))
                pending, have = [], 0
    if pending or total is None:
        total = _add(total, _count(pending, index))
    h = np.sort(np.frombuffer(hashes, dtype=np.int64)) if hashes else np.zeros(0, dtype=np.int64)
    if h.size > 1 and (h[1:] == h[:-1]).any():
        raise _Fallback("a repeated sample id (or hash): the Python path names it")
    total = total if total is not None else PartialStatistics.empty_over(index.names)
    return dataclasses.replace(total, files=(file_record(path),))


def _add(total: PartialStatistics | None, part: PartialStatistics) -> PartialStatistics:
    return part if total is None else total + part


def _count(pending: list[tuple[int, np.ndarray, np.ndarray]], index: LabelIndex) -> PartialStatistics:
    offsets = np.cumsum([0] + [num for num, _, _ in pending])
    rows = np.concatenate([r + off for (_, r, _), off in zip(pending, offsets)]) if pending else np.zeros(0, np.int64)
    cols = np.concatenate([c for _, _, c in pending]) if pending else np.zeros(0, np.int64)
    Y = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(int(offsets[-1]), len(index.names)))
    return PartialStatistics.of(Y, tuple(index.names))


def _pairs(batch: Any, index: LabelIndex, label_sep: str, hashes: array, pc: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """(rows, row of each label, its column) of a batch, its sample-id hashes appended to ``hashes``."""
    num = batch.num_rows
    sid = pc.utf8_trim_whitespace(batch.column(0))
    raw = batch.column(1)
    if num and (pc.any(pc.equal(sid, "")).as_py() or pc.any(pc.match_substring(raw, "\x00")).as_py()
                or pc.any(pc.match_substring(batch.column(0), "\x00")).as_py()):
        raise _Fallback("an empty sample id or a NUL byte")
    hashes.extend(map(hash, sid.to_pylist()))
    parts = pc.split_pattern(raw, label_sep)
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False).astype(np.int64)
    names = pc.utf8_trim_whitespace(parts.flatten())
    rows = np.repeat(np.arange(num, dtype=np.int64), lengths)
    keep = pc.not_equal(names, "")
    names = names.filter(keep)
    rows = rows[keep.to_numpy(zero_copy_only=False)]
    encoded = pc.dictionary_encode(names)
    lookup = np.array([index.column(n, None) for n in encoded.dictionary.to_pylist()], dtype=np.int64)
    cols = lookup[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
    return num, rows, cols
