"""Vector-file formats: a registry by name, opening (plain, ``.gz``, ``.zip`` member) and detection.

Every reader gets a :class:`VectorFile`: the path, the ``.zip`` member if any, and
a way to stream the (decompressed) bytes in large blocks.  Nothing here parses a
vector; :mod:`labelgraph.embeddings.scan` and :mod:`labelgraph.embeddings.binary`
do.

Detection looks at the first bytes only:

* a pickle (``0x80`` protocol byte) → ``gensim`` (a saved ``KeyedVectors``);
* a first line of two integers (``count dim``) → ``word2vec`` when the next line is
  text, ``word2vec-binary`` otherwise; ``numberbatch`` when the first key starts
  with ``/c/`` or the file name contains ``numberbatch``;
* anything else that is text → ``glove``;
* a NUL byte in the first block without such a header → an error (binary data
  given as text).

Examples
--------
>>> get_format("glove").header
False
>>> sorted(FORMATS)
['gensim', 'glove', 'numberbatch', 'word2vec', 'word2vec-binary']
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ConfigError, DataError
from ..files import inflate_blocks, sniff

__all__ = [
    "VectorFormat",
    "FORMATS",
    "get_format",
    "VectorFile",
    "open_vectors",
    "detect_format",
    "VECTOR_MEMBER_SUFFIXES",
]

#: Size of the blocks the readers pull from a file (decompressed bytes for ``.gz``/``.zip``).
BLOCK_SIZE = 1 << 20
#: ``.zip`` members taken for vector files (the official GloVe zips hold ``.txt`` members).
VECTOR_MEMBER_SUFFIXES = (".txt", ".vec", ".txt.gz", ".bin")
_HEADER = re.compile(rb"^\s*(\d+)[ \t]+(\d+)\s*$")


@dataclass(frozen=True)
class VectorFormat:
    """One vector-file format.

    Attributes
    ----------
    name : str
        Registry name (``--format``).
    description : str
        One line for help texts.
    reader : str
        ``"text"`` (label-only line scanner), ``"word2vec-binary"`` or ``"gensim"``.
    header : bool
        The file starts with a ``count dim`` line (word2vec layout).
    spaced_keys : bool
        Keys may contain spaces (glove.840B): a line's vector is split off from the right.
    key_prefixes : tuple of str
        Forms a term may take in the file: ``("", "/c/en/")`` for Numberbatch, which
        has both plain (``numberbatch-en``) and URI (multilingual) keys.
    """

    name: str
    description: str
    reader: str
    header: bool = False
    spaced_keys: bool = False
    key_prefixes: tuple[str, ...] = ("",)


#: Every format, by name.
FORMATS: dict[str, VectorFormat] = {f.name: f for f in [
    VectorFormat("glove", "GloVe text: 'word v1 ... vd' a line, no header (.txt, .txt.gz, .zip member)",
                 "text", header=False, spaced_keys=True),
    VectorFormat("word2vec", "word2vec text: a 'count dim' header line, then 'word v1 ... vd' lines",
                 "text", header=True),
    VectorFormat("word2vec-binary", "word2vec binary: a 'count dim' header, then 'word ' + d little-endian float32",
                 "word2vec-binary", header=True),
    VectorFormat("gensim", "gensim KeyedVectors saved with .save() (read with a restricted unpickler)",
                 "gensim"),
    VectorFormat("numberbatch", "ConceptNet Numberbatch text (word2vec text; keys /c/en/word or plain word)",
                 "text", header=True, key_prefixes=("", "/c/en/")),
]}


def get_format(name: str) -> VectorFormat:
    """The :class:`VectorFormat` called ``name``; a :class:`ConfigError` listing the known ones.

    Examples
    --------
    >>> get_format("numberbatch").key_prefixes
    ('', '/c/en/')
    >>> get_format("fasttext")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: unknown vector format 'fasttext' (known: glove, word2vec, word2vec-binary, gensim, numberbatch)
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(f"unknown vector format {name!r} (known: {', '.join(FORMATS)})") from None


@dataclass(frozen=True)
class VectorFile:
    """A vector file on disk, possibly a member of a ``.zip``, possibly gzip-compressed.

    Attributes
    ----------
    path : pathlib.Path
        The file on disk.
    member : str or None
        The ``.zip`` member read (never extracted), or ``None``.
    gzipped : bool
        The bytes (of the file or the member) are gzip-compressed.
    """

    path: Path
    member: str | None = None
    gzipped: bool = False

    @property
    def name(self) -> str:
        """How messages name the file: ``path`` or ``path:member``."""
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    @property
    def stem(self) -> str:
        """The file (or member) name without ``.gz``/``.txt``/``.zip``/… suffixes (``glove.6B.50d``).

        Examples
        --------
        >>> VectorFile(Path("/x/glove.6B.50d.txt.gz")).stem
        'glove.6B.50d'
        """
        name = Path(self.member).name if self.member else self.path.name
        for suffix in (".gz", ".zip", ".txt", ".vec", ".bin", ".kv", ".model", ".w2v"):
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
        return name

    def blocks(self, size: int = BLOCK_SIZE, on_raw: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """Yield the decompressed bytes in blocks of about ``size`` bytes.

        ``on_raw(n)`` is called with the number of bytes read from disk (compressed
        bytes for ``.gz``), for a progress bar.  A ``.gz`` is inflated with
        :func:`labelgraph.files.inflate_blocks` (ISA-L when installed; several
        concatenated gzip members allowed).
        """
        if self.member is None:
            with open(self.path, "rb", buffering=0) as raw:
                yield from _blocks(raw.read, size, self.gzipped, on_raw, self.name)
            return
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as handle:
            yield from _blocks(handle.read, size, self.gzipped, on_raw, self.name)

    def head(self, size: int = 1 << 16) -> bytes:
        """The first ``size`` decompressed bytes (fewer for a short file)."""
        out = bytearray()
        for block in self.blocks(size):
            out += block
            if len(out) >= size:
                break
        return bytes(out[:size])

    def total_raw(self) -> int:
        """Bytes :meth:`blocks` reports through ``on_raw`` for the whole file (for progress bars)."""
        if self.member is None:
            return self.path.stat().st_size
        with zipfile.ZipFile(self.path) as archive:
            return archive.getinfo(self.member).file_size


def _blocks(read: Callable[[int], bytes], size: int, gzipped: bool,
            on_raw: Callable[[int], None] | None, name: str) -> Iterator[bytes]:
    try:
        if not gzipped:
            while True:
                block = read(size)
                if not block:
                    return
                if on_raw:
                    on_raw(len(block))
                yield block
        yield from inflate_blocks(read, name, raw_size=max(size // 4, 1 << 16), on_raw=on_raw)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{name}: damaged archive member ({exc})") from None


def _is_gzip(path: Path) -> bool:
    return sniff(path) == "gzip"


def open_vectors(path: str | os.PathLike[str], member: str | None = None) -> VectorFile:
    """Open a vector file: plain, ``.gz`` (by its magic bytes) or a member of a ``.zip``.

    Parameters
    ----------
    path : path
        The file.
    member : str, optional
        For a ``.zip``: the member to read.  Without it the archive must hold
        exactly one vector member (a name ending in ``.txt``, ``.vec``, ``.txt.gz`` or ``.bin``).

    Raises
    ------
    DataError
        Missing or empty file, a ``.zip`` with no vector member or without the member asked for.
    ConfigError
        A ``.zip`` with several vector members and no ``member`` given (the message lists them).

    Examples
    --------
    >>> import zipfile
    >>> d = tmp
    >>> with zipfile.ZipFile(d / "v.zip", "w") as z:
    ...     z.writestr("readme.md", "vectors")
    ...     z.writestr("v.50d.txt", "cat 1 2\\n")
    >>> open_vectors(d / "v.zip").name.endswith("v.zip:v.50d.txt")
    True
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file")
    if not zipfile.is_zipfile(path) or _is_gzip(path):
        if member is not None:
            raise ConfigError(f"{path}: not a .zip archive, so it has no member {member!r}")
        return VectorFile(path, None, _is_gzip(path))
    try:
        with zipfile.ZipFile(path) as archive:
            everything = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path}: damaged .zip archive ({exc})") from None
    _check_member_names(path, [i.filename for i in everything])
    infos = [i for i in everything if not i.is_dir()]
    names = [i.filename for i in infos]
    if member is not None:
        if member not in names:
            raise DataError(f"{path}: no member {member!r} (members: {', '.join(names[:10]) or 'none'})")
    else:
        vectors = [n for n in names if n.lower().endswith(VECTOR_MEMBER_SUFFIXES)
                   and not n.startswith("__MACOSX/")]
        if not vectors:
            raise DataError(f"{path}: no vector member in the archive (want a name ending in "
                            f"{', '.join(VECTOR_MEMBER_SUFFIXES)}; members: {', '.join(names[:10]) or 'none'})")
        if len(vectors) > 1:
            raise ConfigError(f"{path}: {len(vectors)} vector members, choose one with --member "
                              f"(or a name such as glove.6B.300d): {', '.join(vectors)}")
        member = vectors[0]
    info = next(i for i in infos if i.filename == member)
    if info.file_size == 0:
        raise DataError(f"{path}:{member}: empty file")
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        gz = sniff(handle.read(8)) == "gzip"
    return VectorFile(path, member, gz)


def _check_member_names(path: Path, names: list[str]) -> None:
    """Refuse a ``.zip`` whose member names are ambiguous: a name twice, or a name both a file and a folder.

    Names with ``..`` or a leading ``/`` need no check: members are read by name, never extracted.
    """
    seen: set[str] = set()
    folders = {n.rstrip("/") for n in names if n.endswith("/")}
    for n in names:
        folders.update(n[:i] for i in range(1, len(n)) if n[i] == "/")
    for n in names:
        if n in seen and not n.endswith("/"):
            raise DataError(f"{path}: member {n!r} appears twice in the archive")
        seen.add(n)
        if not n.endswith("/") and n in folders:
            raise DataError(f"{path}: member {n!r} is both a file and a folder in the archive")


def detect_format(vf: VectorFile) -> str:
    """Guess the format of ``vf`` from its first bytes (see the module docstring).

    Examples
    --------
    >>> p = tmp / "v.txt"
    >>> _ = p.write_text("2 3\\n/c/en/cat 1 2 3\\n/c/en/dog 4 5 6\\n")
    >>> detect_format(open_vectors(p))
    'numberbatch'
    >>> _ = p.write_text("cat 1 2 3\\n")
    >>> detect_format(open_vectors(p))
    'glove'
    """
    head = vf.head(1 << 16)
    if not head.strip():
        raise DataError(f"{vf.name}: empty file (no vector line)")
    if head[:1] == b"\x80" and not vf.gzipped:
        return "gensim"
    first, nl, rest = head.partition(b"\n")
    header = _HEADER.match(first)
    if header:
        dim = int(header.group(2))
        second = rest.split(b"\n", 1)[0] if b"\n" in rest else rest
        key, _, values = second.rstrip(b"\r").partition(b" ")
        try:
            fields = values.decode("ascii").split()
            numeric = len(fields) == dim and all(_is_float(x) for x in fields)
        except UnicodeDecodeError:
            numeric = False
        if not numeric:
            return "word2vec-binary"
        if key.startswith(b"/c/") or "numberbatch" in vf.name.lower():
            return "numberbatch"
        return "word2vec"
    nul = head.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{vf.name}: binary data (a NUL byte at offset {nul}) where text vectors were expected; "
                        "a word2vec binary file needs its 'count dim' header (--format word2vec-binary)")
    return "glove"


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

