"""Checksums of downloads: ``"<algorithm>:<hex>"`` strings, running hashes, and the trust file ``checksums.json``.

``checksums.json`` (in the download cache) records, per file, the checksum it was
verified against (trust on first use for sources with no published one) and the size
and mtime at which it was last verified, so a verified file is not hashed again.

Examples
--------
>>> import pathlib
>>> p = tmp / "a.txt"
>>> _ = p.write_bytes(b"abc")
>>> file_digest(p, "sha1")
'sha1:a9993e364706816aba3e25717850c26c9cd0d89d'
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from .._atomic import atomic_write
from ..errors import ConfigError, DataError

__all__ = ["CHECKSUMS_FILE", "file_digest"]

#: Name of the file, in the download cache, that records verified files and trust-on-first-use checksums.
CHECKSUMS_FILE = "checksums.json"
_CHUNK = 1 << 20
_ALGORITHMS = ("md5", "sha1", "sha256")


def _split_checksum(checksum: str) -> tuple[str, str]:
    algo, sep, digest = checksum.partition(":")
    algo = algo.lower()
    size = {"md5": 32, "sha1": 40, "sha256": 64}.get(algo)
    digest = digest.lower()
    if not sep or size is None or len(digest) != size or any(c not in "0123456789abcdef" for c in digest):
        raise ConfigError(f"bad checksum {checksum!r}: expected 'md5:<32 hex>', 'sha1:<40 hex>' or 'sha256:<64 hex>'")
    return algo, digest


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The checksum of a file as ``"<algorithm>:<hex>"``, read in 1 MiB chunks.

    Examples
    --------
    >>> import pathlib
    >>> p = tmp / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_digest(p, "md5")
    'md5:900150983cd24fb0d6963f7d28e17f72'
    """
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return f"{algorithm}:{h.hexdigest()}"


class _Hashes:
    """Several running hashes of one byte stream (the expected algorithm and sha256 for the record)."""

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._h = {a: hashlib.new(a) for a in dict.fromkeys(algorithms)}

    def update(self, data: bytes) -> None:
        for h in self._h.values():
            h.update(data)

    def digest(self, algorithm: str) -> str:
        return f"{algorithm}:{self._h[algorithm].hexdigest()}"


class _Record:
    """``checksums.json``: per file, the trusted checksum and the size/mtime at which it was last verified."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CHECKSUMS_FILE
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DataError(f"{self.path}: unreadable checksum record ({exc}); delete it to start afresh") from None
            if not isinstance(data, dict) or not isinstance(data.get("files", {}), dict):
                raise DataError(f"{self.path}: not a labelgraph checksum record; delete it to start afresh")
            self.entries = data.get("files", {})

    def get(self, filename: str) -> dict[str, Any]:
        entry = self.entries.get(filename)
        return entry if isinstance(entry, dict) else {}

    def set(self, filename: str, **values: Any) -> None:
        self.entries[filename] = {k: v for k, v in values.items() if v is not None}
        with atomic_write(self.path, "w") as f:
            json.dump({"format": "labelgraph-checksums/1", "files": self.entries}, f, indent=2, sort_keys=True)


def _stamp(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
