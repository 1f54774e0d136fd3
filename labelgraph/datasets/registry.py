"""Dataset readers found by name; each returns one validated :class:`~labelgraph.labelset.LabelSet`.

Reader modules are imported only when a reader runs, so the registry stays light.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["DatasetReader", "DATASETS", "get_reader", "read_dataset"]


@dataclass(frozen=True)
class DatasetReader:
    """One dataset format.

    Attributes
    ----------
    name : registry name (``--dataset``)
    summary : one line for ``labelgraph datasets``
    format : what the reader expects on disk
    licence : the annotations' licence
    reader : ``"module:function"`` under ``labelgraph.datasets``; called as ``function(path, **options)``
    default_split : split used when none is given (``None`` where the format has no splits)
    downloads : names in ``labelgraph.download.SOURCES`` that ``--download`` fetches
    bundled : name of a bundled statistics artifact (``labelgraph.bundled``), if any
    """

    name: str
    summary: str
    format: str
    licence: str
    reader: str
    default_split: str | None = None
    downloads: tuple[str, ...] = ()
    bundled: str | None = None
    options: tuple[str, ...] = field(default_factory=tuple)

    def load_reader(self) -> Any:
        module, func = self.reader.split(":")
        return getattr(importlib.import_module(f"labelgraph.datasets.{module}"), func)


DATASETS: dict[str, DatasetReader] = {}


def _register(reader: DatasetReader) -> None:
    DATASETS[reader.name] = reader


_register(DatasetReader(
    "coco", "MS-COCO 2014/2017 image-level labels from instances_<split><year>.json",
    "instances_{train,val}{2014,2017}.json (official)", "CC BY 4.0 (COCO Consortium)",
    "coco:read_coco", default_split="train", downloads=("coco2014-annotations", "coco2017-annotations"),
    bundled="coco2014", options=("split", "year", "order", "keep_empty", "progress")))
_register(DatasetReader(
    "voc", "PASCAL VOC 2007/2012 from ImageSets/Main/<class>_<split>.txt",
    "VOCdevkit/VOC{2007,2012}/ImageSets/Main", "PASCAL VOC (research use; images Flickr)",
    "voc:read_voc", default_split="trainval", downloads=("voc2007-trainval", "voc2012-trainval"),
    bundled="voc2007", options=("split", "year", "difficult")))
_register(DatasetReader(
    "charades", "Charades v1 video-level action labels",
    "Charades_v1_{train,test}.csv + Charades_v1_classes.txt", "Charades licence (non-commercial research)",
    "charades:read_charades", default_split="train", downloads=("charades-v1",),
    options=("split", "classes", "keep_empty")))
_register(DatasetReader(
    "nuswide", "NUS-WIDE 81 concepts", "Concepts81.txt + 0/1 label rows", "NUS-WIDE (research use)",
    "nuswide:read_nuswide", default_split="train", options=("split", "labels_file", "concepts")))
_register(DatasetReader("mulan", "MULAN multi-label ARFF (features + labels; scene, yeast, emotions …)", "<set>-<split>.arff[.gz] + <set>.xml", "MULAN (research use)", "arff:read_mulan", default_split="train"))
_register(DatasetReader(
    "mlgcn-pkl", "ML-GCN's published *_adj.pkl (nums, adj) imported as statistics, through a restricted unpickler",
    "coco_adj.pkl / voc_adj.pkl + --labels FILE", "ML-GCN's files (no licence stated)", "mlgcn_pkl:read_mlgcn_pkl",
    options=("labels", "num_samples")))
_register(DatasetReader(
    "csv", "your own CSV: `sample,label;label` rows or one-hot columns under a header",
    "CSV", "yours", "user:read_csv", options=("labels", "delimiter", "label_sep", "name")))
_register(DatasetReader(
    "jsonl", 'your own JSONL: {"id": ..., "labels": [...]} per line', "JSON lines", "yours", "user:read_jsonl",
    options=("labels", "name")))
_register(DatasetReader(
    "labelmatrix", "0/1 rows (optionally after a sample id) with a label-list file",
    "text rows + --labels FILE", "yours", "user:read_labelmatrix", options=("labels", "indices", "name")))


def get_reader(name: str) -> DatasetReader:
    """The registered reader called ``name``; a :class:`ConfigError` listing the known ones otherwise.

    Examples
    --------
    >>> get_reader("voc").default_split
    'trainval'
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None


def read_dataset(name: str, path: str | Path, **options: Any) -> Any:
    """Read ``path`` with the reader called ``name``; options are the reader's keyword arguments.

    Returns a :class:`~labelgraph.labelset.LabelSet` (a statistics ``Artifact`` for ``mlgcn-pkl``).

    Examples
    --------
    >>> p = tmp / "labels.jsonl"
    >>> rows = ['{"id": "a", "labels": ["cat"]}', '{"id": "b", "labels": ["cat", "dog"]}']
    >>> _ = p.write_text("\\n".join(rows))
    >>> ls = read_dataset("jsonl", p)
    >>> ls.labels, ls.Y.toarray().tolist()
    (('cat', 'dog'), [[1, 0], [1, 1]])
    """
    return get_reader(name).load_reader()(Path(path), **options)
