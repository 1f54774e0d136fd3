"""``labelgraph embed``'s option handling as Python calls (the embedding itself is :mod:`labelgraph.embeddings`)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..errors import ConfigError
from .labels import file_stem

__all__ = ["parse_aliases", "vectors_stem"]


def parse_aliases(dataset: str | None, pairs: Iterable[str] = ()) -> dict[str, str]:
    """The dataset's label → lookup-text aliases, then ``LABEL=TEXT`` pairs (``--alias``) over them.

    Examples
    --------
    >>> parse_aliases(None, ["tvmonitor=tv monitor"])
    {'tvmonitor': 'tv monitor'}
    >>> parse_aliases(None, ["tvmonitor"])
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --alias 'tvmonitor': expected LABEL=TEXT (e.g. --alias 'tvmonitor=tv monitor')
    """
    from ..embeddings import DATASET_ALIASES

    out = dict(DATASET_ALIASES.get(dataset or "", {}))
    for pair in pairs:
        label, sep, text = pair.partition("=")
        if not sep or not label.strip() or not text.strip():
            raise ConfigError(f"--alias {pair!r}: expected LABEL=TEXT (e.g. --alias 'tvmonitor=tv monitor')")
        out[label.strip()] = text.strip()
    return out


def vectors_stem(vectors: str, member: str | None = None) -> str:
    """The part of an embeddings file name that names the vectors: a known name, or the file's (member's) stem.

    Examples
    --------
    >>> vectors_stem("glove.6B.50d"), vectors_stem("/data/glove.6B.zip", "glove.6B.300d.txt")
    ('glove.6B.50d', 'glove.6B.300d')
    """
    from ..embeddings import KNOWN_VECTORS

    if Path(vectors).exists() or vectors not in KNOWN_VECTORS:
        return file_stem(Path(member).name if member else Path(vectors).name)
    return vectors
