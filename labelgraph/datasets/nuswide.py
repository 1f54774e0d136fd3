"""NUS-WIDE image-level labels over its 81 concepts (``Concepts81.txt`` + 0/1 label rows).

Accepted layouts, tried in this order (``split`` is ``train`` or ``test``):

1. ``labels_file=PATH``: a file of 0/1 rows, one image a line, 81 values in the
   order of ``Concepts81.txt``, each row optionally preceded by an image id
   (the ``labelmatrix`` format).  ``Concepts81.txt`` is looked for beside it
   or given with ``concepts=PATH``.
2. A folder holding ``Concepts81.txt`` and ``<split>_labels.txt`` (or
   ``<Split>_Labels81.txt``) in that row format.
3. The official ground-truth layout: a folder holding ``Concepts81.txt`` and
   ``Groundtruth/TrainTestLabels/Labels_<concept>_<Split>.txt`` — one file a
   concept, one 0/1 value a line, the lines aligned across concepts; image
   ids come from ``ImageList/<Split>Imagelist.txt`` when present, otherwise
   the row number (from 0).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..labelset import LabelSet
from ._common import build_labelset, data_error, file_record, read_label_list, require_file
from .user import read_labelmatrix

__all__ = ["read_nuswide"]

log = logging.getLogger(__name__)


def _row_file(folder: Path, split: str) -> Path | None:
    for name in (f"{split}_labels.txt", f"{split.capitalize()}_Labels81.txt", f"{split.capitalize()}_labels.txt"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_nuswide(path: str | os.PathLike[str], split: str = "train", *,
                 labels_file: str | os.PathLike[str] | None = None,
                 concepts: str | os.PathLike[str] | None = None, **_: Any) -> LabelSet:
    """Read NUS-WIDE labels (81 concepts, the order of ``Concepts81.txt``); layouts in the module docs.

    Parameters
    ----------
    path : path
        The NUS-WIDE folder, or a 0/1 row file.
    split : {"train", "test"}
        Which split to read from a folder.
    labels_file : path, optional
        An explicit 0/1 row file.
    concepts : path, optional
        ``Concepts81.txt`` when it is not in the folder.

    Examples
    --------
    >>> d = tmp
    >>> _ = (d / "Concepts81.txt").write_text("airport\\nanimal\\nbeach\\n")
    >>> gt = d / "Groundtruth" / "TrainTestLabels"
    >>> gt.mkdir(parents=True)
    >>> for c, col in zip(["airport", "animal", "beach"], ["1\\n0\\n", "0\\n1\\n", "1\\n1\\n"]):
    ...     _ = (gt / f"Labels_{c}_Train.txt").write_text(col)
    >>> ls = read_nuswide(d)
    >>> ls.labels, ls.sample_ids, ls.Y.toarray().tolist()
    (('airport', 'animal', 'beach'), ['0', '1'], [[1, 0, 1], [0, 1, 1]])
    """
    path = Path(path)
    if not path.exists():
        raise data_error(path, "no such NUS-WIDE folder or label file")
    folder = path if path.is_dir() else path.parent
    concepts_path = require_file(Path(concepts) if concepts is not None else folder / "Concepts81.txt",
                                 "NUS-WIDE concept list (Concepts81.txt)")
    names = read_label_list(concepts_path)
    rows_path = Path(labels_file) if labels_file is not None else (path if path.is_file() else _row_file(path, split))
    if rows_path is not None:
        ls = read_labelmatrix(require_file(rows_path, "NUS-WIDE label file"), split, labels=concepts_path,
                              name="nuswide")
        source = dict(ls.source)
        source.update(reader="nuswide", layout="0/1 rows")
        return build_labelset(rows_path, list(ls.sample_ids), names, *ls.Y.nonzero(), source)
    return _read_groundtruth(folder, split, names, concepts_path)


def _read_groundtruth(folder: Path, split: str, names: tuple[str, ...], concepts_path: Path) -> LabelSet:
    gt = folder / "Groundtruth" / "TrainTestLabels"
    cap = split.capitalize()
    files = [file_record(concepts_path)]
    rows: list[int] = []
    cols: list[int] = []
    n: int | None = None
    first: Path | None = None
    for c, name in enumerate(names):
        col_path = require_file(gt / f"Labels_{name}_{cap}.txt", f"NUS-WIDE ground-truth file (split {split!r})")
        files.append(file_record(col_path))
        count = 0
        with open(col_path, encoding="ascii", errors="replace") as handle:
            for lineno, line in enumerate(handle, 1):
                value = line.strip()
                if not value:
                    continue
                if value == "1":
                    rows.append(count)
                    cols.append(c)
                elif value != "0":
                    raise data_error(col_path, f"value {value!r} is not 0 or 1", lineno)
                count += 1
        if n is None:
            n, first = count, col_path
        elif count != n:
            raise data_error(col_path, f"{count} rows, but {first.name if first else 'the first file'} has {n}")
    image_list = folder / "ImageList" / f"{cap}Imagelist.txt"
    if image_list.is_file():
        with open(image_list, encoding="utf-8") as handle:
            sample_ids = [line.strip() for line in handle if line.strip()]
        if len(sample_ids) != n:
            raise data_error(image_list, f"{len(sample_ids)} images, but the label files have {n} rows")
        files.append(file_record(image_list))
    else:
        sample_ids = [str(k) for k in range(n or 0)]
    source = {"dataset": "nuswide", "split": split, "reader": "nuswide", "files": files,
              "layout": "Groundtruth/TrainTestLabels"}
    return build_labelset(first or gt, sample_ids, names, rows, cols, source)
