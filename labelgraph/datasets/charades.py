"""Charades v1 video-level action labels from ``Charades_v1_<split>.csv`` and ``Charades_v1_classes.txt``.

A video's labels are the classes named in its ``actions`` column
(``c092 11.90 21.20;c147 0.00 12.60``), each counted once however many times
it occurs.  Label names are the class descriptions of the classes file
(``Holding some clothes``); the ``c000`` … ``c156`` ids are kept, in label order,
in ``source["class_ids"]``.  Videos with an empty ``actions`` cell stay in the
label set as samples without labels (SPEC §1; ``keep_empty=False`` drops them)
and are counted in ``source["videos_without_actions"]``.
"""
from __future__ import annotations

import csv
import logging
import os
import re
from pathlib import Path
from typing import Any

from ..labelset import LabelSet
from ._common import build_labelset, data_error, file_record, require_file

__all__ = ["read_charades", "read_charades_classes"]

log = logging.getLogger(__name__)

_CLASS_LINE = re.compile(r"^(c\d{3})\s+(\S.*?)\s*$")
_REQUIRED = ("id", "actions")


def read_charades_classes(path: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
    """Class ids and descriptions from ``Charades_v1_classes.txt`` (``c000 Holding some clothes``).

    Examples
    --------
    >>> p = tmp / "Charades_v1_classes.txt"
    >>> _ = p.write_text("c000 Holding some clothes\\nc001 Putting clothes somewhere\\n")
    >>> read_charades_classes(p)
    (['c000', 'c001'], ['Holding some clothes', 'Putting clothes somewhere'])
    """
    path = require_file(path, "Charades classes file")
    ids: list[str] = []
    names: list[str] = []
    with open(path, encoding="utf-8-sig") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            match = _CLASS_LINE.match(line)
            if not match:
                raise data_error(path, f"expected 'c<nnn> <description>', got {line.strip()!r}", lineno)
            cid, name = match.groups()
            if cid in ids:
                raise data_error(path, f"class id {cid} listed twice", lineno)
            if name in names:
                raise data_error(path, f"class description {name!r} listed twice", lineno)
            ids.append(cid)
            names.append(name)
    if not ids:
        raise data_error(path, "no classes")
    return ids, names


def _find_files(path: Path, split: str, classes: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    if path.is_dir():
        csv_path = path / f"Charades_v1_{split}.csv"
        folder = path
    else:
        csv_path = path
        folder = path.parent
    csv_path = require_file(csv_path, f"Charades CSV (split {split!r})")
    cls_path = require_file(Path(classes) if classes is not None else folder / "Charades_v1_classes.txt",
                            "Charades classes file")
    return csv_path, cls_path


def read_charades(path: str | os.PathLike[str], split: str = "train", *,
                  classes: str | os.PathLike[str] | None = None, keep_empty: bool = True,
                  **_: Any) -> LabelSet:
    """Read Charades v1 into a :class:`~labelgraph.labelset.LabelSet` (157 action classes).

    Parameters
    ----------
    path : path
        The folder holding ``Charades_v1_<split>.csv`` and ``Charades_v1_classes.txt``
        (the official ``Charades/`` folder), or the CSV itself.
    split : {"train", "test"}
        Which CSV to read from a folder.
    classes : path, optional
        The classes file, when it is not beside the CSV.
    keep_empty : bool
        Keep videos without actions as label-less samples (default, SPEC §1).

    Raises
    ------
    DataError
        A missing file or column, an action naming a class absent from the
        classes file, a malformed ``cXXX start end`` triple (``file:line``), a
        duplicate video id, or zero videos.

    Examples
    --------
    >>> d = tmp
    >>> _ = (d / "Charades_v1_classes.txt").write_text("c000 Holding some clothes\\nc001 Opening a door\\n")
    >>> _ = (d / "Charades_v1_train.csv").write_text(
    ...     "id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\\n"
    ...     "46GP8,HR43,Kitchen,6,7,Yes,a script,door,a description,c001 0.00 6.90;c000 1.2 3.4;c001 5 8,24.8\\n"
    ...     "N11GT,0KZ7,Stairs,6,7,Yes,b script,,b description,,21.0\\n")
    >>> ls = read_charades(d)
    >>> ls.labels, ls.Y.toarray().tolist(), ls.source["videos_without_actions"]
    (('Holding some clothes', 'Opening a door'), [[1, 1], [0, 0]], 1)
    """
    csv_path, cls_path = _find_files(Path(path), split, classes)
    match = re.fullmatch(r"Charades_v1_(\w+)\.csv", csv_path.name)
    if match:
        split = match.group(1)
    class_ids, names = read_charades_classes(cls_path)
    col_of = {cid: k for k, cid in enumerate(class_ids)}
    sample_ids: list[str] = []
    seen: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    empty = 0
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise data_error(csv_path, f"no column {', '.join(missing)} in the header "
                                       f"(found: {', '.join(reader.fieldnames or []) or 'nothing'})", 1)
        for record in reader:
            lineno = reader.line_num
            vid = (record["id"] or "").strip()
            if not vid:
                raise data_error(csv_path, "empty video id", lineno)
            if vid in seen:
                raise data_error(csv_path, f"duplicate video id {vid!r} (first on line {seen[vid]})", lineno)
            seen[vid] = lineno
            actions = (record["actions"] or "").strip()
            if not actions:
                empty += 1
                if not keep_empty:
                    continue
            r = len(sample_ids)
            sample_ids.append(vid)
            for triple in filter(None, (t.strip() for t in actions.split(";"))):
                parts = triple.split()
                if len(parts) != 3:
                    raise data_error(csv_path, f"video {vid}: action {triple!r} is not 'cXXX start end'", lineno)
                col = col_of.get(parts[0])
                if col is None:
                    raise data_error(csv_path, f"video {vid}: class {parts[0]!r} is not in {cls_path.name}", lineno)
                try:
                    float(parts[1]), float(parts[2])
                except ValueError:
                    raise data_error(csv_path, f"video {vid}: action {triple!r} has a non-numeric time",
                                     lineno) from None
                rows.append(r)
                cols.append(col)
    if empty:
        log.info("%s: %d videos without actions (%s)", csv_path, empty, "kept" if keep_empty else "dropped")
    source = {
        "dataset": "charades",
        "split": split,
        "reader": "charades",
        "files": [file_record(csv_path), file_record(cls_path)],
        "class_ids": class_ids,
        "videos_without_actions": empty,
        "dropped_empty": 0 if keep_empty else empty,
    }
    return build_labelset(csv_path, sample_ids, names, rows, cols, source)
