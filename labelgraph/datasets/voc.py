"""PASCAL VOC 2007/2012 image-level labels from ``ImageSets/Main/<class>_<split>.txt``.

Each class file lists every image of the split with a flag: ``1`` present,
``-1`` absent, ``0`` present but only as "difficult" objects.  A ``0`` is not a
label unless ``difficult=True`` (ML-GCN counts ``1`` only; its ``voc_adj.pkl``
is reproduced exactly this way from VOC 2007 trainval).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..labelset import LabelSet
from ._common import build_labelset, data_error, file_record, require_file

__all__ = ["VOC_CLASSES", "read_voc", "find_main_folder"]

log = logging.getLogger(__name__)

#: The 20 VOC classes in the standard order (the devkit's and ML-GCN's ``voc.py``).
VOC_CLASSES: tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)

_YEAR = re.compile(r"voc[_-]?(\d{4})", re.IGNORECASE)


def find_main_folder(path: str | os.PathLike[str], year: int | str | None = None) -> Path:
    """The ``ImageSets/Main`` folder under ``path``.

    ``path`` may be the devkit root (``VOCdevkit``, holding ``VOC<year>/``), a
    ``VOC<year>`` folder, or the ``Main`` folder itself.  A devkit root with
    several years needs ``year``.

    Examples
    --------
    >>> root = tmp
    >>> (root / "VOC2007" / "ImageSets" / "Main").mkdir(parents=True)
    >>> find_main_folder(root).relative_to(root).as_posix()
    'VOC2007/ImageSets/Main'
    """
    path = Path(path)
    if not path.exists():
        raise data_error(path, "no such VOC folder")
    if not path.is_dir():
        raise data_error(path, "is a file, expected a VOC folder (VOCdevkit, VOC<year> or ImageSets/Main)")
    if (path / "ImageSets" / "Main").is_dir():
        return path / "ImageSets" / "Main"
    if path.name == "Main" or any(path.glob("*_trainval.txt")) or any(path.glob("*_test.txt")):
        return path
    years = sorted(p.name for p in path.glob("VOC[0-9][0-9][0-9][0-9]") if (p / "ImageSets" / "Main").is_dir())
    if year is not None:
        cand = path / f"VOC{year}" / "ImageSets" / "Main"
        if cand.is_dir():
            return cand
        raise data_error(path, f"no VOC{year}/ImageSets/Main here (found: {', '.join(years) or 'none'})")
    if len(years) == 1:
        return path / years[0] / "ImageSets" / "Main"
    if len(years) > 1:
        raise data_error(path, f"holds several VOC years ({', '.join(years)}); choose one with year=")
    raise data_error(path, "no ImageSets/Main folder found (expected VOCdevkit/VOC<year>/ImageSets/Main)")


def _infer_year(main: Path, year: int | str | None) -> str | None:
    if year is not None:
        return str(year)
    for part in reversed(main.resolve().parts):
        match = _YEAR.fullmatch(part) or _YEAR.match(part)
        if match:
            return match.group(1)
    return None


def _read_class_file(path: Path) -> tuple[list[str], list[int]]:
    ids: list[str] = []
    flags: list[int] = []
    with open(path, encoding="ascii", errors="replace") as handle:
        for lineno, line in enumerate(handle, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise data_error(path, f"expected '<image id> <1|-1|0>', got {line.strip()!r}", lineno)
            image, flag = parts
            if flag not in ("1", "-1", "0"):
                raise data_error(path, f"image {image}: value {flag!r} is not 1, -1 or 0", lineno)
            ids.append(image)
            flags.append(int(flag))
    return ids, flags


def read_voc(path: str | os.PathLike[str], split: str = "trainval", *, difficult: bool = False,
             year: int | str | None = None, progress: bool = False, **_: Any) -> LabelSet:
    """Read a VOC split into a :class:`~labelgraph.labelset.LabelSet` (20 labels, standard order).

    Parameters
    ----------
    path : path
        The devkit root, a ``VOC<year>`` folder or its ``ImageSets/Main`` folder.
    split : str
        ``train``, ``val``, ``trainval`` or ``test``: reads ``<class>_<split>.txt``.
    difficult : bool
        Count ``0`` ("difficult only") as a label; by default only ``1`` is a label.
    year : int, optional
        Which ``VOC<year>`` of a devkit root holding several; also names the
        dataset (``voc2007``) when the folder names do not.

    Returns
    -------
    LabelSet
        Samples in the order of ``aeroplane_<split>.txt``; ``source`` notes the
        number of difficult-only entries and whether they were counted; ``mask``
        marks those entries (whatever ``difficult`` says).

    Raises
    ------
    DataError
        A missing class file, a flag other than 1/-1/0 (``file:line``), class files
        listing different images, a duplicate image id, or an empty split.

    Examples
    --------
    >>> main = tmp / "VOC2007" / "ImageSets" / "Main"
    >>> main.mkdir(parents=True)
    >>> for c in VOC_CLASSES:
    ...     flags = {"cat": ("1", "0"), "dog": ("1", "-1")}.get(c, ("-1", "-1"))
    ...     _ = (main / f"{c}_trainval.txt").write_text(f"000005 {flags[0]}\\n000007 {flags[1]}\\n")
    >>> ls = read_voc(main.parent.parent)
    >>> ls.source["dataset"], ls.sample_ids, ls.Y.sum(axis=0).A1[[7, 11]].tolist()
    ('voc2007', ['000005', '000007'], [1, 1])
    >>> read_voc(main, difficult=True).Y.sum(axis=0).A1[[7, 11]].tolist()
    [2, 1]
    >>> ls.mask.nonzero()   # 000007's cat is difficult only
    (array([1], dtype=int32), array([7], dtype=int32))
    """
    main = find_main_folder(path, year)
    year_s = _infer_year(main, year)
    sample_ids: list[str] = []
    first_file: Path = main
    order: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    files = []
    n_difficult = 0
    hard_rows: list[int] = []
    hard_cols: list[int] = []
    for c, name in enumerate(VOC_CLASSES):
        cls_file = require_file(main / f"{name}_{split}.txt", f"VOC class file (split {split!r})")
        ids, flags = _read_class_file(cls_file)
        files.append(file_record(cls_file))
        if c == 0:
            sample_ids, first_file = ids, cls_file
            if len(set(ids)) != len(ids):
                seen: set[str] = set()
                dup = next(s for s in ids if s in seen or seen.add(s))  # type: ignore[func-returns-value]
                line = ids.index(dup, ids.index(dup) + 1) + 1
                raise data_error(cls_file, f"image {dup} listed twice", line)
            order = {s: i for i, s in enumerate(ids)}
        elif ids != sample_ids:
            _report_mismatch(cls_file, first_file, ids, sample_ids)
        for r, flag in enumerate(flags):
            if flag == 1 or (flag == 0 and difficult):
                rows.append(order[ids[r]])
                cols.append(c)
            if flag == 0:
                n_difficult += 1
                hard_rows.append(order[ids[r]])
                hard_cols.append(c)
    source = {
        "dataset": f"voc{year_s}" if year_s else "voc",
        "split": split,
        "reader": "voc",
        "files": files,
        "difficult_counted": bool(difficult),
        "difficult_entries": n_difficult,
    }
    log.info("VOC %s %s: %d images, %d difficult-only entries (%s)", year_s, split, len(sample_ids),
             n_difficult, "counted" if difficult else "not counted")
    ls = build_labelset(first_file, sample_ids, VOC_CLASSES, rows, cols, source)
    mask = sp.csr_matrix((np.ones(len(hard_rows), dtype=np.int8), (hard_rows, hard_cols)), shape=ls.Y.shape)
    return dataclasses.replace(ls, mask=mask)


def _report_mismatch(path: Path, first: Path | None, ids: list[str], expected: list[str]) -> None:
    if sorted(ids) == sorted(expected):
        # Same images in another order: accepted, rows follow the first file's order.
        return
    exp = set(expected)
    got = set(ids)
    extra = sorted(got - exp)
    missing = sorted(exp - got)
    if extra:
        line = ids.index(extra[0]) + 1
        raise data_error(path, f"image {extra[0]} is not in {first.name if first else 'the first class file'}",
                         line)
    if missing:
        raise data_error(path, f"lists {len(ids)} images but {first.name if first else 'the first class file'} "
                         f"lists {len(expected)} (missing e.g. {missing[0]})")
    raise DataError(f"{path}: an image is listed twice")
