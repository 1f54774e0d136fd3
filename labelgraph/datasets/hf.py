"""Hugging Face datasets saved locally: a ``save_to_disk`` folder (Arrow stream files) or its Parquet shards.

Label names come from the dataset's own metadata: the ``Sequence(ClassLabel)`` (or
``ClassLabel``) feature in ``dataset_info.json``, or in the ``huggingface`` entry of each
Parquet file's schema metadata.  Nothing is fetched and ``datasets`` is not imported:
the files are read with pyarrow (the ``parquet`` extra).  A folder written by
``DatasetDict.save_to_disk`` holds one folder per split (``split``, default ``train``).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
from pathlib import Path
from typing import Any, Iterator

from ..errors import ConfigError
from ..labelset import LabelSet
from ..partial import PartialStatistics
from ._common import data_error, file_record
from .parquet import (_row_group_runs, _shards, collect_labelset, count_batches, label_columns, list_kind,
                      require_pyarrow)
from .plan import ShardPlan, dataset_tag
from .stream import LabelIndex

__all__ = ["read_hf", "plan_hf", "class_label_features"]

_LISTS = ("Sequence", "List", "LargeList")


def class_label_features(features: dict[str, Any]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{column: (kind, names)}`` of the ClassLabel features: kind ``"int"`` for a list of them, ``"class"`` for one.

    Examples
    --------
    >>> feats = {"id": {"dtype": "string", "_type": "Value"},
    ...          "tags": {"feature": {"names": ["cat", "dog"], "_type": "ClassLabel"}, "_type": "List"},
    ...          "scene": {"names": ["in", "out"], "_type": "ClassLabel"}}
    >>> class_label_features(feats)
    {'tags': ('int', ('cat', 'dog')), 'scene': ('class', ('in', 'out'))}
    """
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for column, feat in (features or {}).items():
        if not isinstance(feat, dict):
            continue
        if feat.get("_type") == "ClassLabel" and isinstance(feat.get("names"), list):
            found[column] = ("class", tuple(str(x) for x in feat["names"]))
        inner = feat.get("feature")
        if feat.get("_type") in _LISTS and isinstance(inner, dict) and inner.get("_type") == "ClassLabel" \
                and isinstance(inner.get("names"), list):
            found[column] = ("int", tuple(str(x) for x in inner["names"]))
    return found


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise data_error(path, f"not readable as JSON ({exc})") from None


def _metadata_features(schema: Any) -> dict[str, Any] | None:
    raw = (schema.metadata or {}).get(b"huggingface")
    if raw is None:
        return None
    try:
        return json.loads(raw)["info"]["features"]
    except (ValueError, KeyError, TypeError):
        return None


def _open_stream(path: str) -> Any:
    pa = require_pyarrow("hf")
    try:
        return pa.ipc.open_stream(pa.memory_map(path))
    except (pa.ArrowInvalid, OSError) as exc:
        raise data_error(path, f"not an Arrow stream file ({exc})") from None


def _layout(path: Path, split: str | None) -> tuple[str, list[Path], dict[str, Any] | None, Path]:
    """(``"arrow"`` or ``"parquet"``, the files, the dataset's features, the folder or pattern named in errors)."""
    if path.is_dir() and (path / "dataset_dict.json").is_file():
        splits = _json(path / "dataset_dict.json").get("splits", [])
        split = split or "train"
        if split not in splits:
            raise data_error(path, f"no split {split!r} (splits: {', '.join(map(str, splits))})")
        path = path / split
    if path.is_dir() and (path / "state.json").is_file():
        state = _json(path / "state.json")
        files = [path / str(f["filename"]) for f in state.get("_data_files", [])]
        if not files:
            raise data_error(path / "state.json", "lists no data file")
        info = path / "dataset_info.json"
        features = _json(info).get("features") if info.is_file() else None
        return "arrow", files, features, path
    files = _shards(path)
    pq = _parquet()
    return "parquet", files, _metadata_features(pq.ParquetFile(files[0]).schema_arrow), path


def _parquet() -> Any:
    require_pyarrow("hf")
    import pyarrow.parquet as pq

    return pq


def _schema(kind: str, file: Path) -> Any:
    return _open_stream(str(file)).schema if kind == "arrow" else _parquet().ParquetFile(file).schema_arrow


def plan_hf(path: str | os.PathLike[str], split: str | None = None, *, chunk_size: int, column: str | None = None,
            name: str | None = None, **_: Any) -> ShardPlan:
    """The plan of a saved Hugging Face dataset: one shard per Arrow file or run of Parquet row groups.

    Examples
    --------
    >>> import pyarrow as pa, json
    >>> feats = {"tags": {"feature": {"names": ["cat", "dog"], "_type": "ClassLabel"}, "_type": "List"}}
    >>> d = tmp / "ds"
    >>> d.mkdir()
    >>> _ = (d / "dataset_info.json").write_text(json.dumps({"features": feats}))
    >>> _ = (d / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data.arrow"}]}))
    >>> table = pa.table({"tags": [[0, 1], [1]]})
    >>> with pa.ipc.new_stream(str(d / "data.arrow"), table.schema) as w:
    ...     w.write_table(table)
    >>> total = plan_hf(d, chunk_size=10).run()
    >>> total.labels, total.n.tolist()
    (('cat', 'dog'), [1, 2])
    """
    kind, files, features, where = _layout(Path(path), split)
    labelled = class_label_features(features or {})
    if not labelled:
        raise data_error(where, "no Sequence(ClassLabel) or ClassLabel feature in the dataset's metadata"
                                + (f" (features: {', '.join(list(features)[:10])})" if features else ""))
    if column is None:
        lists = [c for c, (k, _) in labelled.items() if k == "int"]
        choice = lists or list(labelled)
        if len(choice) > 1:
            raise ConfigError(f"{where}: several label features ({', '.join(choice)}): pass column=NAME")
        column = choice[0]
    if column not in labelled:
        raise data_error(where, f"column {column!r} is not a ClassLabel feature (label features: "
                                f"{', '.join(labelled)})")
    col_kind, names = labelled[column]
    shards: list[tuple[str, str, int, int]] = []
    for file in files:
        if not file.is_file():
            raise data_error(file, "no such file (listed in state.json)")
        schema = _schema(kind, file)
        own = class_label_features(_metadata_features(schema) or {}).get(column)
        if own is not None and own[1] != names:
            diff = next((f"{a!r} for {b!r}" for a, b in zip(own[1], names) if a != b), f"{len(own[1])} names for "
                        f"{len(names)}")
            raise data_error(file, f"column {column!r} has other ClassLabel names than {files[0].name} ({diff})")
        if column not in schema.names:
            raise data_error(file, f"no column {column!r} (columns: {', '.join(schema.names[:10])})")
        dtype = schema.field(column).type
        ok = list_kind(dtype) == "int" if col_kind == "int" else str(dtype).startswith(("int", "uint"))
        if not ok:
            raise data_error(file, f"column {column!r} is {dtype}, not "
                                   f"{'a list of class indices' if col_kind == 'int' else 'a class index'}")
        if kind == "arrow":
            shards.append(("arrow", str(file), 0, 0))
        else:
            meta = _parquet().ParquetFile(file).metadata
            shards.extend(("parquet", run[0], run[1], run[2]) for run in _row_group_runs(str(file), meta))
    options = {"column": column, "kind": col_kind, "labels": names, "chunk_size": chunk_size}
    task = functools.partial(_hf_shard, **options)
    source = {"path": os.fspath(path), "dataset": name or dataset_tag(path), "split": split,
              "reader": "hf", "column": column, "format": f"{kind} files", "shards": len(files)}
    finish = functools.partial(_finish, where=str(where), files=tuple(str(f) for f in files))
    return ShardPlan(tuple(shards), task, finish, source, run_task=functools.partial(_hf_runs, **options))


def _batches(shard: tuple[str, str, int, int], column: str, kind: str, index: LabelIndex,
             chunk_size: int) -> Iterator[Any]:
    fmt, path, start, stop = shard
    if fmt == "parquet":
        handle = _parquet().ParquetFile(path)
        for batch in handle.iter_batches(batch_size=chunk_size, row_groups=range(start, stop), columns=[column]):
            yield label_columns(batch.column(0), index, kind, path)
        return
    reader = _open_stream(path)
    for batch in reader:
        values = batch.column(batch.schema.get_field_index(column))
        for lo in range(0, len(values), chunk_size):
            yield label_columns(values.slice(lo, chunk_size), index, kind, path)


def _hf_shard(shard: tuple[str, str, int, int], *, column: str, kind: str, labels: tuple[str, ...],
              chunk_size: int) -> PartialStatistics:
    index = LabelIndex(shard[1], labels)
    return count_batches(_batches(shard, column, kind, index, chunk_size), index)


def _hf_runs(shards: tuple[tuple[str, str, int, int], ...], *, column: str, kind: str, labels: tuple[str, ...],
             chunk_size: int) -> PartialStatistics:
    """Neighbouring shards counted in one pass: chunks of ``chunk_size`` rows across files (ClassLabel order)."""
    index = LabelIndex(shards[0][1] if shards else "", labels)
    batches = (b for shard in shards for b in _batches(shard, column, kind, index, chunk_size))
    return count_batches(batches, index, chunk_size)


def _finish(total: PartialStatistics, *, where: str, files: tuple[str, ...]) -> PartialStatistics:
    if total.num_samples == 0:
        raise data_error(where, "no samples (a dataset with zero samples has no statistics)")
    return dataclasses.replace(total, files=tuple(file_record(f) for f in files))


def read_hf(path: str | os.PathLike[str], split: str | None = None, *, column: str | None = None,
            name: str | None = None, **_: Any) -> LabelSet:
    """Read a saved Hugging Face dataset whole; sample ids are row numbers from 0, labels the ClassLabel names.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.parquet as pq, json
    >>> meta = {"info": {"features": {"y": {"names": ["no", "yes"], "_type": "ClassLabel"}}}}
    >>> schema = pa.schema([("y", pa.int64())], metadata={"huggingface": json.dumps(meta)})
    >>> pq.write_table(pa.table({"y": [1, 0, None]}, schema=schema), tmp / "train.parquet")
    >>> read_hf(tmp / "train.parquet").Y.toarray().tolist()
    [[0, 1], [1, 0], [0, 0]]
    """
    plan = plan_hf(path, split, chunk_size=1 << 16, column=column, name=name)
    kw = plan.task.keywords
    index = LabelIndex(os.fspath(path), kw["labels"])
    batches = (b for shard in plan.shards for b in _batches(shard, kw["column"], kw["kind"], index, 1 << 16))
    files = [file_record(f) for f in plan.finish.keywords["files"]]
    return collect_labelset(os.fspath(path), batches, index, dict(plan.source, files=files))
