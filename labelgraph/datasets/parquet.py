"""Parquet shards with a label-list column (``list<string>``, or ``list<int>`` indexing a ``labels`` names file).

Read with pyarrow (the ``parquet`` extra), projecting the one column and reading one
row group at a time in batches of ``chunk_size`` rows.  A row is a sample; a null or
empty list is a sample without a label, a null item inside a list is skipped, and a
label listed twice on one row counts once.  Rows carry no sample id, so none is checked.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import ConfigError
from ..labelset import LabelSet
from ..partial import PartialStatistics
from ._common import build_labelset, data_error, file_record, require_file, resolve_labels
from .plan import ShardPlan, dataset_tag, expand_shards
from .stream import LabelIndex, arrow_ints, count_pending

__all__ = ["read_parquet", "plan_parquet", "require_pyarrow", "list_kind", "label_columns", "count_batches", "collect_labelset",
           "ROWS_PER_SHARD"]

#: A Parquet file with more rows than this is cut into several shards, each a run of whole row groups.
ROWS_PER_SHARD = 1 << 21

LabelsArg = Sequence[str] | str | os.PathLike[str] | None


def require_pyarrow(reader: str) -> Any:
    """``pyarrow``, or a ConfigError saying which extra installs it.

    Examples
    --------
    >>> require_pyarrow("parquet").__name__
    'pyarrow'
    """
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - pyarrow is in the test extra
        raise ConfigError(f"the {reader} reader needs pyarrow: pip install 'labelgraph[parquet]'") from None
    return pyarrow


def list_kind(dtype: Any) -> str | None:
    """``"string"`` or ``"int"`` for a list column of strings or integers, ``None`` for any other type.

    Examples
    --------
    >>> import pyarrow as pa
    >>> list_kind(pa.list_(pa.string())), list_kind(pa.large_list(pa.int16())), list_kind(pa.string())
    ('string', 'int', None)
    """
    import pyarrow as pa

    if not (pa.types.is_list(dtype) or pa.types.is_large_list(dtype)):
        return None
    item = dtype.value_type
    if pa.types.is_string(item) or pa.types.is_large_string(item):
        return "string"
    if pa.types.is_integer(item):
        return "int"
    return None


def label_columns(array: Any, index: LabelIndex, kind: str, where: str) -> tuple[int, np.ndarray, np.ndarray]:
    """``(rows, row of each label, column of each label)`` of a list array of names or of indices into ``index``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arr = pa.array([["b", "a"], None, [], ["a", None]])
    >>> ix = LabelIndex("x.parquet")
    >>> n, rows, cols = label_columns(arr, ix, "string", "x.parquet")
    >>> n, rows.tolist(), cols.tolist(), ix.names
    (4, [0, 0, 3], [0, 1, 1], ['b', 'a'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = pa.concat_arrays(array.chunks) if array.num_chunks != 1 else array.chunk(0)
    num = len(array)
    if kind == "class":  # one class index a row (a Hugging Face ClassLabel); null or -1: no label
        codes = arrow_ints(array, null=-1)
        keep = codes != -1
        _check_range(codes[keep], len(index.names), where)
        return num, np.flatnonzero(keep).astype(np.int64), codes[keep]
    counts = arrow_ints(pc.list_value_length(array), null=0)  # a null list: no labels
    values = array.flatten()
    rows = np.repeat(np.arange(num, dtype=np.int64), counts)
    if values.null_count:
        keep = pc.is_valid(values)
        values, rows = values.filter(keep), rows[arrow_ints(keep.cast("int8")) == 1]
    if kind == "int":
        codes = arrow_ints(values)
        _check_range(codes, len(index.names), where)
        return num, rows, codes
    encoded = pc.dictionary_encode(values)
    lookup = index.columns(encoded.dictionary)
    return num, rows, lookup[arrow_ints(encoded.indices)]


def _check_range(codes: np.ndarray, c: int, where: str) -> None:
    bad = (codes < 0) | (codes >= c)
    if bad.any():
        raise data_error(where, f"label index {int(codes[bad][0])} is out of range 0..{c - 1} ({c} label names)")


def _shards(path: str | os.PathLike[str]) -> list[Path]:
    if os.path.isdir(path):
        found = sorted(Path(path).glob("*.parquet"))
        if not found:
            raise data_error(path, "no *.parquet file in the folder")
        return found
    return [require_file(p, "Parquet file") for p in expand_shards(path, "Parquet file")]


def _check_column(shards: list[Path], column: str) -> tuple[str, list[tuple[str, int, int]]]:
    """The column's kind (same in every shard) and the shards' ``(path, first row group, stop)`` runs."""
    pq = _pq()
    kind, first_type, runs = None, None, []
    for shard in shards:
        try:
            meta = pq.ParquetFile(shard)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError with its own wording
            raise data_error(shard, f"not readable as Parquet ({exc})") from None
        schema = meta.schema_arrow
        if column not in schema.names:
            raise data_error(shard, f"no column {column!r} (columns: {', '.join(schema.names[:10])})")
        dtype = schema.field(column).type
        this = list_kind(dtype)
        if this is None:
            raise data_error(shard, f"column {column!r} is {dtype}, not a list of strings or of integers")
        if kind is None:
            kind, first_type = this, dtype
        elif this != kind:
            raise data_error(shard, f"column {column!r} is {dtype}, but {shards[0]} has {first_type}")
        runs.extend(_row_group_runs(str(shard), meta.metadata))
    assert kind is not None
    return kind, runs


def _row_group_runs(shard: str, meta: Any) -> Iterator[tuple[str, int, int]]:
    start, rows = 0, 0
    for k in range(meta.num_row_groups):
        rows += meta.row_group(k).num_rows
        if rows >= ROWS_PER_SHARD:
            yield shard, start, k + 1
            start, rows = k + 1, 0
    if start < meta.num_row_groups or meta.num_row_groups == 0:
        yield shard, start, meta.num_row_groups


def _pq() -> Any:
    require_pyarrow("parquet")
    import pyarrow.parquet as pq

    return pq


def plan_parquet(path: str | os.PathLike[str], split: str | None = None, *, chunk_size: int, column: str = "labels",
                 labels: LabelsArg = None, name: str | None = None, **_: Any) -> ShardPlan:
    """The plan of Parquet shards (a file, a folder of ``*.parquet``, or a glob): one shard per run of row groups.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> pq.write_table(pa.table({"labels": [["cat", "dog"], ["dog"], None]}), tmp / "p-0.parquet")
    >>> pq.write_table(pa.table({"labels": [["emu"]]}), tmp / "p-1.parquet")
    >>> total = plan_parquet(str(tmp / "p-*.parquet"), chunk_size=2).run()
    >>> total.labels, total.n.tolist(), total.num_samples, total.empty
    (('cat', 'dog', 'emu'), [1, 2, 1], 4, 1)
    """
    shards = _shards(path)
    kind, runs = _check_column(shards, column)
    wanted = resolve_labels(labels) if labels is not None else None
    if kind == "int" and wanted is None:
        raise ConfigError(f"column {column!r} of {shards[0]} holds label indices: pass labels= (a names file, "
                          f"one name a line, in index order)")
    options = {"column": column, "kind": kind, "labels": wanted, "chunk_size": chunk_size}
    task = functools.partial(_parquet_shard, **options)
    source = {"path": os.fspath(path), "dataset": name or dataset_tag(path), "split": split, "reader": "parquet",
              "column": column, "shards": len(shards)}
    finish = functools.partial(_finish, where=os.fspath(path), order=wanted,
                               labels_file=os.fspath(labels) if isinstance(labels, (str, os.PathLike)) else None,
                               files=tuple(str(s) for s in shards))
    return ShardPlan(tuple(runs), task, finish, source, run_task=functools.partial(_parquet_runs, **options))


def _batches(run: tuple[str, int, int], column: str, kind: str, index: LabelIndex,
             chunk_size: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    shard, start, stop = run
    index.path = shard  # an unknown label names the file it is in
    handle = _pq().ParquetFile(shard)
    batches = handle.iter_batches(batch_size=chunk_size, row_groups=range(start, stop), columns=[column])
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:  # pyarrow's ArrowInvalid/OSError on a damaged page, in its own words
            raise data_error(shard, f"not readable as Parquet ({exc})") from None
        yield label_columns(batch.column(0), index, kind, shard)


def _parquet_shard(run: tuple[str, int, int], *, column: str, kind: str, labels: tuple[str, ...] | None,
                   chunk_size: int) -> PartialStatistics:
    return _parquet_runs((run,), column=column, kind=kind, labels=labels, chunk_size=chunk_size)


def _parquet_runs(runs: tuple[tuple[str, int, int], ...], *, column: str, kind: str, labels: tuple[str, ...] | None,
                  chunk_size: int) -> PartialStatistics:
    """Several runs of row groups counted in one pass: one label index, chunks of ``chunk_size`` rows across files."""
    index = LabelIndex(runs[0][0] if runs else "", labels)
    batches = (b for run in runs for b in _batches(run, column, kind, index, chunk_size))
    return count_batches(batches, index, chunk_size)


def count_batches(batches: Iterator[tuple[int, np.ndarray, np.ndarray]], index: LabelIndex,
                  chunk_size: int | None = None) -> PartialStatistics:
    """The partial statistics of ``(rows, row of each label, column of each label)`` batches over ``index``.

    Batches are joined into chunks of up to ``chunk_size`` rows (with none, each batch is a
    chunk) before their product; an open ``index`` gives partials in sorted label order.

    Examples
    --------
    >>> ix = LabelIndex("x", ("a", "b"))
    >>> p = count_batches(iter([(2, np.array([0, 0]), np.array([0, 1])), (1, np.array([0]), np.array([1]))]), ix)
    >>> p.n.tolist(), p.num_samples, p.M.toarray().tolist()
    ([1, 2], 3, [[0, 1], [1, 0]])
    """
    total: PartialStatistics | None = None
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []
    have = 0
    for batch in batches:
        pending.append(batch)
        have += batch[0]
        if chunk_size is None or have >= chunk_size:
            part = count_pending(pending, index)
            total = part if total is None else total + part
            pending, have = [], 0
    if pending:
        part = count_pending(pending, index)
        total = part if total is None else total + part
    return total if total is not None else PartialStatistics.empty_over(index.names, sort=not index.fixed)


def _finish(total: PartialStatistics, *, where: str, order: tuple[str, ...] | None, labels_file: str | None,
            files: tuple[str, ...]) -> PartialStatistics:
    if total.num_samples == 0:
        raise data_error(where, "no samples (a dataset with zero samples has no statistics)")
    total = total.reorder(order if order is not None else sorted(total.labels))
    records = tuple(file_record(f) for f in files) + ((file_record(labels_file),) if labels_file else ())
    return dataclasses.replace(total, files=records)


def read_parquet(path: str | os.PathLike[str], split: str | None = None, *, column: str = "labels",
                 labels: LabelsArg = None, name: str | None = None, **_: Any) -> LabelSet:
    """Read Parquet shards whole into a LabelSet; sample ids are row numbers across the shards, from 0.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> pq.write_table(pa.table({"tags": [[2, 0], [], [1]]}), tmp / "ints.parquet")
    >>> ls = read_parquet(tmp / "ints.parquet", column="tags", labels=["cat", "dog", "emu"])
    >>> ls.Y.toarray().tolist(), ls.sample_ids
    ([[1, 0, 1], [0, 0, 0], [0, 1, 0]], ['0', '1', '2'])
    """
    plan = plan_parquet(path, split, chunk_size=1 << 16, column=column, labels=labels, name=name)
    wanted = resolve_labels(labels) if labels is not None else None
    kind = plan.task.keywords["kind"]
    index = LabelIndex(os.fspath(path), wanted)
    batches = (b for run in plan.shards for b in _batches(run, column, kind, index, 1 << 16))
    files = list(plan.finish.keywords["files"]) + [f for f in [plan.finish.keywords["labels_file"]] if f]
    return collect_labelset(os.fspath(path), batches, index, dict(plan.source, files=[file_record(f) for f in files]))


def collect_labelset(path: str, batches: Iterator[tuple[int, np.ndarray, np.ndarray]], index: LabelIndex,
                     source: dict[str, Any]) -> LabelSet:
    """A LabelSet of all ``batches`` (sample ids: row numbers from 0); an open ``index`` ends in sorted order.

    Examples
    --------
    >>> ls = collect_labelset("x", iter([(2, np.array([0, 1]), np.array([0, 0]))]), LabelIndex("x", ("a",)), {})
    >>> ls.Y.toarray().tolist(), ls.sample_ids
    ([[1], [1]], ['0', '1'])
    """
    rows_all, cols_all, offset = [], [], 0
    for num, rows, cols in batches:
        rows_all.append(rows + offset)
        cols_all.append(cols)
        offset += num
    names = list(index.names)
    cols = np.concatenate(cols_all) if cols_all else np.zeros(0, dtype=np.int64)
    if not index.fixed:
        order = sorted(range(len(names)), key=names.__getitem__)
        remap = np.empty(len(names), dtype=np.int64)
        remap[order] = np.arange(len(names))
        names, cols = [names[k] for k in order], remap[cols]
    rows = np.concatenate(rows_all) if rows_all else np.zeros(0, dtype=np.int64)
    return build_labelset(path, [str(k) for k in range(offset)], names, rows, cols, source)
