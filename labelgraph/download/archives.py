"""Archive extraction (zip and tar, ``tarfile`` ``filter="data"``): unsafe members refused, all or nothing.

Examples
--------
>>> import pathlib, zipfile
>>> d = tmp
>>> with zipfile.ZipFile(d / "a.zip", "w") as z:
...     z.writestr("data/labels.txt", "cat\\n")
>>> (extract(d / "a.zip", d / "out") / "data" / "labels.txt").read_text()
'cat\\n'
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from ..cache import home
from ..errors import DataError
from .catalogue import Source, get_source
from .fetch import fetch

__all__ = ["extract", "fetch_extracted"]

log = logging.getLogger("labelgraph.download")

_EXTRACT_MARKER = ".labelgraph-extracted.json"


def _member_problem(name: str) -> str | None:
    """Why an archive member name is unsafe to extract, or ``None``."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "path with '..'"
    return None


def _check_name_conflicts(path: Path, names: list[str]) -> None:
    """Refuse members that would land on the same path: a file twice, or a name both a file and a folder."""
    files: set[str] = set()
    folders: set[str] = set()
    for name in names:
        posix = name.replace("\\", "/")
        parts = [p for p in posix.split("/") if p not in ("", ".")]
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if posix.endswith("/"):
            folders.add("/".join(parts))
        elif "/".join(parts) in files:
            raise DataError(f"{path}: member {name!r} appears twice in the archive")
        else:
            files.add("/".join(parts))
    clash = sorted(files & folders)
    if clash:
        raise DataError(f"{path}: member {clash[0]!r} is both a file and a folder in the archive")


def _wanted(name: str, members: tuple[str, ...] | None) -> bool:
    if members is None:
        return True
    name = name.rstrip("/")
    return any(name == m.rstrip("/") or (m.endswith("/") and name.startswith(m)) for m in members)


def extract(path: str | os.PathLike[str], dest: str | os.PathLike[str],
            members: Iterable[str] | None = None) -> Path:
    """Extract a zip or tar (``.tar``, ``.tar.gz``, ``.tgz``) archive into ``dest``, atomically and safely.

    Members with an absolute path, a ``..`` component, or (tar) a link pointing
    outside the archive, a device or a fifo are refused before anything is written.
    The archive is extracted into a temporary folder beside ``dest`` that is renamed
    to ``dest`` when complete; a ``dest`` that holds an earlier extraction of the same
    archive file with the same members is returned as is.

    Parameters
    ----------
    path : path
        The archive.
    dest : path
        The folder to create (replaced if it holds a different extraction).
    members : iterable of str, optional
        Member names to extract; a name ending in ``/`` selects a folder.  A name
        matching nothing is a :class:`DataError`.  Default: all.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Examples
    --------
    >>> import pathlib, zipfile
    >>> d = tmp
    >>> with zipfile.ZipFile(d / "a.zip", "w") as z:
    ...     z.writestr("annotations/instances_val2014.json", "{}")
    ...     z.writestr("annotations/captions_val2014.json", "{}")
    >>> out = extract(d / "a.zip", d / "out", members=["annotations/instances_val2014.json"])
    >>> sorted(p.name for p in (out / "annotations").iterdir())
    ['instances_val2014.json']
    >>> with zipfile.ZipFile(d / "evil.zip", "w") as z:
    ...     z.writestr("../evil.txt", "x")
    >>> extract(d / "evil.zip", d / "out2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: .../evil.zip: refusing to extract member '../evil.txt' (path with '..')
    """
    path, dest = Path(path), Path(dest)
    if not path.is_file():
        raise DataError(f"{path}: no such archive")
    wanted = None if members is None else tuple(members)
    st = path.stat()
    marker = {"archive": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
              "members": None if wanted is None else sorted(wanted)}
    with contextlib.suppress(OSError, ValueError):
        if json.loads((dest / _EXTRACT_MARKER).read_text(encoding="utf-8")) == marker:
            log.debug("%s: already extracted into %s", path, dest)
            return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        if zipfile.is_zipfile(path):
            _extract_zip(path, tmp, wanted)
        elif _is_tar(path):
            _extract_tar(path, tmp, wanted)
        else:
            raise DataError(f"{path}: not a zip or tar archive")
        (tmp / _EXTRACT_MARKER).write_text(json.dumps(marker), encoding="utf-8")
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _check_selection(path: Path, names: list[str], wanted: tuple[str, ...] | None) -> None:
    if wanted is None:
        return
    for m in wanted:
        if not any(_wanted(n, (m,)) for n in names):
            raise DataError(f"{path}: archive has no member {m!r}")


def _extract_zip(path: Path, tmp: Path, wanted: tuple[str, ...] | None) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [i for i in zf.infolist() if _wanted(i.filename, wanted)]
            _check_selection(path, [i.filename for i in zf.infolist()], wanted)
            for info in infos:
                problem = _member_problem(info.filename)
                if problem:
                    raise DataError(f"{path}: refusing to extract member {info.filename!r} ({problem})")
            _check_name_conflicts(path, [i.filename for i in infos])
            for info in infos:
                zf.extract(info, tmp)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: corrupt zip archive ({exc})") from None


def _extract_tar(path: Path, tmp: Path, wanted: tuple[str, ...] | None) -> None:
    try:
        with tarfile.open(path, "r:*") as tf:
            all_members = tf.getmembers()
            _check_selection(path, [m.name for m in all_members], wanted)
            chosen = [m for m in all_members if _wanted(m.name, wanted)]
            for m in chosen:
                problem = _member_problem(m.name)
                if problem is None and (m.issym() or m.islnk()):
                    target = m.linkname if m.islnk() else str(PurePosixPath(m.name).parent / m.linkname)
                    problem = _member_problem(target) or (
                        "link outside the archive" if _escapes(target) else None)
                    if problem:
                        problem = f"link to {m.linkname!r}: {problem}"
                if problem is None and (m.isdev() or m.isfifo()):
                    problem = "device or fifo"
                if problem:
                    raise DataError(f"{path}: refusing to extract member {m.name!r} ({problem})")
            # a tar may repeat a file (the last copy wins, as tar itself does); a file/folder clash is refused
            _check_name_conflicts(path, list(dict.fromkeys(m.name + ("/" if m.isdir() else "") for m in chosen)))
            if hasattr(tarfile, "data_filter"):
                tf.extractall(tmp, members=chosen, filter="data")
            else:  # pragma: no cover - Python < 3.10.12 / 3.11.4, no extraction filters
                link = next((m for m in chosen if m.issym() or m.islnk()), None)
                if link is not None:  # a link inside the archive can still lead out through another link
                    raise DataError(f"{path}: refusing to extract link member {link.name!r} "
                                    "(this Python has no tarfile extraction filter; use 3.10.12+ or 3.11.4+)")
                tf.extractall(tmp, members=chosen)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: corrupt or unsafe tar archive ({exc})") from None


def _escapes(target: str) -> bool:
    depth = 0
    for part in PurePosixPath(target).parts:
        if part == "..":
            depth -= 1
        elif part not in (".", ""):
            depth += 1
        if depth < 0:
            return True
    return False


def _replace_dir(new: Path, dest: Path) -> None:
    """Rename ``new`` to ``dest``; an existing ``dest`` is moved aside first and removed after."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
        os.replace(dest, old / "x")
    os.replace(new, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# -- datasets ---------------------------------------------------------------------------------------------------

def fetch_extracted(name_or_source: str | Source, *, dest: str | os.PathLike[str] | None = None,
                    members: Iterable[str] | None = None, **fetch_options: Any) -> Path:
    """:func:`fetch` an archive, then :func:`extract` the members labelgraph reads.

    The default ``dest`` is ``labelgraph.cache.home() / "extracted" / <source name>``;
    the default ``members`` are the source's :attr:`Source.members`.

    Examples
    --------
    >>> import hashlib, io, pathlib, zipfile
    >>> cache = tmp
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("Charades/Charades_v1_classes.txt", "c000 Holding some clothes\\n")
    >>> _ = (cache / "Charades.zip").write_bytes(buf.getvalue())
    >>> root = fetch_extracted("charades-v1", cache_dir=cache, dest=cache / "x")
    >>> (root / "Charades" / "Charades_v1_classes.txt").read_text()
    'c000 Holding some clothes\\n'
    """
    source = get_source(name_or_source)
    archive = fetch(source, **fetch_options)
    target = Path(dest) if dest is not None else home() / "extracted" / source.name
    return extract(archive, target, source.members if members is None else members)
