"""Readers for a user's own labels: CSV, JSON lines, and 0/1 label matrices with a label-list file.

Formats
-------
``csv``
    Either label lists, ``sample,label;label`` per row (an optional header
    ``sample,labels``), or one-hot columns under a header ``sample,<label>,<label>…``
    with ``0``/``1`` cells.  The header decides: a first row whose second cell is
    ``labels``/``label``/``tags``, or a file of two columns whose cells are not
    all 0/1, holds label lists; otherwise the first row names one-hot columns.
``jsonl``
    One JSON object a line: ``{"id": "img1", "labels": ["cat", "dog"]}``.
``labelmatrix``
    0/1 rows (whitespace- or comma-separated), each optionally preceded by a
    sample id, with the label names in a separate file (``labels=PATH``), e.g.
    the DeepHash COCO lists ``train2014/COCO_train2014_000000566612.jpg 0 1 0 …``.
    ``indices=True`` reads rows of 0-based label indices instead
    (``COCO_train2014_000000000009 45 49 50``).

Without a ``labels`` option, the label order of ``csv`` and ``jsonl`` is the
sorted set of names seen; with one (names or a file), a name outside it is a
:class:`~labelgraph.errors.DataError` naming ``file:line`` and the label.
"""
from __future__ import annotations

import contextlib
import csv
import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import ConfigError
from ..labelset import LabelSet
from ._common import (MAX_LINE_BYTES, build_labelset, check_label, data_error, file_record, raw_lines,
                      require_file, resolve_labels, text_lines)
from .stream import LabelIndex

__all__ = ["read_csv", "read_jsonl", "read_labelmatrix"]

log = logging.getLogger(__name__)

LabelsArg = Sequence[str] | str | os.PathLike[str] | None
_LIST_HEADERS = {"labels", "label", "tags"}


def _source(path: Path, reader: str, name: str | None, split: str | None, labels: LabelsArg,
            **notes: Any) -> dict[str, Any]:
    files = [file_record(path)]
    if isinstance(labels, (str, os.PathLike)):
        files.append(file_record(labels))
    src = {"dataset": name or path.stem, "split": split, "reader": reader, "files": files}
    src.update(notes)
    return src


class _Collector(LabelIndex):
    """Label names → columns (:class:`LabelIndex`) and the (row, column) pairs of a whole file."""

    def __init__(self, path: Path, labels: LabelsArg) -> None:
        super().__init__(path, resolve_labels(labels) if labels is not None else None)
        self.rows: list[int] = []
        self.cols: list[int] = []

    def add(self, row: int, name: str, lineno: int) -> None:
        self.rows.append(row)
        self.cols.append(self.column(name, lineno))

    def finish(self, sample_ids: list[str], source: dict[str, Any]) -> LabelSet:
        if self.fixed:
            return build_labelset(self.path, sample_ids, self.names, self.rows, self.cols, source)
        order = sorted(range(len(self.names)), key=lambda k: self.names[k])
        new_col = {old: new for new, old in enumerate(order)}
        cols = [new_col[c] for c in self.cols]
        return build_labelset(self.path, sample_ids, [self.names[k] for k in order], self.rows, cols, source)


def _check_id(path: Path, sid: str, seen: dict[str, int], lineno: int) -> None:
    if not sid:
        raise data_error(path, "empty sample id", lineno)
    if sid in seen:
        raise data_error(path, f"duplicate sample id {sid!r} (first on line {seen[sid]})", lineno)
    seen[sid] = lineno


def read_csv(path: str | os.PathLike[str], split: str | None = None, *, labels: LabelsArg = None,
             delimiter: str = ",", label_sep: str = ";", name: str | None = None, **_: Any) -> LabelSet:
    """Read a CSV of label lists or one-hot columns (the header decides; see the module docs).

    Parameters
    ----------
    path : path
        The CSV file.
    labels : sequence of str or path, optional
        The label list and order (names or a file, one name a line).
    delimiter : str
        Column separator.
    label_sep : str
        Separator of the labels within the label-list cell.
    name : str, optional
        Dataset name recorded in ``source`` (default: the file's stem).

    Examples
    --------
    >>> d = tmp
    >>> _ = (d / "mine.csv").write_text("sample,labels\\nimg1,cat;dog\\nimg2,dog\\nimg3,\\n")
    >>> ls = read_csv(d / "mine.csv")
    >>> ls.labels, ls.Y.toarray().tolist()
    (('cat', 'dog'), [[1, 1], [0, 1], [0, 0]])
    >>> _ = (d / "onehot.csv").write_text("id,cat,dog\\nimg1,1,1\\nimg2,0,1\\n")
    >>> read_csv(d / "onehot.csv").Y.toarray().tolist()
    [[1, 1], [0, 1]]
    """
    path = require_file(path, "CSV file")
    samples = _csv_samples(path, delimiter, label_sep)
    layout = next(samples)
    if layout.one_hot:
        if labels is not None:
            _check_one_hot_header(path, layout, resolve_labels(labels))
        coll = _Collector(path, layout.names)
    else:
        coll = _Collector(path, labels)
    sample_ids: list[str] = []
    seen: dict[str, int] = {}
    for lineno, sid, names in samples:
        _check_id(path, sid, seen, lineno)
        r = len(sample_ids)
        sample_ids.append(sid)
        for label in names:
            coll.add(r, label, lineno)
    if not layout.one_hot:
        return coll.finish(sample_ids, _source(path, "csv", name, split, labels, format="label lists"))
    ls = build_labelset(path, sample_ids, layout.names, coll.rows, coll.cols,
                        _source(path, "csv", name, split, labels, format="one-hot"))
    return ls.reorder(resolve_labels(labels)) if labels is not None else ls


@dataclass(frozen=True)
class _CsvLayout:
    """What a CSV's first rows say: one-hot columns (their names, the header's line) or label lists."""

    one_hot: bool
    names: tuple[str, ...] = ()
    header_line: int = 0
    header: bool = False


def _csv_samples(path: Path, delimiter: str, label_sep: str) -> Iterator[Any]:
    """The layout of ``path``, then ``(line, sample id, label names)`` for each sample (ids not yet checked)."""
    reader = csv.reader((text for _, text in text_lines(path, "CSV file")), delimiter=delimiter)
    with _csv_errors(path, reader):
        numbered = ((reader.line_num, row) for row in reader if any(c.strip() for c in row))
        first_pair = next(numbered, None)
        if first_pair is None:
            raise data_error(path, "empty file (zero samples)")
        second_pair = next(numbered, None)
        first = [c.strip() for c in first_pair[1]]
        data = itertools.chain([second_pair] if second_pair else [], numbered)
        if _is_one_hot(first, second_pair[1] if second_pair else None):
            yield from _one_hot_rows(path, first_pair[0], first, data)
            return
        header = len(first) >= 2 and first[1].lower() in _LIST_HEADERS
        yield _CsvLayout(False, header=header)
        if not header:
            data = itertools.chain([first_pair], data)
        for lineno, row in data:
            if len(row) > 2:
                raise data_error(path, f"expected 'sample{delimiter}label{label_sep}label', got {len(row)} columns",
                                 lineno)
            labels = (x.strip() for x in row[1].split(label_sep)) if len(row) == 2 else ()
            yield lineno, row[0].strip(), [x for x in labels if x]


@contextlib.contextmanager
def _csv_errors(path: Path, reader: Any) -> Iterator[None]:
    """Let a cell be as long as a line may be; a :mod:`csv` error becomes a DataError naming ``path:line``."""
    previous = csv.field_size_limit(MAX_LINE_BYTES)
    try:
        yield
    except csv.Error as exc:
        raise data_error(path, f"not readable as CSV ({exc})", reader.line_num) from None
    finally:
        csv.field_size_limit(previous)


def _is_one_hot(first: list[str], second: list[str] | None) -> bool:
    if len(first) < 2 or first[1].lower() in _LIST_HEADERS:
        return False
    if all(c in ("0", "1") for c in first[1:]):
        return False  # a data row, not a header
    if second is None:
        return len(first) > 2
    cells = [c.strip() for c in second[1:]]
    return len(second) == len(first) and all(c in ("0", "1") for c in cells)


def _one_hot_rows(path: Path, header_line: int, header: list[str], rows: Any) -> Iterator[Any]:
    names = [check_label(path, n, header_line) for n in header[1:]]
    if any(not n for n in names):
        raise data_error(path, "empty label name in the header", header_line)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise data_error(path, f"label {dup!r} appears twice in the header", header_line)
    yield _CsvLayout(True, tuple(names), header_line)
    for lineno, row in rows:
        if len(row) != len(header):
            raise data_error(path, f"{len(row)} columns, the header has {len(header)}", lineno)
        present = []
        for c, cell in enumerate(row[1:]):
            cell = cell.strip()
            if cell == "1":
                present.append(names[c])
            elif cell != "0":
                raise data_error(path, f"column {names[c]!r}: value {cell!r} is not 0 or 1", lineno)
        yield lineno, row[0].strip(), present


def _check_one_hot_header(path: Path, layout: _CsvLayout, wanted: Sequence[str]) -> None:
    """A one-hot header must name exactly the labels of the label list."""
    known = set(wanted)
    for n in layout.names:
        if n not in known:
            raise data_error(path, f"label {n!r} is not in the label list", layout.header_line)
    missing = [n for n in wanted if n not in set(layout.names)]
    if missing:
        raise data_error(path, f"the header lacks label(s) of the label list: {', '.join(missing[:5])}",
                         layout.header_line)


def read_jsonl(path: str | os.PathLike[str], split: str | None = None, *, labels: LabelsArg = None,
               name: str | None = None, **_: Any) -> LabelSet:
    """Read JSON lines ``{"id": ..., "labels": [...]}`` (blank lines skipped).

    Examples
    --------
    >>> p = tmp / "mine.jsonl"
    >>> _ = p.write_text('{"id": "a", "labels": ["dog", "cat"]}\\n{"id": 2, "labels": []}\\n')
    >>> ls = read_jsonl(p)
    >>> ls.sample_ids, ls.labels, ls.Y.toarray().tolist()
    (['a', '2'], ('cat', 'dog'), [[1, 1], [0, 0]])
    """
    path = require_file(path, "JSON-lines file")
    coll = _Collector(path, labels)
    sample_ids: list[str] = []
    seen: dict[str, int] = {}
    for lineno, sid, names in _jsonl_samples(path):
        _check_id(path, sid, seen, lineno)
        r = len(sample_ids)
        sample_ids.append(sid)
        for label in names:
            coll.add(r, label, lineno)
    return coll.finish(sample_ids, _source(path, "jsonl", name, split, labels))


def _jsonl_samples(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """``(line, sample id, label names)`` of each non-blank line (ids not yet checked)."""
    import orjson

    for lineno, line in raw_lines(path, "JSON-lines file"):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise data_error(path, f"invalid JSON: {exc}", lineno) from None
        if not isinstance(obj, dict) or "id" not in obj or "labels" not in obj:
            raise data_error(path, 'expected an object {"id": ..., "labels": [...]}', lineno)
        sid, names = obj["id"], obj["labels"]
        if not isinstance(sid, (str, int)) or isinstance(sid, bool):
            raise data_error(path, f"id {str(sid)[:40]!r} is not a string or integer", lineno)
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            raise data_error(path, "labels must be a list of strings", lineno)
        yield lineno, str(sid), names


def read_labelmatrix(path: str | os.PathLike[str], split: str | None = None, *,
                     labels: LabelsArg = None, indices: bool = False, name: str | None = None,
                     **_: Any) -> LabelSet:
    """Read 0/1 label rows (or 0-based label indices) with a label-list file.

    Parameters
    ----------
    path : path
        One sample a line: ``[sample_id] v_1 … v_C`` with ``v`` in {0, 1}
        (spaces, tabs or commas).  Without a sample id, samples are numbered
        from 0 in file order.
    labels : sequence of str or path
        Required: the names of the C columns, in column order.
    indices : bool
        Rows are ``sample_id k_1 k_2 …``, 0-based indices into ``labels``
        (e.g. the CLIP-ES COCO lists, in COCO-80 order).

    Examples
    --------
    >>> d = tmp
    >>> _ = (d / "labels.txt").write_text("cat\\ndog\\nbird\\n")
    >>> _ = (d / "rows.txt").write_text("img1.jpg 1 0 1\\nimg2.jpg 0 1 0\\n")
    >>> read_labelmatrix(d / "rows.txt", labels=d / "labels.txt").Y.toarray().tolist()
    [[1, 0, 1], [0, 1, 0]]
    >>> _ = (d / "idx.txt").write_text("img1 0 2\\nimg2 1\\n")
    >>> read_labelmatrix(d / "idx.txt", labels=["cat", "dog", "bird"], indices=True).Y.toarray().tolist()
    [[1, 0, 1], [0, 1, 0]]
    """
    if labels is None:
        raise ConfigError("the labelmatrix reader needs labels= (a label-list file, one name a line)")
    path = require_file(path, "label-matrix file")
    names = resolve_labels(labels)
    c = len(names)
    sample_ids: list[str] = []
    seen: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    with_id: bool | None = True if indices else None
    for lineno, line in text_lines(path, "label-matrix file"):
        tokens = line.replace(",", " ").split()
        if not tokens:
            continue
        r = len(sample_ids)
        if indices:
            sid, values = tokens[0], tokens[1:]
            for v in values:
                if not v.isdigit() or int(v) >= c:
                    raise data_error(path, f"label index {v!r} is not in 0..{c - 1} ({path.name} has "
                                           f"{c} labels)", lineno)
                rows.append(r)
                cols.append(int(v))
        else:
            if len(tokens) == c + 1:
                this_id = True
            elif len(tokens) == c:
                this_id = False
            else:
                raise data_error(path, f"{len(tokens)} values, expected {c} (one per label) or "
                                       f"{c + 1} (a sample id first)", lineno)
            if with_id is None:
                with_id = this_id
            elif with_id != this_id:
                raise data_error(path, "rows mix lines with and without a sample id", lineno)
            sid = tokens[0] if this_id else str(r)
            values = tokens[1:] if this_id else tokens
            for k, v in enumerate(values):
                if v == "1":
                    rows.append(r)
                    cols.append(k)
                elif v != "0":
                    raise data_error(path, f"label {names[k]!r}: value {v!r} is not 0 or 1", lineno)
        _check_id(path, sid, seen, lineno)
        sample_ids.append(sid)
    source = _source(path, "labelmatrix", name, split, labels, format="indices" if indices else "0/1 rows")
    return build_labelset(path, sample_ids, names, rows, cols, source)
