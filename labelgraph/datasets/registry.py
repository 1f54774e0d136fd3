"""Dataset readers found by name; each returns one validated :class:`~labelgraph.labelset.LabelSet`.

Reader modules are imported only when a reader runs, so the registry stays light.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError

__all__ = ["DatasetReader", "DATASETS", "canonical_name", "check_options", "default_splits", "get_reader", "read_dataset",
           "reader_table"]


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
    default_split : the training split, used when none is given (``None`` where the format has no splits)
    downloads : names in ``labelgraph.download.SOURCES`` that ``--download`` fetches
    bundled : name of a bundled statistics artifact (``labelgraph.bundled``), if any
    options : the reader's keyword options (``split`` is always accepted); others are refused
    eval_split : the split a trainer evaluates on by default
    splits : every split the official files have (empty: any name, or none)
    aliases : other names of this dataset (``coco2014`` for ``coco``)
    plan : ``"module:function"`` under ``labelgraph.datasets`` making its
        :class:`~labelgraph.datasets.plan.ShardPlan` (``function(path, chunk_size=..., **options)``);
        ``None``: the reader's whole result, counted in row chunks
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
    eval_split: str | None = None
    splits: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    plan: str | None = None

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
    bundled="coco2014", options=("split", "year", "order", "keep_empty", "progress"), eval_split="val",
    splits=("train", "val"), aliases=("coco2014", "coco2017")))
_register(DatasetReader(
    "voc", "PASCAL VOC 2007/2012 from ImageSets/Main/<class>_<split>.txt",
    "VOCdevkit/VOC{2007,2012}/ImageSets/Main", "PASCAL VOC (research use; images Flickr)",
    "voc:read_voc", default_split="trainval", downloads=("voc2007-trainval", "voc2012-trainval"),
    bundled="voc2007", options=("split", "year", "difficult", "progress"), eval_split="test",
    splits=("train", "val", "trainval", "test"), aliases=("voc2007", "voc2012")))
_register(DatasetReader(
    "charades", "Charades v1 video-level action labels",
    "Charades_v1_{train,test}.csv + Charades_v1_classes.txt", "Charades licence (non-commercial research)",
    "charades:read_charades", default_split="train", downloads=("charades-v1",),
    options=("split", "classes", "keep_empty"), eval_split="test", splits=("train", "test")))
_register(DatasetReader(
    "nuswide", "NUS-WIDE 81 concepts", "Concepts81.txt + 0/1 label rows", "NUS-WIDE (research use)",
    "nuswide:read_nuswide", default_split="train", options=("split", "labels_file", "concepts"), eval_split="test",
    splits=("train", "test")))
_register(DatasetReader(
    "mulan", "MULAN multi-label ARFF (features + labels; scene, yeast, emotions …)",
    "<set>-<split>.arff[.gz] + <set>.xml", "MULAN (research use)", "arff:read_mulan", default_split="train",
    options=("split", "num_labels"), eval_split="test", splits=("train", "test")))
_register(DatasetReader(
    "mlgcn-pkl", "ML-GCN's published *_adj.pkl (nums, adj) imported as statistics, through a restricted unpickler",
    "coco_adj.pkl / voc_adj.pkl + --labels FILE", "ML-GCN's files (no licence stated)", "mlgcn_pkl:read_mlgcn_pkl",
    options=("labels", "num_samples")))
_register(DatasetReader(
    "csv", "your own CSV: `sample,label;label` rows or one-hot columns under a header",
    "CSV", "yours", "user:read_csv", options=("labels", "delimiter", "label_sep", "name"),
    plan="user_plan:plan_csv"))
_register(DatasetReader(
    "jsonl", 'your own JSONL: {"id": ..., "labels": [...]} per line', "JSON lines", "yours", "user:read_jsonl",
    options=("labels", "name"), plan="user_plan:plan_jsonl"))
_register(DatasetReader(
    "parquet", "Parquet shards with a label-list column (strings, or integers with --labels)",
    "*.parquet: list<string> or list<int> column", "yours", "parquet:read_parquet",
    options=("column", "labels", "name"), plan="parquet:plan_parquet"))
_register(DatasetReader(
    "hf", "a Hugging Face dataset saved locally (save_to_disk folder or its Parquet); names from its ClassLabel",
    "save_to_disk folder (*.arrow + dataset_info.json) or *.parquet", "the dataset's own", "hf:read_hf",
    options=("column", "name"), plan="hf:plan_hf"))
_register(DatasetReader(
    "openimages", "Open Images image-level labels (ImageID,Source,LabelName,Confidence) with class descriptions",
    "*-annotations-*-imagelabels*.csv + oidv7-class-descriptions.csv", "CC BY 4.0 (Google; images CC BY 2.0)",
    "openimages:read_openimages", options=("classes", "source", "order", "min_confidence", "name"),
    plan="openimages:plan_openimages"))
_register(DatasetReader(
    "labelmatrix", "0/1 rows (optionally after a sample id) with a label-list file",
    "text rows + --labels FILE", "yours", "user:read_labelmatrix", options=("labels", "indices", "name")))


def canonical_name(name: str) -> str | None:
    """The registry name of a dataset called ``name`` or one of its aliases; ``None`` when unknown.

    Examples
    --------
    >>> canonical_name("voc2012"), canonical_name("coco"), canonical_name("mine")
    ('voc', 'coco', None)
    """
    key = name.lower()
    if key in DATASETS:
        return key
    return next((r.name for r in DATASETS.values() if key in r.aliases), None)


def get_reader(name: str) -> DatasetReader:
    """The registered reader called ``name`` (or an alias); a :class:`ConfigError` listing the known ones otherwise.

    Examples
    --------
    >>> get_reader("voc").default_split
    'trainval'
    >>> get_reader("coco2017").name
    'coco'
    """
    key = canonical_name(name)
    if key is None:
        raise ConfigError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})")
    return DATASETS[key]


def default_splits(name: str) -> tuple[str | None, str | None]:
    """The default (training, evaluation) splits of a dataset; ``None`` where its format has no splits.

    Examples
    --------
    >>> default_splits("voc"), default_splits("coco2014"), default_splits("csv")
    (('trainval', 'test'), ('train', 'val'), (None, None))
    """
    reader = get_reader(name)
    return reader.default_split, reader.eval_split


def read_dataset(name: str, path: str | Path, **options: Any) -> Any:
    """Read ``path`` with the reader called ``name``; options are the reader's keyword arguments.

    Returns a :class:`~labelgraph.labelset.LabelSet` (a statistics ``Artifact`` for ``mlgcn-pkl``).
    An option the reader does not know is a :class:`ConfigError` listing the ones it knows.

    Examples
    --------
    >>> p = tmp / "labels.jsonl"
    >>> rows = ['{"id": "a", "labels": ["cat"]}', '{"id": "b", "labels": ["cat", "dog"]}']
    >>> _ = p.write_text("\\n".join(rows))
    >>> ls = read_dataset("jsonl", p)
    >>> ls.labels, ls.Y.toarray().tolist()
    (('cat', 'dog'), [[1, 0], [1, 1]])
    >>> read_dataset("jsonl", p, labls="x.txt")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: dataset 'jsonl' has no option 'labls' (options: split, labels, name)
    """
    reader = get_reader(name)
    check_options(reader, options)
    return reader.load_reader()(Path(path), **options)


def check_options(reader: DatasetReader, options: Mapping[str, Any]) -> None:
    """Refuse an option ``reader`` does not take, in one line listing the ones it does.

    Examples
    --------
    >>> check_options(get_reader("voc"), {"year": 2007})
    >>> check_options(get_reader("voc"), {"order": "alphabetical"})
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: dataset 'voc' has no option 'order' (options: split, year, difficult, progress)
    """
    known = ("split", *(o for o in reader.options if o != "split"))
    unknown = [k for k in options if k not in known]
    if unknown:
        raise ConfigError(f"dataset {reader.name!r} has no option {', '.join(map(repr, unknown))} "
                          f"(options: {', '.join(known)})")


def reader_table() -> str:
    """The Markdown table of every reader (docs/datasets.md holds it; a test keeps the two equal).

    Examples
    --------
    >>> print(reader_table().splitlines()[2])
    | `coco` | coco2014, coco2017 | train, val | train / val | coco2014 | year, order, keep_empty, progress |
    """
    rows = ["| name | aliases | splits | default train / eval | bundled | options (besides split) |",
            "|---|---|---|---|---|---|"]
    for r in DATASETS.values():
        rows.append(f"| `{r.name}` | {', '.join(r.aliases) or '—'} | {', '.join(r.splits) or '—'} | "
                    f"{r.default_split or '—'} / {r.eval_split or '—'} | {r.bundled or '—'} | "
                    f"{', '.join(o for o in r.options if o != 'split') or '—'} |")
    return "\n".join(rows)
