"""Vector sources by name (``glove.6B.300d``, ``glove.840B.300d``, ``numberbatch-en-19.08``) and file fingerprints.

A known name is fetched once with :func:`labelgraph.download.fetch` (progress,
checksum, resume) into the download cache, then read in place: ``glove.6B.300d``
is the member ``glove.6B.300d.txt`` of the cached ``glove.6B.zip``, never extracted.

Examples
--------
>>> KNOWN_VECTORS["glove.6B.300d"].download, KNOWN_VECTORS["glove.6B.300d"].member
('glove.6B', 'glove.6B.300d.txt')
>>> KNOWN_VECTORS["numberbatch-en-19.08"].format
'numberbatch'
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..files import FULL_HASH_LIMIT, file_record
from .formats import VectorFile, open_vectors

__all__ = ["KnownVectors", "KNOWN_VECTORS", "resolve_source", "file_fingerprint", "FULL_HASH_LIMIT"]



@dataclass(frozen=True)
class KnownVectors:
    """A vector file known by name.

    Attributes
    ----------
    name : str
        What ``--vectors`` accepts.
    download : str
        The name in :data:`labelgraph.download.SOURCES`.
    member : str or None
        The member of the downloaded ``.zip`` to read.
    format : str
        Its format in :data:`~labelgraph.embeddings.formats.FORMATS`.
    dim : int
        Its dimension.
    description : str
        One line.
    """

    name: str
    download: str
    member: str | None
    format: str
    dim: int
    description: str


#: Every vector file known by name.
KNOWN_VECTORS: dict[str, KnownVectors] = {k.name: k for k in [
    *(KnownVectors(f"glove.6B.{d}d", "glove.6B", f"glove.6B.{d}d.txt", "glove", d,
                   f"GloVe 6B (Wikipedia 2014 + Gigaword 5, 400k lower-case words), {d}-d")
      for d in (50, 100, 200, 300)),
    KnownVectors("glove.840B.300d", "glove.840B.300d", "glove.840B.300d.txt", "glove", 300,
                 "GloVe 840B (Common Crawl, 2.2M cased keys), 300-d: the vectors ML-GCN used"),
    KnownVectors("numberbatch-en-19.08", "numberbatch-en-19.08", None, "numberbatch", 300,
                 "ConceptNet Numberbatch 19.08, English, 300-d"),
]}


def resolve_source(source: str | os.PathLike[str], *, member: str | None = None,
                   cache_dir: str | os.PathLike[str] | None = None, base_url: str | None = None,
                   progress: bool = False) -> tuple[VectorFile, KnownVectors | None]:
    """Open ``source``: an existing file, or a name in :data:`KNOWN_VECTORS` (downloaded once, then cached).

    Parameters
    ----------
    source : str or path
        A file path, or a known name.  An existing file wins over a name.
    member : str, optional
        The ``.zip`` member to read (a known name sets it).
    cache_dir, base_url, progress
        Passed to :func:`labelgraph.download.fetch` for a known name.

    Returns
    -------
    (VectorFile, KnownVectors or None)

    Examples
    --------
    >>> p = tmp / "v.txt"
    >>> _ = p.write_text("cat 1 2\\n")
    >>> vf, known = resolve_source(p)
    >>> vf.stem, known
    ('v', None)
    """
    path = Path(source)
    if path.exists():
        return open_vectors(path, member), None
    known = KNOWN_VECTORS.get(str(source))
    if known is None:
        raise DataError(f"{source}: no such file, and not a known vector name "
                        f"(known: {', '.join(KNOWN_VECTORS)})")
    from ..download import fetch  # the downloader (and requests) only when a name is used

    local = fetch(known.download, cache_dir=cache_dir, base_url=base_url, progress=progress)
    return open_vectors(local, member if member is not None else known.member), known


def file_fingerprint(path: str | os.PathLike[str], *, limit: int | None = FULL_HASH_LIMIT) -> dict[str, object]:
    """A fingerprint of a source file for the artifact's provenance.

    Up to ``limit`` bytes (512 MiB; ``None``: no limit): the sha256 of the whole file.  Larger files (the
    822 MB ``glove.6B.zip``, the 2 GB ``glove.840B.300d.zip``) get a cheap
    fingerprint: the sha256 of the size (as decimal text) followed by the first
    and the last MiB, which tells versions and truncated copies apart without
    reading gigabytes; ``method`` says which was used.

    Examples
    --------
    >>> import hashlib
    >>> p = tmp / "v.txt"
    >>> _ = p.write_bytes(b"cat 1 2\\n")
    >>> fp = file_fingerprint(p)
    >>> fp["method"], fp["sha256"] == hashlib.sha256(b"cat 1 2\\n").hexdigest()
    ('sha256', True)
    >>> file_fingerprint(p, limit=4)["method"]
    'sha256(size, first MiB, last MiB)'
    """
    record = file_record(path, quick_over=limit)  # the one hashing rule; this schema is the embeddings meta's
    return {"method": record.get("method", "sha256"), "sha256": record["sha256"], "size": record["bytes"]}
