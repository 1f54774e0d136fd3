"""Display names: the words a label stands for, shared by text encoders, word-vector lookup and ConceptNet.

A dataset's label names are identifiers, not always words: VOC fuses two words
(``diningtable``), HICO-style action labels join a verb and an object with ``_``
(``ride_bicycle``), some lists use camelCase (``cellPhone``).  Text encoders
(SPEC §3.1), the word-vector lookup (SPEC §3) and the ConceptNet mapping (SPEC §2.5)
all read a label through :func:`display_name`, so the three agree.

The name of a label, in order:

1. the dataset's table (:data:`DISPLAY_NAMES`; VOC's fused names), when the label is there;
2. otherwise ``_`` becomes a space, a lower-case letter followed by an upper-case
   letter and a lower-case one is split there with the capital lower-cased
   (``cellPhone`` → ``cell phone``; ``TVMonitor`` and ``USA`` stay: capitals runs are
   acronyms), runs of whitespace become one space and the ends are stripped.
   Hyphens stay (``t-shirt`` is a word); case is otherwise kept.

Examples
--------
>>> display_name("diningtable", "voc2007")
'dining table'
>>> display_name("person_riding_bicycle")
'person riding bicycle'
>>> display_name("cellPhone")
'cell phone'
"""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Iterable, Mapping

__all__ = ["DISPLAY_NAMES", "dataset_family", "display_name", "display_names", "name_table"]

#: Per dataset family: label → display name, for the names the generic rule cannot read.
DISPLAY_NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "voc": MappingProxyType({"diningtable": "dining table", "pottedplant": "potted plant",
                             "tvmonitor": "tv monitor"}),
})

_CAMEL = re.compile(r"(?<=[a-z])([A-Z])(?=[a-z])")
_SPACE = re.compile(r"\s+")


def dataset_family(dataset: str | None) -> str:
    """The family a dataset name belongs to (``voc2007`` → ``voc``); ``""`` for ``None``.

    Examples
    --------
    >>> dataset_family("VOC2012"), dataset_family("coco2014"), dataset_family("nuswide")
    ('voc', 'coco', 'nuswide')
    """
    if not dataset:
        return ""
    from .registry import canonical_name  # the one table of dataset names and aliases

    return canonical_name(dataset) or dataset.lower()


def name_table(dataset: str | None) -> dict[str, str]:
    """The dataset's explicit label → display-name entries (empty when it has none).

    Examples
    --------
    >>> name_table("voc")["tvmonitor"]
    'tv monitor'
    >>> name_table("coco")
    {}
    """
    return dict(DISPLAY_NAMES.get(dataset_family(dataset), {}))


def display_name(label: str, dataset: str | None = None, aliases: Mapping[str, str] | None = None) -> str:
    """The words ``label`` stands for (this module's rules); ``aliases`` (label → name) win over all.

    Examples
    --------
    >>> display_name("pottedplant", "voc"), display_name("pottedplant")
    ('potted plant', 'pottedplant')
    >>> display_name("hold_cup", aliases={"hold_cup": "holding a cup"})
    'holding a cup'
    >>> display_name("  traffic   light ")
    'traffic light'
    """
    if aliases and label in aliases:
        return aliases[label]
    table = DISPLAY_NAMES.get(dataset_family(dataset), {})
    if label in table:
        return table[label]
    text = label.replace("_", " ")
    text = _CAMEL.sub(lambda m: " " + m.group(1).lower(), text)
    return _SPACE.sub(" ", text).strip()


def display_names(labels: Iterable[str], dataset: str | None = None,
                  aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """label → :func:`display_name`, in the labels' order.

    Examples
    --------
    >>> display_names(["tvmonitor", "dog"], "voc2007")
    {'tvmonitor': 'tv monitor', 'dog': 'dog'}
    """
    return {label: display_name(label, dataset, aliases) for label in labels}
