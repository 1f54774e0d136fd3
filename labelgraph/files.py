"""The file layer: label-list files, name checks, file records, compressed input, progress bars, and
safe writes (atomic files, all-or-none runs, checked names and targets; implemented in ``_atomic``).

Every reader, the CLI, downloads and the ConceptNet ingest use these helpers, so a
label-list file, a duplicate name, a provenance record or a ``.gz`` file follows one
rule everywhere (the rules are written in ``docs/datasets.md``, "Files").

Examples
--------
>>> import pathlib
>>> p = tmp / "labels.txt"
>>> _ = p.write_text("# VOC subset\\ncat\\ndog\\n")
>>> read_label_list(p)
('cat', 'dog')
>>> sorted(file_record(p))
['bytes', 'path', 'sha256']
"""
from __future__ import annotations

import hashlib
import io
import os
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from ._atomic import StagedWrites, atomic_write, check_stem, check_writable, write_error
from .errors import DataError

if TYPE_CHECKING:
    from tqdm import tqdm as _Bar

__all__ = [
    "StagedWrites",
    "atomic_write",
    "check_stem",
    "check_writable",
    "write_error",
    "MAX_LINE_BYTES",
    "MAX_LABEL_CHARS",
    "FULL_HASH_LIMIT",
    "data_error",
    "raw_lines",
    "text_lines",
    "check_label",
    "require_file",
    "read_label_list",
    "unique_names",
    "sha256_file",
    "file_record",
    "read_file_record",
    "sniff",
    "inflate_module",
    "inflate_blocks",
    "open_maybe_compressed",
    "block_stream",
    "progress",
]

_CHUNK = 1 << 20
#: Longest line a text reader accepts (a line of many short labels may be megabytes long).
MAX_LINE_BYTES = 1 << 26
#: Longest label name accepted, in characters.
MAX_LABEL_CHARS = 4096
#: Files up to this size are hashed whole by :func:`file_record`; larger ones get a quick record when asked.
FULL_HASH_LIMIT = 512 << 20
_EDGE = 1 << 20
_MAX_MESSAGE = 300
_GZIP = b"\x1f\x8b"
#: First bytes of files, the kind :func:`sniff` names (longest magic first where they share a prefix).
_MAGIC = (
    (_GZIP, "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"%PDF", "pdf"),
    (b"\x80", "pickle"),
)
_KIND_TEXT = {"gzip": "a gzip-compressed file", "zip": "a zip archive", "png": "a PNG image",
              "jpeg": "a JPEG image", "pdf": "a PDF document", "pickle": "a Python pickle"}


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


# -- compressed and binary input ---------------------------------------------------------------------------------

def sniff(source: str | os.PathLike[str] | bytes) -> str | None:
    """The kind of a file by its first bytes: ``"gzip"``, ``"zip"``, ``"png"``, ``"jpeg"``, ``"pdf"``, ``"pickle"`` or ``None``.

    ``source`` is a path or the file's first bytes (at least 4 for a sure answer).

    Examples
    --------
    >>> import gzip
    >>> sniff(gzip.compress(b"cat")), sniff(b"cat 0.1 0.2")
    ('gzip', None)
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        head = bytes(source[:8])
    else:
        with open(source, "rb") as handle:
            head = handle.read(8)
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def inflate_module() -> Any:
    """ISA-L's zlib interface (``isal``, from ``labelgraph[fast]``) when installed, else :mod:`zlib`.

    Both offer ``decompressobj(31)`` for gzip and the ``error`` exception.

    Examples
    --------
    >>> inflate_module().__name__ in ("zlib", "isal.isal_zlib")
    True
    """
    try:
        from isal import isal_zlib

        return isal_zlib
    except ImportError:
        return zlib


def inflate_blocks(read: Callable[[int], bytes], name: str | os.PathLike[str], *, raw_size: int = 1 << 18,
                   on_raw: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (several concatenated members allowed), block by block.

    ``read(n)`` gives the compressed bytes; ``on_raw(n)`` is told how many were read
    (for a progress bar).  ``name`` is what the errors name.

    Raises
    ------
    DataError
        Corrupt gzip data (naming the compressed byte offset), or a stream that ends
        inside a member (a file cut short).

    Examples
    --------
    >>> import gzip, io
    >>> data = gzip.compress(b"cat 1\\n") + gzip.compress(b"dog 2\\n")
    >>> b"".join(inflate_blocks(io.BytesIO(data).read, "v.gz"))
    b'cat 1\\ndog 2\\n'
    >>> b"".join(inflate_blocks(io.BytesIO(data[:-12]).read, "v.gz"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: v.gz: gzip data ends early at byte 40 (truncated gzip: the file is cut short; download it again)
    """
    inflate = inflate_module()
    decomp = inflate.decompressobj(31)
    fed = False
    offset = 0
    while raw := read(raw_size):
        offset += len(raw)
        if on_raw is not None:
            on_raw(len(raw))
        while raw:
            try:
                out = decomp.decompress(raw)
            except inflate.error as exc:
                raise DataError(f"{name}: corrupt gzip data near byte {offset:,} ({exc})") from None
            fed = True
            if out:
                yield out
            if decomp.eof:  # a concatenated gzip member may follow
                raw = decomp.unused_data
                decomp = inflate.decompressobj(31)
                fed = False
            else:
                raw = b""
    if fed:
        tail = decomp.flush()
        if tail:
            yield tail
        if not decomp.eof:
            raise DataError(f"{name}: gzip data ends early at byte {offset:,} (truncated gzip: the file is cut short; "
                            "download it again)")


class _Blocks(io.RawIOBase):
    """A read-only raw stream over an iterator of byte blocks."""

    def __init__(self, blocks: Iterator[bytes], name: str, close: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._blocks = blocks
        self._pending = memoryview(b"")
        self._on_close = close
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._pending = memoryview(block)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            close = getattr(self._blocks, "close", None)
            if close is not None:
                close()
            if self._on_close is not None:
                self._on_close()
        super().close()


def block_stream(blocks: Iterable[bytes], name: str = "<blocks>") -> IO[bytes]:
    """A buffered binary stream (``readline``, iteration by lines) over byte blocks, e.g. inflated ones.

    Examples
    --------
    >>> list(block_stream([b"cat 1\\nd", b"og 2\\n"]))
    [b'cat 1\\n', b'dog 2\\n']
    """
    return io.BufferedReader(_Blocks(iter(blocks), name), buffer_size=_CHUNK)  # type: ignore[return-value]


def open_maybe_compressed(path: str | os.PathLike[str]) -> IO[bytes]:
    """A binary stream of ``path``'s content: inflated when the file is gzip (by its magic bytes), else the file.

    Inflating uses :func:`inflate_module` (ISA-L when installed); errors are the
    :class:`DataError` of :func:`inflate_blocks`.  Use it as a context manager; wrap it
    in :class:`io.TextIOWrapper` for text.

    Examples
    --------
    >>> import gzip, pathlib
    >>> p = tmp / "x.arff.gz"
    >>> _ = p.write_bytes(gzip.compress(b"@relation x\\n"))
    >>> with open_maybe_compressed(p) as f:
    ...     f.readline()
    b'@relation x\\n'
    """
    path = Path(path)
    if sniff(path) == "gzip":
        raw = open(path, "rb")
        return io.BufferedReader(_Blocks(inflate_blocks(raw.read, path), str(path), raw.close),
                                 buffer_size=_CHUNK)
    return open(path, "rb")


# -- text lines --------------------------------------------------------------------------------------------------

def raw_lines(path: str | os.PathLike[str], what: str = "text file") -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of each line of ``path``, line ending included, a UTF-8 BOM removed.

    Raises
    ------
    DataError
        Naming ``path:line``: a compressed, image or other binary file where text is
        expected (by its first bytes), or a line longer than :data:`MAX_LINE_BYTES`.

    Examples
    --------
    >>> import pathlib
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
                kind = sniff(raw)
                if kind is not None:
                    raise data_error(path, f"{_KIND_TEXT[kind]}, not a {what}", lineno)
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if len(raw) > MAX_LINE_BYTES:
                raise data_error(path, f"line longer than {MAX_LINE_BYTES:,} bytes (not a {what}?)", lineno)
            yield lineno, raw


def text_lines(path: str | os.PathLike[str], what: str = "text file") -> Iterator[tuple[int, str]]:
    """:func:`raw_lines` decoded as UTF-8; a line that is not UTF-8 or holds a NUL byte is a DataError.

    Examples
    --------
    >>> import pathlib
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


# -- label lists and names ---------------------------------------------------------------------------------------

def read_label_list(path: str | os.PathLike[str], what: str = "label-list file") -> tuple[str, ...]:
    """Label names from a text file, one a line: the one rule for every label-list file.

    UTF-8, a BOM dropped; surrounding blanks trimmed; blank lines and lines whose
    first non-blank character is ``#`` skipped; the limits of :func:`raw_lines`
    and :func:`check_label`.  A name listed twice is an error naming both lines.

    Raises
    ------
    DataError
        No such file, not UTF-8 text, a binary file, a label too long, a label
        listed twice, or no label at all.

    Examples
    --------
    >>> import pathlib
    >>> p = tmp / "labels.txt"
    >>> _ = p.write_text("# two labels\\ncat\\n dog \\n\\n")
    >>> read_label_list(p)
    ('cat', 'dog')
    >>> _ = p.write_text("cat\\ndog\\ncat\\n")
    >>> read_label_list(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...labels.txt:3: label 'cat' listed twice (first on line 1)
    """
    path = require_file(path, what)
    names: list[str] = []
    lines: list[int] = []
    for lineno, line in text_lines(path, what):
        name = check_label(path, line.strip(), lineno)
        if not name or name.startswith("#"):
            continue
        names.append(name)
        lines.append(lineno)
    if not names:
        raise data_error(path, f"{what} holds no label (one label a line)")
    return unique_names(names, where=path, lines=lines)


def unique_names(names: Iterable[str], *, what: str = "label", where: str | os.PathLike[str] | None = None,
                 lines: Sequence[int] | None = None, error: type[DataError] = DataError) -> tuple[str, ...]:
    """``names`` as a tuple when no name repeats; the one duplicate-name error otherwise.

    With ``lines`` (each name's line in the file ``where``) the message names the
    file, the line of the second occurrence and the first; without, it lists the
    repeated names (up to five) after ``where``.

    Raises
    ------
    DataError
        Or the subclass given as ``error`` (an :class:`~labelgraph.errors.ArtifactError`
        for artifacts).

    Examples
    --------
    >>> unique_names(["cat", "dog"])
    ('cat', 'dog')
    >>> unique_names(["cat", "dog", "cat", "dog"], where="x.npz")
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: x.npz: duplicate label names: cat, dog
    >>> unique_names(["cat", "cat"], where="l.txt", lines=[2, 5])
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: l.txt:5: label 'cat' listed twice (first on line 2)
    """
    names = tuple(str(x) for x in names)
    if len(set(names)) == len(names):
        return names
    if lines is not None:
        seen: dict[str, int] = {}
        for name, line in zip(names, lines):
            if name in seen:
                raise error(str(data_error(where if where is not None else "input", f"{what} {name!r} listed twice "
                                                         f"(first on line {seen[name]})", line)))
            seen[name] = line
    seen_set: set[str] = set()
    dup = sorted({x for x in names if x in seen_set or seen_set.add(x)})  # type: ignore[func-returns-value]
    message = f"duplicate {what} names: {', '.join(dup[:5])}" + (f" (and {len(dup) - 5} more)" if len(dup) > 5 else "")
    raise error(f"{where}: {message}" if where is not None else message)


# -- provenance --------------------------------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Examples
    --------
    >>> import pathlib
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


def file_record(path: str | os.PathLike[str], *, quick_over: int | None = None) -> dict[str, Any]:
    """The provenance record of an input file: ``{"path", "sha256", "bytes"}``.

    ``sha256`` is of the whole file.  With ``quick_over``, a file larger than that
    many bytes (a multi-gigabyte vector archive) is fingerprinted instead by the
    sha256 of its size (decimal text), first MiB and last MiB, and the record says so
    with ``"method": "sha256(size, first MiB, last MiB)"``.  No mtime: a copy of the
    same bytes is the same input.

    Examples
    --------
    >>> import pathlib, hashlib
    >>> p = tmp / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> r = file_record(p)
    >>> r["bytes"], r["sha256"] == hashlib.sha256(b"abc").hexdigest()
    (3, True)
    >>> file_record(p, quick_over=2)["method"]
    'sha256(size, first MiB, last MiB)'
    """
    size = os.stat(path).st_size
    if quick_over is None or size <= quick_over:
        return {"path": str(path), "sha256": sha256_file(path), "bytes": size}
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(_EDGE))
        handle.seek(max(size - _EDGE, 0))
        digest.update(handle.read(_EDGE))
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": size,
            "method": "sha256(size, first MiB, last MiB)"}


def read_file_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A file record in today's schema, from one written by any earlier version.

    Earlier metadata named the path ``file`` and the size ``size``; both still load.

    Examples
    --------
    >>> read_file_record({"file": "a.csv.gz", "sha256": "ab", "size": 3})
    {'path': 'a.csv.gz', 'sha256': 'ab', 'bytes': 3}
    """
    out = {"path": record.get("path", record.get("file")), "sha256": record.get("sha256"),
           "bytes": record.get("bytes", record.get("size"))}
    if record.get("method") not in (None, "sha256"):
        out["method"] = record["method"]
    return out


# -- progress ----------------------------------------------------------------------------------------------------

def progress(iterable: Iterable[Any] | None = None, *, enabled: bool, total: float | None = None,
             desc: str | None = None, unit: str = "it", unit_scale: bool = False, initial: float = 0,
             leave: bool = False, **extra: Any) -> "_Bar":
    """A tqdm progress bar on stderr, or a silent one that costs nothing when ``enabled`` is False.

    The CLI passes ``enabled=progress_enabled(quiet)`` (a terminal and no
    ``--quiet``); library calls default to no bar.  Byte counts (``unit="B"``) are
    shown in KiB/MiB.

    Examples
    --------
    >>> with progress(range(3), enabled=False) as bar:
    ...     sum(bar)
    3
    """
    from tqdm.auto import tqdm

    if unit == "B":
        extra.setdefault("unit_divisor", 1024)
    return tqdm(iterable, total=total, desc=desc, unit=unit, unit_scale=unit_scale or unit == "B",
                initial=initial, leave=leave, disable=not enabled, **extra)
