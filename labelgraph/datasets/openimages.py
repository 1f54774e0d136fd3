"""Open Images image-level labels: the official ``*-annotations-*-imagelabels*.csv`` files.

Rows are ``ImageID,Source,LabelName,Confidence``.  A row is a label when its
Confidence is at least ``min_confidence`` (0.5): human-verified rows are 1 (positive)
or 0 (verified negative, not a label); machine-generated rows carry a score.
``source`` keeps only rows of the named sources (``verification``,
``crowdsource-verification``, ``machine`` …).  ``N`` counts distinct ImageIDs (after the
source filter), an image with only negative rows being a sample without a label.

Label names come from ``classes`` (``oidv7-class-descriptions.csv``: ``LabelName,DisplayName``
under a header, or the boxable-classes file without one); a MID the file does not
describe keeps its MID and is named in one warning; a display name shared by several
MIDs becomes ``Name (MID)`` for each.  ``order``: ``name`` (display names sorted) or ``mid``.

Read with pyarrow's CSV reader (the ``parquet`` extra), chunk by chunk: the rows of the
last image of a chunk are carried into the next one, so an image whose rows straddle a
chunk boundary counts once.  The rows of one image must be consecutive in a file (as in
the official files); an image whose rows come back after other images is an error.  Several
files (a glob) must not share an ImageID: the official splits are disjoint, so an id in two
files is the same file given twice or a bad join, an error naming both files and the id
(checked before counting, from an 8-byte hash per image, see :func:`images_distinct`).
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import logging
import os
from array import array
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import ConfigError
from ..labelset import LabelSet
from ..partial import PartialStatistics
from ._common import build_labelset, data_error, file_record, require_file, text_lines
from .parquet import require_pyarrow
from .plan import ShardPlan, expand_shards
from .stream import LabelIndex, count_pending

__all__ = ["read_openimages", "plan_openimages", "read_class_descriptions", "images_distinct", "COLUMNS"]

log = logging.getLogger(__name__)

#: The columns of the official image-level label files.
COLUMNS = ("ImageID", "Source", "LabelName", "Confidence")
_SPLITS = ("train", "validation", "test")


def read_class_descriptions(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{MID: display name}`` of a class-descriptions CSV, with or without its ``LabelName,DisplayName`` header.

    Examples
    --------
    >>> _ = (tmp / "boxable.csv").write_text("/m/011k07,Tortoise\\n/m/0120dh,Sea turtle\\n")
    >>> read_class_descriptions(tmp / "boxable.csv")
    {'/m/011k07': 'Tortoise', '/m/0120dh': 'Sea turtle'}
    """
    path = require_file(path, "class-descriptions file")
    out: dict[str, str] = {}
    lines = ((lineno, text) for lineno, text in text_lines(path, "class-descriptions file") if text.strip())
    for k, (lineno, text) in enumerate(lines):
        row = next(csv.reader([text]))
        if k == 0 and row and not row[0].startswith(("/m/", "/g/")):
            continue  # the header of oidv7-class-descriptions.csv; the boxable file has none
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise data_error(path, f"expected 'MID,DisplayName', got {text.strip()[:60]!r}", lineno)
        mid = row[0].strip()
        if mid in out:
            raise data_error(path, f"MID {mid!r} is described twice", lineno)
        out[mid] = row[1].strip()
    if not out:
        raise data_error(path, "no class description")
    return out


def _sources(source: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if source is None:
        return None
    items = source.split(",") if isinstance(source, str) else list(source)
    kept = tuple(s.strip() for s in items if s.strip())
    if not kept:
        raise ConfigError("source= names no source (e.g. verification, crowdsource-verification, machine)")
    return kept


def _check_header(path: Path, need_source: bool) -> None:
    first = next((text for _, text in text_lines(path, "CSV file") if text.strip()), None)
    if first is None:
        raise data_error(path, "empty file (zero samples)")
    header = [c.strip() for c in next(csv.reader([first]))]
    needed = [c for c in COLUMNS if c != "Source" or need_source]
    missing = [c for c in needed if c not in header]
    if missing:
        raise data_error(path, f"no column {missing[0]!r} (an Open Images label file has the header "
                               f"{','.join(COLUMNS)}; this one has {','.join(header)[:80]})", 1)


def plan_openimages(path: str | os.PathLike[str], split: str | None = None, *, chunk_size: int,
                    classes: str | os.PathLike[str] | None = None, source: str | Sequence[str] | None = None,
                    order: str = "name", min_confidence: float = 0.5, name: str | None = None,
                    **_: Any) -> ShardPlan:
    """The plan of Open Images label CSVs (a file or a glob): one shard per file.

    Examples
    --------
    >>> _ = (tmp / "labels.csv").write_text("ImageID,Source,LabelName,Confidence\\n"
    ...     "a,verification,/m/cat,1\\na,verification,/m/dog,0\\nb,machine,/m/dog,0.9\\n")
    >>> _ = (tmp / "classes.csv").write_text("LabelName,DisplayName\\n/m/cat,Cat\\n/m/dog,Dog\\n")
    >>> total = plan_openimages(tmp / "labels.csv", classes=tmp / "classes.csv", chunk_size=1).run()
    >>> total.labels, total.n.tolist(), total.num_samples
    (('Cat', 'Dog'), [1, 1], 2)
    >>> plan_openimages(tmp / "labels.csv", source="verification", chunk_size=8).run().n.tolist()
    [1]
    """
    if order not in ("name", "mid"):
        raise ConfigError(f"order={order!r}: use 'name' (display names sorted) or 'mid'")
    require_pyarrow("openimages")
    kept = _sources(source)
    shards = expand_shards(path, "CSV file")
    for shard in shards:
        require_file(shard, "CSV file")
        _check_header(shard, kept is not None)
    images_distinct(shards)
    described = read_class_descriptions(classes) if classes is not None else None
    task = functools.partial(_shard, chunk_size=chunk_size, sources=kept, min_confidence=float(min_confidence))
    src = {"path": os.fspath(path), "dataset": name or "openimages", "split": split or _guess_split(shards[0]),
           "reader": "openimages", "sources": list(kept) if kept else None, "min_confidence": float(min_confidence),
           "order": order}
    if len(shards) > 1:
        src["shards"] = len(shards)
    finish = functools.partial(_finish, where=os.fspath(path), described=described, order=order,
                               classes_file=os.fspath(classes) if classes is not None else None)
    return ShardPlan(tuple(str(s) for s in shards), task, finish, src)


def images_distinct(paths: Sequence[str | os.PathLike[str]], chunk_size: int = 1 << 20) -> None:
    """Raise when an ImageID is in more than one of ``paths``, naming both files and the id.

    A pre-pass in the calling process, before any shard is counted, so it holds on
    every engine: each file's ImageID column alone is read, and only a 64-bit hash
    of each distinct id is kept (8 bytes per image over all files).  A hash of one
    file already seen in an earlier one is confirmed on a second pass that keeps
    only the ids with that hash.  Every row counts, whatever ``source`` keeps.

    Raises
    ------
    DataError
        ``<later file>: ImageID '<id>' is also in <earlier file> ...``.

    Examples
    --------
    >>> head = "ImageID,Source,LabelName,Confidence\\n"
    >>> _ = (tmp / "train.csv").write_text(head + "a,h,/m/x,1\\nb,h,/m/x,1\\n")
    >>> _ = (tmp / "validation.csv").write_text(head + "c,h,/m/x,1\\n")
    >>> images_distinct([tmp / "train.csv", tmp / "validation.csv"])
    >>> _ = (tmp / "copy.csv").write_text(head + "c,h,/m/y,1\\nb,h,/m/y,1\\n")
    >>> images_distinct([tmp / "train.csv", tmp / "copy.csv"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...copy.csv: ImageID 'b' is also in ...train.csv (...)
    """
    if len(paths) < 2:  # one file: nothing to compare, and no reason to read it twice
        return
    seen = np.empty(0, dtype=np.int64)  # sorted hashes of the images of the files before this one
    for k, path in enumerate(paths):
        blocks = [np.fromiter((hash(i) for i in ids), dtype=np.int64, count=len(ids))
                  for ids in _image_ids(path, chunk_size)]
        mine = np.unique(np.concatenate(blocks)) if blocks else seen[:0]
        if seen.size and mine.size:
            at = np.minimum(np.searchsorted(seen, mine), seen.size - 1)
            found = mine[seen[at] == mine]
            if found.size:
                _name_shared(paths[:k], path, set(found.tolist()), chunk_size)
        seen = np.concatenate([seen, mine])
        seen.sort()


def _image_ids(path: str | os.PathLike[str], chunk_size: int) -> Iterator[list[str]]:
    """The distinct ImageIDs of each block of the file (an image's rows are consecutive: few repeats)."""
    pa = require_pyarrow("openimages")
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        reader = pacsv.open_csv(os.fspath(path),
                                read_options=pacsv.ReadOptions(block_size=max(1 << 16, chunk_size * 64)),
                                convert_options=pacsv.ConvertOptions(include_columns=["ImageID"],
                                                                     column_types={"ImageID": pa.string()}))
        for batch in reader:
            yield pc.unique(batch.column(0)).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise data_error(path, f"not readable as an Open Images label file ({exc})") from None


def _name_shared(earlier: Sequence[str | os.PathLike[str]], path: str | os.PathLike[str], hashes: set[int],
                 chunk_size: int) -> None:
    """Second pass: the ids of ``path`` with one of ``hashes``, looked up in the earlier files."""
    candidates = {i for ids in _image_ids(path, chunk_size) for i in ids if hash(i) in hashes}
    for other in earlier:
        for ids in _image_ids(other, chunk_size):
            shared = sorted(candidates.intersection(ids))
            if shared:
                raise data_error(path, f"ImageID {shared[0]!r} is also in {os.fspath(other)} (the Open Images "
                                       f"splits are disjoint: the same file given twice, or a bad join)")


def _guess_split(path: Path) -> str | None:
    stem = path.name.lower()
    return next((s for s in _SPLITS if stem.startswith(s) or f"-{s}-" in stem or f"_{s}_" in stem), None)


def _tables(path: str, chunk_size: int, sources: tuple[str, ...] | None) -> Iterator[Any]:
    """The file's rows (source-filtered) in tables of at most ``chunk_size`` rows."""
    pa = require_pyarrow("openimages")
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    columns = list(COLUMNS) if sources is not None else [c for c in COLUMNS if c != "Source"]
    types = {c: pa.string() for c in columns}
    types["Confidence"] = pa.float64()
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=max(1 << 16, chunk_size * 64)),
                                convert_options=pacsv.ConvertOptions(include_columns=columns, column_types=types))
        for batch in reader:
            if sources is not None:
                batch = batch.filter(pc.is_in(batch.column("Source"), value_set=pa.array(list(sources))))
            for lo in range(0, batch.num_rows, chunk_size):
                yield pa.Table.from_batches([batch.slice(lo, chunk_size)])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise data_error(path, f"not readable as an Open Images label file ({exc})") from None


def _images(table: Any, index: LabelIndex, min_confidence: float) -> tuple[int, np.ndarray, np.ndarray, list[str]]:
    """(images, image row of each label, its column, the image ids) of rows grouped by ImageID."""
    import pyarrow.compute as pc

    images = pc.dictionary_encode(table.column("ImageID").combine_chunks())
    ids = images.dictionary.to_pylist()
    positive = pc.fill_null(pc.greater_equal(table.column("Confidence").combine_chunks(), min_confidence), False)
    rows = images.indices.filter(positive)
    mids = pc.dictionary_encode(table.column("LabelName").combine_chunks().filter(positive))
    lookup = np.array([index.column(str(m), None) for m in mids.dictionary.to_pylist()], dtype=np.int64)
    cols = lookup[mids.indices.to_numpy(zero_copy_only=False).astype(np.int64)]
    return len(ids), rows.to_numpy(zero_copy_only=False).astype(np.int64), cols, ids


def _grouped(path: str, chunk_size: int, sources: tuple[str, ...] | None) -> Iterator[Any]:
    """Tables holding whole images: the rows of each chunk's last image move on to the next chunk."""
    import pyarrow as pa
    import pyarrow.compute as pc

    carry = None
    for table in _tables(path, chunk_size, sources):
        if table.num_rows == 0:
            continue
        table = pa.concat_tables([carry, table]) if carry is not None else table
        last = table.column("ImageID")[-1]
        is_last = pc.equal(table.column("ImageID"), last)
        carry = table.filter(is_last)
        done = table.filter(pc.invert(is_last))
        if done.num_rows:
            yield done
    if carry is not None:
        yield carry


def _shard(shard: str, *, chunk_size: int, sources: tuple[str, ...] | None,
           min_confidence: float) -> PartialStatistics:
    index = LabelIndex(shard)
    hashes = array("q")
    total: PartialStatistics | None = None
    for table in _grouped(shard, chunk_size, sources):
        num, rows, cols, ids = _images(table, index, min_confidence)
        hashes.extend(hash(i) for i in ids)
        part = count_pending([(num, rows, cols)], index)  # an open index: a sorted partial
        total = part if total is None else total + part
    _consecutive(shard, hashes, sources)
    total = total if total is not None else PartialStatistics.empty_over(index.names, sort=True)
    return dataclasses.replace(total, files=(file_record(shard),))


def _consecutive(path: str, hashes: Any, sources: tuple[str, ...] | None) -> None:
    """An image counted in two groups had its rows split by other images' rows: name it and the line."""
    h = np.sort(np.asarray(hashes, dtype=np.int64))
    repeated = set(h[1:][h[1:] == h[:-1]].tolist())
    if not repeated:
        return
    seen: set[str] = set()
    previous = None
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        col, src = header.index("ImageID"), header.index("Source") if "Source" in header else None
        for row in rows:
            if not row or (sources is not None and src is not None and row[src] not in sources):
                continue
            image = row[col]
            if image != previous and image in seen:
                raise data_error(path, f"the rows of image {image!r} are not consecutive (they resume after other "
                                       f"images; sort the file by ImageID)", rows.line_num)
            if hash(image) in repeated:
                seen.add(image)
            previous = image


def _label_names(mids: Sequence[str], described: dict[str, str] | None, where: str) -> list[str]:
    if described is None:
        return list(mids)
    unknown = [m for m in mids if m not in described]
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        log.warning("%s: %d MID%s with no class description, kept under the MID: %s", where, len(unknown),
                    "" if len(unknown) == 1 else "s", shown)
    names = [described.get(m, m) for m in mids]
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return [f"{n} ({m})" if counts[n] > 1 else n for n, m in zip(names, mids)]


def _finish(total: PartialStatistics, *, where: str, described: dict[str, str] | None, order: str,
            classes_file: str | None) -> PartialStatistics:
    if total.num_samples == 0:
        raise data_error(where, "no samples (a dataset with zero samples has no statistics)")
    names = _label_names(total.labels, described, where)
    named = dataclasses.replace(total, labels=tuple(names))
    by_mid = dict(zip(total.labels, names))
    final = [by_mid[m] for m in sorted(total.labels)] if order == "mid" else sorted(names)
    named = named.reorder(final)
    if classes_file is not None:
        named = dataclasses.replace(named, files=named.files + (file_record(classes_file),))
    return named


def read_openimages(path: str | os.PathLike[str], split: str | None = None, *,
                    classes: str | os.PathLike[str] | None = None, source: str | Sequence[str] | None = None,
                    order: str = "name", min_confidence: float = 0.5, name: str | None = None,
                    **_: Any) -> LabelSet:
    """Read Open Images label CSVs whole (any row order); sample ids are the ImageIDs in order of first row.

    Examples
    --------
    >>> _ = (tmp / "l.csv").write_text("ImageID,Source,LabelName,Confidence\\nx,h,/m/b,1\\ny,h,/m/a,1\\n"
    ...                                "x,h,/m/a,1\\n")
    >>> ls = read_openimages(tmp / "l.csv", order="mid")
    >>> ls.sample_ids, ls.labels, ls.Y.toarray().tolist()
    (['x', 'y'], ('/m/a', '/m/b'), [[1, 1], [1, 0]])
    """
    import pyarrow as pa

    plan = plan_openimages(path, split, chunk_size=1 << 20, classes=classes, source=source, order=order,
                           min_confidence=min_confidence, name=name)
    kw = plan.task.keywords
    table = pa.concat_tables(t for shard in plan.shards for t in _tables(shard, 1 << 20, kw["sources"]))
    index = LabelIndex(os.fspath(path))
    num, rows, cols, ids = _images(table, index, kw["min_confidence"])
    fin = plan.finish.keywords
    names = _label_names(index.names, fin["described"], os.fspath(path))
    final = [n for _, n in sorted(zip(index.names, names))] if order == "mid" else sorted(names)
    files = [file_record(s) for s in plan.shards] + ([file_record(classes)] if classes is not None else [])
    ls = build_labelset(os.fspath(path), ids, names, rows, cols, dict(plan.source, files=files))
    return ls.reorder(final)
