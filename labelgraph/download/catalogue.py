"""The known downloads: official URLs, file names, published checksums, sizes and licences, and how a
dataset's split maps to a file inside an archive.

Examples
--------
>>> SOURCES["voc2007-trainval"].filename
'VOCtrainval_06-Nov-2007.tar'
>>> SOURCES["coco2014-annotations"].checksum
'md5:0a379cfc70b0e71301e0f377548639bd'
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from .checksums import _split_checksum

__all__ = ["Source", "SOURCES", "get_source", "download_url", "dataset_files"]


@dataclass(frozen=True)
class Source:
    """One downloadable file.

    Attributes
    ----------
    name : str
        Registry name (``fetch(name)``).
    url : str
        The official URL.
    filename : str
        File name in the cache (and the last part of the URL under ``base_url``).
    checksum : str or None
        ``"md5:<hex>"``, ``"sha1:<hex>"`` or ``"sha256:<hex>"`` as published; ``None``
        where none is published (trust on first use, see :func:`fetch`).
    size : int or None
        Size in bytes where known (the progress bar's total).
    licence : str
        The data's licence, in a few words.
    description : str
        What the file is.
    members : tuple of str or None
        The archive members labelgraph reads (names or folder prefixes ending in
        ``/``); :func:`fetch_extracted` extracts only these.  ``None``: everything.

    Examples
    --------
    >>> s = Source("x", "https://example.org/x.zip", "x.zip", "sha256:" + "0" * 64, None, "CC0", "a test file")
    >>> s.algorithm
    'sha256'
    """

    name: str
    url: str
    filename: str
    checksum: str | None
    size: int | None
    licence: str
    description: str
    members: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.checksum is not None:
            _split_checksum(self.checksum)
        if "/" in self.filename or self.filename in ("", ".", ".."):
            raise ConfigError(f"source {self.name!r}: filename must be a plain file name, got {self.filename!r}")

    @property
    def algorithm(self) -> str | None:
        """The published checksum's algorithm (``md5``, ``sha1``, ``sha256``), ``None`` when unpublished."""
        return None if self.checksum is None else _split_checksum(self.checksum)[0]


def _coco(year: int, md5: str, size: int) -> Source:
    return Source(
        f"coco{year}-annotations", f"http://images.cocodataset.org/annotations/annotations_trainval{year}.zip",
        f"annotations_trainval{year}.zip", f"md5:{md5}", size,
        "CC BY 4.0 (COCO Consortium annotations)",
        f"MS-COCO {year} train/val annotations (instances, captions, person keypoints)",
        (f"annotations/instances_train{year}.json", f"annotations/instances_val{year}.json"))


def _voc(name: str, url: str, md5: str, size: int, year: int, what: str) -> Source:
    return Source(name, url, url.rsplit("/", 1)[1], f"md5:{md5}", size,
                  "PASCAL VOC (annotations for research use; images from Flickr under their own terms)",
                  what, (f"VOCdevkit/VOC{year}/ImageSets/Main/",))


#: Every known download, by name.  Checksums: md5 for COCO and VOC as listed by the
#: dataset loaders of torchvision (VOC) and many COCO scripts (the S3 ETag), sha1 for
#: GloVe as published by Apache MXNet/GluonNLP; none published for Charades, Numberbatch
#: and the ConceptNet dump (trust on first use).  See ``docs/downloads.md``.
SOURCES: dict[str, Source] = {s.name: s for s in [
    _coco(2014, "0a379cfc70b0e71301e0f377548639bd", 252_872_794),
    _coco(2017, "f4bbac642086de4f52a3fdda2de5fa2c", 252_907_541),
    _voc("voc2007-trainval", "http://host.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtrainval_06-Nov-2007.tar",
         "c52e279531787c972589f7e41ab4ae64", 460_032_000, 2007, "PASCAL VOC 2007 trainval devkit and images"),
    _voc("voc2007-test", "http://host.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtest_06-Nov-2007.tar",
         "b6e924de25625d8de591ea690078ad9f", 451_020_800, 2007, "PASCAL VOC 2007 test annotations and images"),
    _voc("voc2012-trainval", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
         "6cd6e144f989b92b3379bac3b3de84fd", 1_999_639_040, 2012, "PASCAL VOC 2012 trainval devkit and images"),
    Source("charades-v1", "https://ai2-public-datasets.s3-us-west-2.amazonaws.com/charades/Charades.zip",
           "Charades.zip", None, None,
           "Charades licence (non-commercial research use; no redistribution)",
           "Charades v1 annotations and evaluation code (Charades_v1_{train,test}.csv, Charades_v1_classes.txt); "
           "the 55 GB videos (Charades_v1.zip) are not needed for label statistics",
           None),
    Source("glove.6B", "https://nlp.stanford.edu/data/glove.6B.zip", "glove.6B.zip",
           "sha1:b64e54f1877d2f735bdd000c1d7d771e25c7dfdc", 862_182_613,
           "Public Domain Dedication and License (ODC-PDDL)",
           "GloVe vectors trained on Wikipedia 2014 + Gigaword 5 (6B tokens; 50/100/200/300-d)"),
    Source("glove.840B.300d", "https://nlp.stanford.edu/data/glove.840B.300d.zip", "glove.840B.300d.zip",
           "sha1:8084fbacc2dee3b1fd1ca4cc534cbfff3519ed0d", None,
           "Public Domain Dedication and License (ODC-PDDL)",
           "GloVe vectors trained on Common Crawl (840B tokens, 300-d) — the ones ML-GCN used"),
    Source("numberbatch-en-19.08",
           "https://conceptnet.s3.amazonaws.com/downloads/2019/numberbatch/numberbatch-en-19.08.txt.gz",
           "numberbatch-en-19.08.txt.gz", None, None, "CC BY-SA 4.0 (ConceptNet)",
           "ConceptNet Numberbatch 19.08, English terms, 300-d text vectors"),
    Source("conceptnet-assertions-5.7.0",
           "https://s3.amazonaws.com/conceptnet/downloads/2019/edges/conceptnet-assertions-5.7.0.csv.gz",
           "conceptnet-assertions-5.7.0.csv.gz", None, None, "CC BY-SA 4.0 (ConceptNet 5.7; parts CC BY 4.0)",
           "ConceptNet 5.7 assertions dump (all languages, one edge per tab-separated line)"),
]}


def get_source(name_or_source: str | Source) -> Source:
    """The :class:`Source` called ``name`` (or the source itself); a :class:`ConfigError` listing the known ones.

    Examples
    --------
    >>> get_source("glove.6B").filename
    'glove.6B.zip'
    >>> get_source("imagenet")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: unknown download 'imagenet' (known: coco2014-annotations, ...)
    """
    if isinstance(name_or_source, Source):
        return name_or_source
    try:
        return SOURCES[name_or_source]
    except KeyError:
        raise ConfigError(f"unknown download {name_or_source!r} (known: {', '.join(SOURCES)})") from None


def download_url(source: Source, base_url: str | None = None) -> str:
    """The URL ``source`` is fetched from: its official URL, or ``base_url/filename`` for a mirror.

    ``base_url`` defaults to the ``LABELGRAPH_DOWNLOAD_BASE`` environment variable.

    Examples
    --------
    >>> download_url(SOURCES["voc2007-test"], "http://127.0.0.1:8000/mirror/")
    'http://127.0.0.1:8000/mirror/VOCtest_06-Nov-2007.tar'
    """
    base = base_url if base_url is not None else os.environ.get("LABELGRAPH_DOWNLOAD_BASE") or None
    return source.url if not base else base.rstrip("/") + "/" + source.filename


#: (dataset, year, split) → (source name, path of what the dataset reader reads, relative to the extraction)
_DATASET_LAYOUT: dict[tuple[str, str], tuple[str, str]] = {
    ("coco", "2014"): ("coco2014-annotations", "annotations/instances_{split}2014.json"),
    ("coco", "2017"): ("coco2017-annotations", "annotations/instances_{split}2017.json"),
    ("voc", "2007"): ("voc2007-trainval", "VOCdevkit/VOC2007"),
    ("voc", "2007-test"): ("voc2007-test", "VOCdevkit/VOC2007"),
    ("voc", "2012"): ("voc2012-trainval", "VOCdevkit/VOC2012"),
    ("charades", "v1"): ("charades-v1", "Charades"),
}

_DEFAULT_YEAR = {"coco": "2014", "voc": "2007", "charades": "v1"}


def dataset_files(dataset: str, *, year: str | int | None = None, split: str | None = None,
                  **fetch_options: Any) -> Path:
    """Download (once) and extract a dataset's annotations; return what its reader takes.

    ======== ============== ================================================================
    dataset  year           returns (under ``home()/extracted/<source>/``)
    ======== ============== ================================================================
    coco     2014 (default) ``annotations/instances_<split>2014.json`` (split train or val)
    coco     2017           ``annotations/instances_<split>2017.json``
    voc      2007 (default) ``VOCdevkit/VOC2007`` (split test: from ``voc2007-test``)
    voc      2012           ``VOCdevkit/VOC2012`` (train, val, trainval)
    charades v1             ``Charades`` (``Charades_v1_{train,test}.csv``, classes)
    ======== ============== ================================================================

    Keyword arguments go to :func:`fetch` (``base_url``, ``progress``, ``session`` …)
    and ``dest`` to :func:`fetch_extracted`.

    Examples
    --------
    >>> dataset_files("voc", year=2012, split="test")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: VOC 2012 has no public test annotations (splits: train, val, trainval)
    """
    dataset = dataset.lower()
    if dataset not in _DEFAULT_YEAR:
        raise ConfigError(f"no download for dataset {dataset!r} (downloads exist for: {', '.join(_DEFAULT_YEAR)})")
    year_s = str(year if year is not None else _DEFAULT_YEAR[dataset])
    from ..datasets.registry import get_reader

    splits = get_reader(dataset).splits
    if split is not None and split not in splits:
        raise ConfigError(f"dataset {dataset!r} has no split {split!r} (splits: {', '.join(splits)})")
    key = year_s
    if dataset == "voc" and split == "test":
        if year_s != "2007":
            raise ConfigError(f"VOC {year_s} has no public test annotations (splits: train, val, trainval)")
        key = "2007-test"
    if (dataset, key) not in _DATASET_LAYOUT:
        years = sorted({k[1] for k in _DATASET_LAYOUT if k[0] == dataset and "test" not in k[1]})
        raise ConfigError(f"no download for {dataset} {year_s} (years: {', '.join(years)})")
    name, relative = _DATASET_LAYOUT[(dataset, key)]
    relative = relative.format(split=split or "train")
    from .archives import fetch_extracted  # archives → fetch → catalogue: imported when used

    root = fetch_extracted(name, **fetch_options)
    target = root / relative
    if not target.exists():
        raise DataError(f"{root}: the {name} archive has no {relative}")
    return target
