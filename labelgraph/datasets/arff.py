"""MULAN multi-label ARFF files (dense or sparse, optionally gzipped): features plus a :class:`LabelSet`.

A MULAN set is an ARFF file whose label attributes are ``{0,1}`` nominals named
in a companion XML file (``<labels><label name="…"/>…</labels>``).  Without the
XML, the label attributes are the last ``num_labels`` attributes.

Examples
--------
>>> d = tmp
>>> _ = (d / "toy-train.arff").write_text(
...     "@relation toy\\n@attribute f1 numeric\\n@attribute a {0,1}\\n@attribute b {0,1}\\n"
...     "@data\\n0.5,1,0\\n1.5,1,1\\n")
>>> data = read_arff(d / "toy-train.arff", num_labels=2)
>>> data.features.tolist(), data.labelset.Y.toarray().tolist()
([[0.5], [1.5]], [[1, 0], [1, 1]])
"""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..files import file_record, open_maybe_compressed
from ..labelset import LabelSet

__all__ = ["ArffData", "read_arff", "read_mulan", "mulan_files", "mulan_labels"]

_ATTR = re.compile(r"@attribute\s+('(?:[^']|\\')*'|\"[^\"]*\"|\S+)\s+(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class ArffData:
    """Features and labels of one ARFF file.

    Attributes
    ----------
    features : (N, F) float32
    feature_names : tuple of str
    labelset : LabelSet (sample ids are ``"<file stem>:<row>"``)
    """

    features: np.ndarray
    feature_names: tuple[str, ...]
    labelset: LabelSet


def _open(path: Path) -> io.TextIOWrapper:
    return io.TextIOWrapper(open_maybe_compressed(path), encoding="utf-8", errors="strict")


def mulan_labels(xml_path: str | Path) -> tuple[str, ...]:
    """Label names, in file order, from a MULAN label XML file.

    Examples
    --------
    >>> p = tmp / "x.xml"
    >>> _ = p.write_text('<labels xmlns="http://mulan.sourceforge.net/labels">'
    ...                  '<label name="a"></label><label name="b"></label></labels>')
    >>> mulan_labels(p)
    ('a', 'b')
    """
    xml_path = Path(xml_path)
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise DataError(f"{xml_path}: not a MULAN label XML file ({exc})") from None
    names = tuple(el.attrib["name"] for el in root.iter() if el.tag.split("}")[-1] == "label" and "name" in el.attrib)
    if not names:
        raise DataError(f"{xml_path}: no <label name=...> elements")
    return names


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        return name[1:-1].replace("\\'", "'")
    return name


def read_arff(path: str | Path, *, labels: Sequence[str] | None = None, num_labels: int | None = None,
              xml: str | Path | None = None) -> ArffData:
    """Read a MULAN ARFF file (``.arff`` or gzipped).

    Parameters
    ----------
    path : path of the ARFF file
    labels : names of the label attributes, in the order wanted
    num_labels : the last ``num_labels`` attributes are the labels (when neither ``labels`` nor ``xml`` is given)
    xml : a MULAN label XML file giving the label names

    Returns
    -------
    ArffData
        Features (every non-label attribute, numeric) and the labels as a LabelSet.

    Examples
    --------
    >>> p = tmp / "toy.arff"
    >>> _ = p.write_text("@relation toy\\n@attribute f1 numeric\\n@attribute sun {0,1}\\n"
    ...                  "@attribute sea {0,1}\\n@data\\n0.5,1,0\\n0.25,1,1\\n")
    >>> data = read_arff(p, num_labels=2)
    >>> data.labelset.labels, data.labelset.Y.toarray().tolist()
    (('sun', 'sea'), [[1, 0], [1, 1]])
    """
    path = Path(path)
    if xml is not None:
        labels = mulan_labels(xml)
    names: list[str] = []
    kinds: list[str] = []
    try:
        handle = _open(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror or exc})") from None
    rows: list[np.ndarray] = []
    with handle:
        lineno = 0
        try:
            for line in handle:
                lineno += 1
                text = line.strip()
                if not text or text.startswith("%"):
                    continue
                low = text.lower()
                if low.startswith("@attribute"):
                    m = _ATTR.match(text)
                    if not m:
                        raise DataError(f"{path}:{lineno}: malformed @attribute line")
                    names.append(_unquote(m.group(1)))
                    kinds.append(m.group(2).strip())
                elif low.startswith("@data"):
                    break
            if labels is None:
                if num_labels is None:
                    raise DataError(f"{path}: give the label names (MULAN XML) or num_labels")
                labels = names[len(names) - int(num_labels):]
            index = {n: i for i, n in enumerate(names)}
            missing = [x for x in labels if x not in index]
            if missing:
                raise DataError(f"{path}: label attribute(s) not in the file: {', '.join(missing[:5])}")
            width = len(names)
            for line in handle:
                lineno += 1
                text = line.strip()
                if not text or text.startswith("%"):
                    continue
                row = np.zeros(width, dtype=np.float64)
                try:
                    if text.startswith("{"):
                        body = text.strip("{}").strip()
                        for item in filter(None, (p.strip() for p in body.split(","))):
                            key, value = item.split(None, 1)
                            row[int(key)] = float(value)
                    else:
                        values = text.split(",")
                        if len(values) != width:
                            raise DataError(f"{path}:{lineno}: {len(values)} values, expected {width}")
                        row[:] = [float(v) for v in values]
                except (ValueError, IndexError):
                    raise DataError(f"{path}:{lineno}: a non-numeric or out-of-range value "
                                    "(missing values '?' are not supported)") from None
                rows.append(row)
        except (UnicodeDecodeError, EOFError, OSError) as exc:
            raise DataError(f"{path}:{lineno}: unreadable ({exc})") from None
    data = np.vstack(rows) if rows else np.zeros((0, len(names)))
    label_idx = np.array([index[x] for x in labels], dtype=np.int64)
    feature_idx = np.array([i for i in range(len(names)) if i not in set(label_idx.tolist())], dtype=np.int64)
    Yd = data[:, label_idx]
    bad = ~np.isin(Yd, (0.0, 1.0))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{path}: data row {r + 1}: label {labels[c]!r} has value {Yd[r, c]:g}, expected 0 or 1")
    stem = path.name.split(".")[0]
    source = {"dataset": "mulan", "path": str(path), "reader": "arff", "files": [file_record(path)]}
    labelset = LabelSet([f"{stem}:{i}" for i in range(len(data))], tuple(labels),
                        sp.csr_matrix(Yd.astype(np.int8)), source)
    return ArffData(data[:, feature_idx].astype(np.float32), tuple(names[i] for i in feature_idx), labelset)


def mulan_files(path: str | Path, split: str | None = None) -> tuple[Path, Path | None]:
    """The ARFF file and label XML of a MULAN set.

    ``path`` is an ARFF file, or a set's stem (``…/mulan/scene``) that with ``split``
    names ``scene-<split>.arff`` or ``scene-<split>.arff.gz``.  The XML is ``scene.xml``
    beside it, when present.

    Examples
    --------
    >>> mulan_files("/nonexistent/scene", "train")
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: /nonexistent/scene: no scene-train.arff or scene-train.arff.gz beside it
    """
    path = Path(path)
    if path.is_file():
        arff = path
    else:
        if split is None:
            raise DataError(f"{path}: not a file; give a split to find {path.name}-<split>.arff")
        for candidate in (path.parent / f"{path.name}-{split}.arff", path.parent / f"{path.name}-{split}.arff.gz"):
            if candidate.is_file():
                arff = candidate
                break
        else:
            raise DataError(f"{path}: no {path.name}-{split}.arff or {path.name}-{split}.arff.gz beside it")
    stem = arff.name.split(".")[0]
    stem = re.sub(r"-(train|test|val|trainval)$", "", stem)
    xml = arff.parent / f"{stem}.xml"
    return arff, (xml if xml.is_file() else None)


def read_mulan(path: str | Path, split: str | None = None, num_labels: int | None = None) -> LabelSet:
    """The labels of a MULAN set as a :class:`LabelSet` (the dataset registry's reader ``mulan``).

    See :func:`mulan_files` for ``path`` and ``split``; :func:`read_arff` gives the features too.

    Examples
    --------
    >>> d = tmp
    >>> _ = (d / "toy-train.arff").write_text("@relation toy\\n@attribute f1 numeric\\n"
    ...                                      "@attribute sun {0,1}\\n@data\\n0.5,1\\n0.25,0\\n")
    >>> read_mulan(d / "toy-train.arff", num_labels=1).Y.toarray().ravel().tolist()
    [1, 0]
    """
    arff, xml = mulan_files(path, split)
    data = read_arff(arff, xml=xml, num_labels=num_labels)
    source = dict(data.labelset.source, split=split)
    return LabelSet(data.labelset.sample_ids, data.labelset.labels, data.labelset.Y, source)
