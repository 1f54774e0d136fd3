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
import hashlib
import io
from array import array
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, LabelGraphError
from ..partial import PartialStatistics
from .stream import LabelIndex, arrow_ints, count_pending

__all__ = ["arrow_csv_shard", "BLOCK_BYTES", "RangeNotRows", "RowCheck"]

#: Bytes pyarrow parses at once (its batches are then cut into ``chunk_size`` rows).
BLOCK_BYTES = 1 << 22


class _Fallback(Exception):
    """The fast path cannot reproduce the pure-Python reading of this shard."""


class RangeNotRows(LabelGraphError):
    """A byte range of a CSV holds a line that is not whole rows (a quoted cell may span lines): count the
    file as one shard instead (:func:`labelgraph.statistics_sources.count_statistics` does)."""


class RowCheck:
    """Fed a file's bytes from a line start, block by block: whether every line is whole rows.

    On each line the double quotes must alternate between one that opens a cell (after the
    delimiter or at the line's start) and one that closes it (before the delimiter or the line's
    end): then no quoted cell spans lines, and every line start is a row start.

    Examples
    --------
    >>> check = RowCheck(",")
    >>> check.feed(b'"a","b;c"\\nd,e\\n'); check.ok
    True
    >>> check.feed(b'f,"g\\nh"\\n'); check.ok
    False
    """

    def __init__(self, delimiter: str) -> None:
        self.sep = delimiter.encode()[0] if len(delimiter.encode()) == 1 else None
        self.ok = self.sep is not None
        self._carry = b""

    def feed(self, block: bytes, last: bool = False) -> None:
        """Check the complete lines of ``block`` (the rest waits for the next block, or ``last``)."""
        if not self.ok:
            return
        data = self._carry + block
        end = len(data) if last else data.rfind(b"\n") + 1
        lines, self._carry = data[:end], data[end:]
        if b'"' not in lines:
            return
        # from a line start the quotes pair up in order: (open, close), (open, close) …
        b = np.frombuffer(b"\n" + lines + b"\n", dtype=np.uint8)
        q = np.flatnonzero(b == 34)
        if q.size % 2:
            self.ok = False
            return
        before, after = b[q[0::2] - 1], b[q[1::2] + 1]
        newlines = np.flatnonzero(b == 10)
        self.ok = bool(((before == self.sep) | (before == 10)).all()
                       and ((after == self.sep) | (after == 10) | (after == 13)).all()
                       and np.array_equal(np.searchsorted(newlines, q[0::2]), np.searchsorted(newlines, q[1::2])))


def arrow_csv_shard(path: Path, *, header: bool, chunk_size: int, labels: tuple[str, ...] | None, delimiter: str,
                    label_sep: str, span: tuple[int, int] | None = None) -> PartialStatistics | None:
    """The partial statistics of a label-list CSV read with pyarrow; ``None`` where the Python path must read it.

    ``header``: the first non-blank row is ``sample,labels`` (skipped). ``span``: only the bytes
    ``[start, end)`` (starting at a line); the file's record (sha256 of the whole file) comes
    with the range that starts at 0, none with the others. The file is hashed on a second
    thread while pyarrow parses.

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
        return _read(path, header, chunk_size, index, delimiter, label_sep, span)
    except (_Fallback, DataError):
        return None
    except Exception as exc:  # pyarrow's parse errors (ArrowInvalid and kin)
        if type(exc).__module__.startswith("pyarrow"):
            return None
        raise


def _read(path: Path, header: bool, chunk_size: int, index: LabelIndex, delimiter: str,
          label_sep: str, span: tuple[int, int] | None) -> PartialStatistics:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    hasher = ThreadPoolExecutor(1)
    record = hasher.submit(_record_without_nul, path, span, delimiter)
    hasher.shutdown(wait=False)
    source: Any = path if span is None else io.BufferedReader(_Range(path, *span), BLOCK_BYTES)
    reader = pacsv.open_csv(
        source, read_options=pacsv.ReadOptions(column_names=["sample", "labels"], block_size=BLOCK_BYTES),
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
                total = _add(total, count_pending(pending, index))
                pending, have = [], 0
    if pending or total is None:
        total = _add(total, count_pending(pending, index))
    h = np.sort(np.frombuffer(hashes, dtype=np.int64)) if hashes else np.zeros(0, dtype=np.int64)
    if h.size > 1 and (h[1:] == h[:-1]).any():
        raise _Fallback("a repeated sample id (or hash): the Python path names it")
    total = total if total is not None else PartialStatistics.empty_over(index.names, sort=not index.fixed)
    found = record.result()
    return dataclasses.replace(total, files=(found,) if found is not None else ())


class _Range(io.RawIOBase):
    """Bytes ``[start, end)`` of a file, as a readable stream."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._handle = open(path, "rb")
        self._handle.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left)
        if size <= 0:
            return 0
        got = self._handle.readinto(memoryview(buffer)[:size]) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._handle.close()
        super().close()


def _record_without_nul(path: Path, span: tuple[int, int] | None = None,
                        delimiter: str = ",") -> dict[str, Any] | None:
    """``file_record(path)`` (``None`` for a ``span`` not at 0), from a pass that also looks for a NUL byte in the span.

    The Python path names a NUL byte's line, so one is a fallback. A span's lines must be whole
    rows (:class:`RowCheck`), else :class:`RangeNotRows`.
    """
    start, end = span if span is not None else (0, None)
    digest = hashlib.sha256() if start == 0 else None
    check = RowCheck(delimiter) if span is not None else None
    size = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        while block := handle.read(1 << 22):
            inside = block if end is None else block[:max(0, end - start - size)]
            if b"\x00" in inside:
                raise _Fallback("a NUL byte")
            if check is not None and inside:
                check.feed(inside)
                if not check.ok:
                    raise RangeNotRows(f"{path}: a quoted cell may span lines; counted as one shard")
            size += len(block)
            if digest is None:
                if end is not None and start + size >= end:
                    break
                continue
            digest.update(block)
    if check is not None:
        check.feed(b"", last=True)
        if not check.ok:
            raise RangeNotRows(f"{path}: a quoted cell may span lines; counted as one shard")
    return None if digest is None else {"path": str(path), "sha256": digest.hexdigest(), "bytes": size}


def _add(total: PartialStatistics | None, part: PartialStatistics) -> PartialStatistics:
    return part if total is None else total + part


def _pairs(batch: Any, index: LabelIndex, label_sep: str, hashes: array, pc: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """(rows, row of each label, its column) of a batch, its sample-id hashes appended to ``hashes``."""
    num = batch.num_rows
    sid = pc.utf8_trim_whitespace(batch.column(0))
    raw = batch.column(1)
    # comparisons with a Python "" would load pandas (pyarrow's scalar conversion): lengths compare in numpy
    if num and not arrow_ints(pc.utf8_length(sid)).all():
        raise _Fallback("an empty sample id")
    hashes.extend(map(hash, sid.to_pylist()))
    parts = pc.split_pattern(raw, label_sep)
    lengths = arrow_ints(pc.list_value_length(parts), null=0)
    names = pc.utf8_trim_whitespace(parts.flatten())
    rows = np.repeat(np.arange(num, dtype=np.int64), lengths)
    lengths = pc.utf8_length(names)
    keep = arrow_ints(lengths) != 0
    if not keep.all():
        names = names.filter(pc.cast(lengths, "bool"))  # an arrow mask: a numpy one would load pandas
        rows = rows[keep]
    encoded = pc.dictionary_encode(names)
    dictionary = encoded.dictionary
    lookup = index.columns(dictionary)  # names already indexed are looked up in arrow, new ones go through Python
    cols = lookup[arrow_ints(encoded.indices)]
    return num, rows, cols
