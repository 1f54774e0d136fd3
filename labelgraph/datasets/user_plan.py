"""Shard plans of the ``csv`` and ``jsonl`` readers: one shard per file (a glob names several), read chunk by chunk.

The rows, errors and label orders are those of :func:`~labelgraph.datasets.user.read_csv`
and :func:`~labelgraph.datasets.user.read_jsonl`; sample ids are unique within a file
(across files they are not compared: see docs/datasets.md).
"""
from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any

from ..partial import PartialStatistics
from ._common import data_error, file_record, require_file, resolve_labels
from .csv_arrow import RangeNotRows, RowCheck, arrow_csv_shard
from .plan import ShardPlan, dataset_tag, expand_shards
from .stream import LabelIndex, count_stream
from .user import LabelsArg, _check_one_hot_header, _csv_samples, _jsonl_samples

__all__ = ["plan_csv", "plan_jsonl", "byte_ranges", "FAST_CSV", "MIN_PIECE_BYTES"]

#: The smallest byte range a CSV file is cut into for several workers (smaller files stay one shard).
MIN_PIECE_BYTES = 8 << 20

#: Read label-list CSV shards with pyarrow when it is installed (the pure-Python path otherwise, and for
#: every shard the fast path declines); docs/datasets.md has the measurements.
FAST_CSV = True


def plan_csv(path: str | os.PathLike[str], split: str | None = None, *, chunk_size: int, labels: LabelsArg = None,
             delimiter: str = ",", label_sep: str = ";", name: str | None = None, pieces: int = 1,
             **_: Any) -> ShardPlan:
    """The plan of one CSV or a glob of them; every file must have the same layout (and one-hot columns).

    ``pieces`` > 1 (an engine with several workers): a label-list file of at least
    :data:`MIN_PIECE_BYTES` per piece is cut into that many byte ranges, each starting at a line
    (sample ids are then unique within a range; docs/datasets.md).

    Examples
    --------
    >>> _ = (tmp / "oh-1.csv").write_text("id,cat,dog\\na,1,1\\n")
    >>> _ = (tmp / "oh-2.csv").write_text("id,dog,cat\\nb,0,1\\n")
    >>> total = plan_csv(str(tmp / "oh-*.csv"), chunk_size=10).run()
    >>> total.labels, total.n.tolist(), total.num_samples
    (('cat', 'dog'), [2, 1], 2)
    """
    shards = expand_shards(path, "CSV file")
    wanted = resolve_labels(labels) if labels is not None else None
    layouts = []
    for shard in shards:
        require_file(shard, "CSV file")
        layouts.append(next(_csv_samples(shard, delimiter, label_sep)))
    first = layouts[0]
    for shard, layout in zip(shards[1:], layouts[1:]):
        if layout.one_hot != first.one_hot:
            raise data_error(shard, f"{'one-hot columns' if layout.one_hot else 'label lists'}, but {shards[0]} "
                                    f"has {'one-hot columns' if first.one_hot else 'label lists'}")
        if first.one_hot and set(layout.names) != set(first.names):
            extra = sorted(set(layout.names) - set(first.names))
            missing = sorted(set(first.names) - set(layout.names))
            what = f"column {extra[0]!r} is not" if extra else f"column {missing[0]!r} is missing, it is"
            raise data_error(shard, f"one-hot {what} in the header of {shards[0]}", layout.header_line)
    if first.one_hot and wanted is not None:
        for shard, layout in zip(shards, layouts):
            _check_one_hot_header(shard, layout, wanted)
    order = wanted if wanted is not None else (first.names if first.one_hot else None)
    task = functools.partial(_csv_shard, chunk_size=chunk_size, labels=wanted, delimiter=delimiter,
                             label_sep=label_sep)
    descriptions: list[Any] = [str(s) for s in shards]
    if pieces > 1 and not first.one_hot:
        descriptions = [piece for s in shards for piece in byte_ranges(s, pieces, delimiter)]
    source = {"path": os.fspath(path), "dataset": name or dataset_tag(path), "split": split, "reader": "csv",
              "format": "one-hot" if first.one_hot else "label lists"}
    if len(shards) > 1:
        source["shards"] = len(shards)
    finish = functools.partial(_finish, where=os.fspath(path), order=order, labels_file=_labels_file(labels))
    return ShardPlan(tuple(descriptions), task, finish, source)


def plan_jsonl(path: str | os.PathLike[str], split: str | None = None, *, chunk_size: int, labels: LabelsArg = None,
               name: str | None = None, **_: Any) -> ShardPlan:
    """The plan of one JSON-lines file or a glob of them.

    Examples
    --------
    >>> _ = (tmp / "t.jsonl").write_text('{"id": 1, "labels": ["b", "a"]}\\n')
    >>> plan_jsonl(tmp / "t.jsonl", chunk_size=1).run().labels
    ('a', 'b')
    """
    shards = expand_shards(path, "JSON-lines file")
    wanted = resolve_labels(labels) if labels is not None else None
    for shard in shards:
        require_file(shard, "JSON-lines file")
    task = functools.partial(_jsonl_shard, chunk_size=chunk_size, labels=wanted)
    source = {"path": os.fspath(path), "dataset": name or dataset_tag(path), "split": split, "reader": "jsonl"}
    if len(shards) > 1:
        source["shards"] = len(shards)
    finish = functools.partial(_finish, where=os.fspath(path), order=wanted, labels_file=_labels_file(labels))
    return ShardPlan(tuple(str(s) for s in shards), task, finish, source)


def _labels_file(labels: LabelsArg) -> str | None:
    return os.fspath(labels) if isinstance(labels, (str, os.PathLike)) else None


def byte_ranges(path: str | os.PathLike[str], pieces: int, delimiter: str = ",") -> list[Any]:
    """``path`` as ``pieces`` shards ``(path, start, end)`` cut at line starts; ``[path]`` when it stays whole.

    A file stays whole when a piece would be smaller than :data:`MIN_PIECE_BYTES`. Each range
    checks that its lines are whole rows (no quoted cell spans lines) while it is read, and
    raises :class:`~labelgraph.datasets.csv_arrow.RangeNotRows` when one may not be.

    Examples
    --------
    >>> p = tmp / "ranges.csv"
    >>> _ = p.write_bytes(b"a,x\\nb,y\\nc,z\\n")
    >>> byte_ranges(p, 2) == [str(p)]  # too small to cut
    True
    """
    size = os.path.getsize(path)
    if pieces < 2 or size < 2 * MIN_PIECE_BYTES:
        return [str(path)]
    pieces = min(pieces, size // MIN_PIECE_BYTES)
    cuts = [0]
    with open(path, "rb") as handle:
        for k in range(1, pieces):
            handle.seek(max(k * size // pieces - 1, cuts[-1]))
            handle.readline()  # to the start of the next line
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(str(path), lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo or lo == 0]


def _csv_shard(shard: str | tuple[str, int, int], *, chunk_size: int, labels: tuple[str, ...] | None, delimiter: str,
               label_sep: str) -> PartialStatistics:
    path, start, end = (Path(shard[0]), shard[1], shard[2]) if isinstance(shard, tuple) else (Path(shard), 0, None)
    layout = next(_csv_samples(path, delimiter, label_sep))
    span = None if end is None else (start, end)
    if not layout.one_hot and FAST_CSV:
        fast = arrow_csv_shard(path, header=layout.header and start == 0, chunk_size=chunk_size, labels=labels,
                               delimiter=delimiter, label_sep=label_sep, span=span)
        if fast is not None:
            return fast
    index = LabelIndex(path, layout.names if layout.one_hot else labels)
    if span is not None:
        _check_rows(path, start, end, delimiter)
    lines = None if span is None else _line_span(path, start, end)

    def samples() -> Any:
        stream = _csv_samples(path, delimiter, label_sep)
        next(stream)
        if lines is None:
            return stream
        return (row for row in stream if lines[0] <= row[0] <= lines[1])

    part = count_stream(path, samples, index, chunk_size)
    return part if start == 0 else dataclasses.replace(part, files=())


def _check_rows(path: Path, start: int, end: int, delimiter: str) -> None:
    check = RowCheck(delimiter)
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0 and (block := handle.read(min(1 << 22, left))):
            left -= len(block)
            check.feed(block, last=left <= 0)
            if not check.ok:
                raise RangeNotRows(f"{path}: a quoted cell may span lines; counted as one shard")


def _line_span(path: Path, start: int, end: int) -> tuple[int, int]:
    """The first and last line numbers of the lines in bytes ``[start, end)`` (they start at line starts)."""
    before = inside = 0
    last = b""
    with open(path, "rb") as handle:
        pos = 0
        while pos < end and (block := handle.read(min(1 << 24, end - pos))):
            head = block[:max(0, start - pos)]
            before += head.count(b"\n")
            inside += block.count(b"\n") - head.count(b"\n")
            pos += len(block)
            last = block[-1:]
    return before + 1, before + inside + (last != b"\n")


def _jsonl_shard(shard: str, *, chunk_size: int, labels: tuple[str, ...] | None) -> PartialStatistics:
    path = Path(shard)
    return count_stream(path, lambda: _jsonl_samples(path), LabelIndex(path, labels), chunk_size)


def _finish(total: PartialStatistics, *, where: str, order: tuple[str, ...] | None,
            labels_file: str | None) -> PartialStatistics:
    if total.num_samples == 0:
        raise data_error(where, "no samples (a dataset with zero samples has no statistics)")
    total = total.reorder(order if order is not None else sorted(total.labels))
    if labels_file is not None:
        total = dataclasses.replace(total, files=total.files + (file_record(labels_file),))
    return total
