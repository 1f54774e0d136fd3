"""Helpers shared by the dataset readers: file checks, sha256, label-list files, building a LabelSet.

Every error here is a :class:`~labelgraph.errors.DataError` whose message starts
with the file (and ``:line`` where one is known), so the CLI can print it as is.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import DataError
from ..labelset import LabelSet

__all__ = [
    "data_error",
    "MAX_LINE_BYTES",
    "MAX_LABEL_CHARS",
    "raw_lines",
    "text_lines",
    "check_label",
    "require_file",
    "sha256_file",
    "file_record",
    "read_label_list",
    "resolve_labels",
    "build_labelset",
]

_CHUNK = 1 << 20
#: Longest line a text reader accepts (a line of many short labels may be megabytes long).
MAX_LINE_BYTES = 1 << 26
_MAX_MESSAGE = 300
#: Longest label name accepted, in characters.
MAX_LABEL_CHARS = 4096
#: First bytes of files that are often given by mistake where text is expected.
_BINARY_MAGIC = {
    b"\x1f\x8b": "a gzip-compressed file",
    b"PK\x03\x04": "a zip archive",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"\x80": "a Python pickle",
}


def data_error(path: str | os.PathLike[str], message: str, line: int | None = None) -> DataError:
    """A :class:`DataError` whose message starts with ``path`` (and ``:line`` when given).

    Examples
    --------
    >>> str(data_error("a/b.txt", "bad value '2'", line=7))
    "a/b.txt:7: bad value '2'"
    """
    where = f"{path}:{line}" if line is not None else f"{path}"
    if len(message) > _MAX_MESSAGE:  # a hostile file's megabyte value stays out of the one-line error
        message = message[:_MAX_MESSAGE] + f"... ({len(message):,} characters)"
    return DataError(f"{where}: {message}")


def raw_lines(path: str | os.PathLike[str], what: str = "text file") -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of each line of ``path``, line ending included, a UTF-8 BOM removed.

    Raises
    ------
    DataError
        Naming ``path:line``: a compressed, image or other binary file where text is
        expected (by its first bytes), or a line longer than :data:`MAX_LINE_BYTES`.

    Examples
    --------
    >>> p = tmp / "x.csv"
    >>> _ = p.write_bytes(b"\\xef\\xbb\\xbfa,b\\nc")
    >>> list(raw_lines(p))
    [(1, b'a,b\\n'), (2, b'c')]
    >>> _ = p.write_bytes(b"\\x1f\\x8b\\x08\\x00")
    >>> list(raw_lines(p, "CSV file"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...x.csv:1: a gzip-compressed file, not a CSV file
    """
    with open(path, "rb") as handle:
        lineno = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            lineno += 1
            if lineno == 1:
                kind = next((k for magic, k in _BINARY_MAGIC.items() if raw.startswith(magic)), None)
                if kind is not None:
                    raise data_error(path, f"{kind}, not a {what}", lineno)
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if len(raw) > MAX_LINE_BYTES:
                raise data_error(path, f"line longer than {MAX_LINE_BYTES:,} bytes (not a {what}?)", lineno)
            yield lineno, raw


def text_lines(path: str | os.PathLike[str], what: str = "text file") -> Iterator[tuple[int, str]]:
    """:func:`raw_lines` decoded as UTF-8; a line that is not UTF-8 or holds a NUL byte is a DataError.

    Examples
    --------
    >>> p = tmp / "labels.txt"
    >>> _ = p.write_bytes("caf\\u00e9\\n".encode("utf-8") + b"caf\\xe9\\n")
    >>> list(text_lines(p))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...labels.txt:2: not UTF-8 text (byte 0xe9 at column 4)
    """
    for lineno, raw in raw_lines(path, what):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise data_error(path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                             lineno) from None
        nul = text.find("\x00")
        if nul >= 0:
            raise data_error(path, f"a NUL byte at column {nul + 1} (binary data, not a {what})", lineno)
        yield lineno, text


def check_label(path: str | os.PathLike[str], name: str, line: int | None = None) -> str:
    """``name`` if it is at most :data:`MAX_LABEL_CHARS` characters; a DataError naming the line otherwise.

    Examples
    --------
    >>> check_label("x.csv", "cat", 2)
    'cat'
    >>> check_label("x.csv", "c" * 5000, 2)
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: x.csv:2: a label of 5,000 characters (at most 4,096): 'cccccccccccccccccccc...'
    """
    if len(name) > MAX_LABEL_CHARS:
        raise data_error(path, f"a label of {len(name):,} characters (at most {MAX_LABEL_CHARS:,}): "
                               f"{name[:20] + '...'!r}", line)
    return name


def require_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """``path`` as a :class:`~pathlib.Path` if it is an existing file; a :class:`DataError` otherwise.

    Examples
    --------
    >>> require_file("/nonexistent/instances_train2014.json", "COCO annotation file")
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: /nonexistent/instances_train2014.json: no such COCO annotation file
    """
    path = Path(path)
    if not path.is_file():
        if path.is_dir():
            raise data_error(path, f"is a folder, expected a {what}")
        raise data_error(path, f"no such {what}")
    return path


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Examples
    --------
    >>> p = tmp / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{"path": ..., "sha256": ...}`` for a LabelSet's ``source["files"]``.

    Examples
    --------
    >>> p = tmp / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sorted(file_record(p))
    ['path', 'sha256']
    """
    return {"path": str(path), "sha256": sha256_file(path)}


def read_label_list(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """Label names from a text file, one per line (surrounding blanks stripped, blank lines skipped).

    A name listed twice is a :class:`DataError` naming both lines.

    Examples
    --------
    >>> p = tmp / "labels.txt"
    >>> _ = p.write_text("cat\\n dog \\n\\n")
    >>> read_label_list(p)
    ('cat', 'dog')
    """
    path = require_file(path, "label-list file")
    names: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in text_lines(path, "label-list file"):
        name = check_label(path, line.strip(), lineno)
        if not name:
            continue
        if name in seen:
            raise data_error(path, f"label {name!r} listed twice (first on line {seen[name]})", lineno)
        seen[name] = lineno
        names.append(name)
    if not names:
        raise data_error(path, "label-list file holds no label")
    return tuple(names)


def resolve_labels(labels: Sequence[str] | str | os.PathLike[str]) -> tuple[str, ...]:
    """A label order given either as names or as a label-list file path.

    Examples
    --------
    >>> resolve_labels(["cat", "dog"])
    ('cat', 'dog')
    """
    if isinstance(labels, (str, os.PathLike)):
        return read_label_list(labels)
    names = tuple(str(x) for x in labels)
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1})
        raise DataError(f"duplicate label names: {', '.join(dup[:5])}")
    return names


def build_labelset(path: str | os.PathLike[str], sample_ids: Sequence[str], labels: Sequence[str],
                   rows: Iterable[int] | np.ndarray, cols: Iterable[int] | np.ndarray,
                   source: Mapping[str, Any]) -> LabelSet:
    """A validated :class:`LabelSet` from (row, column) pairs of 1s.

    Checks what every reader shares: at least one sample, unique sample ids.
    ``path`` is what the error messages name.

    Examples
    --------
    >>> ls = build_labelset("x.csv", ["a", "b"], ["cat", "dog"], [0, 1, 1], [0, 0, 1], {"dataset": "x"})
    >>> ls.Y.toarray().tolist()
    [[1, 0], [1, 1]]
    >>> build_labelset("x.csv", [], ["cat"], [], [], {})
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: x.csv: no samples (a dataset with zero samples has no statistics)
    """
    n = len(sample_ids)
    if n == 0:
        raise data_error(path, "no samples (a dataset with zero samples has no statistics)")
    if len(set(sample_ids)) != n:
        seen: set[str] = set()
        dup = next(s for s in sample_ids if s in seen or seen.add(s))  # type: ignore[func-returns-value]
        raise data_error(path, f"duplicate sample id {dup!r}")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    Y = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(n, len(labels)))
    src = {"path": str(path)}
    src.update(source)
    return LabelSet(list(sample_ids), tuple(labels), Y, src)
