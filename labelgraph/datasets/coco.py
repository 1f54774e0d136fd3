"""MS-COCO image-level labels from the official ``instances_{train,val}{2014,2017}.json``.

An image's labels are the categories of *all* its instance annotations, crowd
annotations (``iscrowd: 1``) included.  Images without any annotation are dropped
by default, as ML-GCN does (``keep_empty=True`` keeps them as label-less samples).

The file is streamed with ijson (its C backend when available) in one pass:
only the events of ``images[].id``, ``categories[].id/name`` and
``annotations[].id/image_id/category_id/iscrowd`` reach Python, and they are
kept as compact integer arrays, so the 448 MB ``instances_train2017.json`` is
never held as Python objects.  The top-level keys may come in any order.
"""
from __future__ import annotations

import itertools
import logging
import operator
import os
import re
from array import array
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np

from ..errors import ConfigError, DataError
from ..files import progress as progress_bar
from ..labelset import LabelSet
from ._common import build_labelset, data_error, file_record, read_label_list, require_file

__all__ = ["read_coco", "find_instances_file", "ORDERS"]

log = logging.getLogger(__name__)

#: Named label orders: ``alphabetical`` (category names sorted, ML-GCN's) and ``category-id``.
ORDERS = ("alphabetical", "category-id")

_NAME = re.compile(r"instances_(train|val|test|minival|valminusminival)(\d{4})\.json$")
_OTHER_NAME = re.compile(r"(?!instances_)(\w+?)_(train|val|test|minival)\.json")

_WANTED = frozenset((
    "", "images", "images.item", "images.item.id",
    "categories", "categories.item", "categories.item.id", "categories.item.name",
    "annotations", "annotations.item", "annotations.item.id", "annotations.item.image_id",
    "annotations.item.category_id", "annotations.item.iscrowd",
))


def _backend() -> Any:
    import ijson

    try:
        return ijson.get_backend("yajl2_c")
    except Exception:  # ImportError or the backend's own load failure
        log.info("ijson's C backend is not available; using %s (slower)", ijson.backend)
        return ijson


def find_instances_file(path: str | os.PathLike[str], split: str = "train",
                        year: int | str | None = None) -> Path:
    """The ``instances_<split><year>.json`` that ``path`` names or holds.

    ``path`` may be the JSON file itself, an ``annotations/`` folder, or a COCO
    root holding ``annotations/``.  Without ``year``, the one year present is used.

    Examples
    --------
    >>> root = tmp
    >>> (root / "annotations").mkdir()
    >>> _ = (root / "annotations" / "instances_val2017.json").write_text("{}")
    >>> find_instances_file(root, "val").name
    'instances_val2017.json'
    """
    path = Path(path)
    if path.is_file():
        return path
    if not path.exists():
        raise data_error(path, "no such COCO annotation file or folder")
    years = [str(year)] if year is not None else ["2014", "2017"]
    found = [folder / f"instances_{split}{y}.json" for y in years
             for folder in (path / "annotations", path) if (folder / f"instances_{split}{y}.json").is_file()]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise ConfigError(f"{path}: holds {', '.join(p.name for p in found)}; choose one with year=")
    wanted = " or ".join(f"instances_{split}{y}.json" for y in years)
    raise data_error(path, f"no {wanted} here or under annotations/")


class _CountingReader:
    """File wrapper that remembers the last chunk read (to place parse errors) and drives a progress bar."""

    def __init__(self, handle: BinaryIO, bar: Any = None) -> None:
        self.handle = handle
        self.offset = 0
        self.chunk = b""
        self.chunk_start = 0
        self.bar = bar

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.chunk_start, self.chunk = self.offset, data
        self.offset += len(data)
        if self.bar is not None and data:
            self.bar.update(len(data))
        return data


def _error_position(message: str, reader: _CountingReader) -> str:
    """Byte position of a yajl parse error, from its context snippet within the last chunk read."""
    if "premature EOF" in message:
        return f"truncated JSON at byte {reader.offset} (premature end of file)"
    lines = message.split("\n")
    first = lines[0].strip() or "invalid JSON"
    if len(lines) >= 3 and "^" in lines[2]:
        context = lines[1]
        caret = lines[2].index("^")
        pad = len(context) - len(context.lstrip(" "))
        snippet = context[pad:].encode("utf-8", "replace")
        haystack = reader.chunk.replace(b"\n", b" ").replace(b"\r", b" ")
        idx = haystack.find(snippet) if snippet else -1
        if idx >= 0:
            # yajl's caret stands just after the offending byte.
            byte = reader.chunk_start + idx + max(caret - pad - 1, 0)
            return f"invalid JSON at byte {byte}: {first}"
    return f"invalid JSON near byte {reader.offset}: {first}"


def _events(parse: Any, handle: Any) -> Iterator[tuple[str, str, Any]]:
    """The parse events whose prefix is in ``_WANTED``, filtered at C speed (tee/map/compress)."""
    events, probe = itertools.tee(parse(handle, use_float=True, buf_size=1 << 16))
    keep = map(_WANTED.__contains__, map(operator.itemgetter(0), probe))
    return itertools.compress(events, keep)


def _scan(path: Path, reader: _CountingReader) -> dict[str, Any]:
    backend = _backend()
    image_ids = array("q")
    cat_ids: list[int] = []
    cat_names: list[str] = []
    ann_ids = array("q")
    ann_img = array("q")
    ann_cat = array("q")
    crowd = 0
    seen_top: set[str] = set()
    img_id: Any = None
    cat_id: Any = None
    cat_name: Any = None
    a_id: Any = None
    a_img: Any = None
    a_cat: Any = None
    a_crowd: Any = None

    def bad_int(what: str, value: Any) -> DataError:
        return data_error(path, f"{what} is {value!r}, expected an integer")

    try:
        for prefix, event, value in _events(backend.parse, reader):
            if prefix == "annotations.item":
                if event == "end_map":
                    if type(a_img) is not int or type(a_cat) is not int:
                        which = "image_id" if type(a_img) is not int else "category_id"
                        got = a_img if which == "image_id" else a_cat
                        ident = f"annotation {a_id}" if a_id is not None else f"annotation #{len(ann_img) + 1}"
                        raise (data_error(path, f"{ident} has no {which}") if got is None
                               else bad_int(f"{ident}: {which}", got))
                    ann_ids.append(a_id if type(a_id) is int else -1)
                    ann_img.append(a_img)
                    ann_cat.append(a_cat)
                    if a_crowd:
                        crowd += 1
                elif event == "start_map":
                    a_id = a_img = a_cat = a_crowd = None
                elif event != "map_key":
                    raise data_error(path, f"annotation #{len(ann_img) + 1} is a {event}, expected an object")
            elif prefix == "annotations.item.image_id":
                a_img = value
            elif prefix == "annotations.item.category_id":
                a_cat = value
            elif prefix == "annotations.item.id":
                a_id = value
            elif prefix == "annotations.item.iscrowd":
                a_crowd = value
            elif prefix == "images.item":
                if event == "start_map":
                    img_id = None
                elif event == "end_map":
                    if type(img_id) is not int:
                        k = len(image_ids) + 1
                        raise (data_error(path, f"image #{k} has no id") if img_id is None
                               else bad_int(f"image #{k}: id", img_id))
                    image_ids.append(img_id)
                elif event != "map_key":
                    raise data_error(path, f"image #{len(image_ids) + 1} is a {event}, expected an object")
            elif prefix == "images.item.id":
                img_id = value
            elif prefix == "categories.item":
                if event == "start_map":
                    cat_id = cat_name = None
                elif event == "end_map":
                    k = len(cat_ids) + 1
                    if type(cat_id) is not int:
                        raise (data_error(path, f"category #{k} has no id") if cat_id is None
                               else bad_int(f"category #{k}: id", cat_id))
                    if not isinstance(cat_name, str) or not cat_name.strip():
                        raise data_error(path, f"category {cat_id} has no name")
                    cat_ids.append(cat_id)
                    cat_names.append(cat_name.strip())
                elif event != "map_key":
                    raise data_error(path, f"category #{len(cat_ids) + 1} is a {event}, expected an object")
            elif prefix == "categories.item.id":
                cat_id = value
            elif prefix == "categories.item.name":
                cat_name = value
            elif prefix == "":
                if event == "map_key":
                    seen_top.add(value)
                elif event not in ("start_map", "end_map"):
                    raise data_error(path, f"top level is a {event.replace('start_', '')}, expected an object "
                                           "with images, annotations and categories")
            elif event not in ("start_array", "end_array"):
                raise data_error(path, f"'{prefix}' is a {event.replace('start_', '')}, expected an array")
    except DataError:
        raise
    except Exception as exc:  # ijson.JSONError / IncompleteJSONError, UnicodeDecodeError
        if type(exc).__module__.startswith("ijson") or isinstance(exc, (ValueError, UnicodeDecodeError)):
            raise data_error(path, _error_position(str(exc), reader)) from None
        raise
    missing = [k for k in ("images", "annotations", "categories") if k not in seen_top]
    if missing:
        raise data_error(path, f"not a COCO instances file: no {', '.join(repr(m) for m in missing)} "
                               f"(top-level keys: {', '.join(sorted(seen_top)) or 'none'})")
    return {"image_ids": image_ids, "cat_ids": cat_ids, "cat_names": cat_names,
            "ann_ids": ann_ids, "ann_img": ann_img, "ann_cat": ann_cat, "crowd": crowd}


def _label_order(path: Path, names: list[str], ids: list[int], order: str | os.PathLike[str]) -> list[int]:
    """Positions into the file's categories, in the requested order."""
    if isinstance(order, str) and order in ORDERS:
        if order == "alphabetical":
            return sorted(range(len(names)), key=lambda k: names[k])
        return sorted(range(len(names)), key=lambda k: ids[k])
    order_path = Path(order)
    if not order_path.is_file():
        raise ConfigError(f"order must be one of {', '.join(ORDERS)} or a label-list file; "
                          f"{order!s} is neither")
    wanted = read_label_list(order_path)
    pos = {name: k for k, name in enumerate(names)}
    unknown = [x for x in wanted if x not in pos]
    missing = sorted(set(names) - set(wanted))
    if unknown or missing:
        raise data_error(order_path, f"label order does not match the categories of {path.name} "
                                     f"(unknown: {', '.join(unknown[:5]) or '-'}; "
                                     f"missing: {', '.join(missing[:5]) or '-'})")
    return [pos[x] for x in wanted]


def read_coco(path: str | os.PathLike[str], split: str = "train", *, year: int | str | None = None,
              order: str | os.PathLike[str] = "alphabetical", keep_empty: bool = False,
              progress: bool = False, **_: Any) -> LabelSet:
    """Read a COCO instances file into a :class:`~labelgraph.labelset.LabelSet`.

    Parameters
    ----------
    path : path
        ``instances_<split><year>.json``, or a folder holding it (directly or under
        ``annotations/``).
    split : {"train", "val"}
        Which file to pick from a folder.
    year : {2014, 2017}, optional
        Which year to pick from a folder holding both.
    order : {"alphabetical", "category-id"} or path
        Label order: category names sorted (ML-GCN's order, the default), the
        categories' ids, or a file listing every category name once.
    keep_empty : bool
        Keep images without annotations as samples with no label (default: drop
        them, as ML-GCN does; their number is in ``source["dropped_empty"]``).
    progress : bool
        Show a tqdm bar over the bytes read.

    Returns
    -------
    LabelSet
        Samples are image ids (as strings) in file order; labels are category
        names.  ``source`` notes ``annotations``, ``crowd_annotations``,
        ``dropped_empty`` and the category ids in label order.

    Raises
    ------
    DataError
        Missing file; invalid or truncated JSON (with the byte position); an
        annotation whose image_id or category_id is unknown (naming the
        annotation id); duplicate image or category ids; no image left.

    Examples
    --------
    >>> import json
    >>> p = tmp / "instances_val2017.json"
    >>> _ = p.write_text(json.dumps({
    ...     "annotations": [{"id": 1, "image_id": 7, "category_id": 18, "iscrowd": 0},
    ...                     {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 1}],
    ...     "images": [{"id": 7}, {"id": 9}],
    ...     "categories": [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}]}))
    >>> ls = read_coco(p)
    >>> ls.labels, ls.sample_ids, ls.Y.toarray().tolist()
    (('dog', 'person'), ['7'], [[1, 1]])
    >>> ls.source["dataset"], ls.source["split"], ls.source["dropped_empty"]
    ('coco2017', 'val', 1)
    >>> read_coco(p, keep_empty=True, order="category-id").Y.toarray().tolist()
    [[1, 1], [0, 0]]
    """
    file = require_file(find_instances_file(path, split, year), "COCO annotation file")
    match = _NAME.search(file.name)
    if match:
        split, file_year = match.group(1), match.group(2)
        if year is not None and str(year) != file_year:
            log.warning("%s: year=%s given, but the file name says %s", file, year, file_year)
        year = file_year
    dataset = f"coco{year}" if year is not None else "coco"
    other = None if match else _OTHER_NAME.fullmatch(file.name)
    if other:  # a COCO-layout file of another dataset: lvis_v1_train.json, zhiyuan_objv2_val.json
        dataset, split = other.group(1), other.group(2)
    bar = progress_bar(total=file.stat().st_size, unit="B", desc=file.name, enabled=True, leave=True) \
        if progress else None
    try:
        with open(file, "rb") as handle:
            scan = _scan(file, _CountingReader(handle, bar))
    finally:
        if bar is not None:
            bar.close()

    image_ids = np.frombuffer(scan["image_ids"], dtype=np.int64) if len(scan["image_ids"]) else np.zeros(0, np.int64)
    ann_img = np.asarray(scan["ann_img"], dtype=np.int64)
    ann_cat = np.asarray(scan["ann_cat"], dtype=np.int64)
    ann_ids = np.asarray(scan["ann_ids"], dtype=np.int64)
    cat_ids, cat_names = scan["cat_ids"], scan["cat_names"]

    if len(set(cat_ids)) != len(cat_ids):
        dup = next(c for c in cat_ids if cat_ids.count(c) > 1)
        raise data_error(file, f"duplicate category id {dup}")
    if len(set(cat_names)) != len(cat_names):
        dup_name = next(c for c in cat_names if cat_names.count(c) > 1)
        raise data_error(file, f"duplicate category name {dup_name!r}")

    sorter = np.argsort(image_ids, kind="stable")
    sorted_ids = image_ids[sorter]
    dups = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
    if dups.size:
        raise data_error(file, f"duplicate image id {int(sorted_ids[dups[0]])}")
    pos = np.searchsorted(sorted_ids, ann_img)
    pos_c = np.minimum(pos, max(len(sorted_ids) - 1, 0))
    unknown = (pos >= len(sorted_ids)) | (sorted_ids[pos_c] != ann_img) if len(sorted_ids) else np.ones_like(pos, bool)
    if unknown.any():
        k = int(np.flatnonzero(unknown)[0])
        raise data_error(file, f"annotation {_ann_name(ann_ids, k)} refers to unknown image_id {int(ann_img[k])}")
    rows_all = sorter[pos_c] if len(sorted_ids) else pos

    keep = _label_order(file, cat_names, cat_ids, order)
    labels = [cat_names[k] for k in keep]
    col_of = {cat_ids[k]: c for c, k in enumerate(keep)}
    if ann_cat.size:
        uniq, inverse = np.unique(ann_cat, return_inverse=True)
        lookup = np.array([col_of.get(int(u), -1) for u in uniq], dtype=np.int64)
        cols = lookup[inverse.reshape(-1)]
        if (cols < 0).any():
            k = int(np.flatnonzero(cols < 0)[0])
            raise data_error(file, f"annotation {_ann_name(ann_ids, k)} has unknown category_id {int(ann_cat[k])}")
    else:
        cols = np.zeros(0, dtype=np.int64)

    annotated = np.zeros(len(image_ids), dtype=bool)
    annotated[rows_all] = True
    dropped = int((~annotated).sum())
    if keep_empty:
        kept = np.arange(len(image_ids))
        rows = rows_all
    else:
        kept = np.flatnonzero(annotated)
        new_row = np.cumsum(annotated) - 1
        rows = new_row[rows_all]
    sample_ids = [str(x) for x in image_ids[kept].tolist()]
    source = {
        "dataset": dataset,
        "split": split,
        "reader": "coco",
        "files": [file_record(file)],
        "order": order if isinstance(order, str) and order in ORDERS else str(order),
        "category_ids": [cat_ids[k] for k in keep],
        "images": int(len(image_ids)),
        "annotations": int(ann_img.size),
        "crowd_annotations": int(scan["crowd"]),
        "dropped_empty": 0 if keep_empty else dropped,
        "images_without_annotations": dropped,
    }
    log.info("%s: %d images (%d without annotations, %s), %d annotations (%d crowd), %d categories",
             file, len(image_ids), dropped, "kept" if keep_empty else "dropped", ann_img.size, scan["crowd"],
             len(labels))
    if not sample_ids:
        raise data_error(file, "no image with an annotation (zero samples)" if image_ids.size
                         else "no images (zero samples)")
    return build_labelset(file, sample_ids, labels, rows, cols, source)


def _ann_name(ann_ids: np.ndarray, k: int) -> str:
    return str(int(ann_ids[k])) if ann_ids[k] >= 0 else f"#{k + 1}"
