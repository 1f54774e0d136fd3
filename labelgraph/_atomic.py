"""Atomic file writes: a temporary file beside the target, fsync, rename.

An interrupted writer never leaves a half-written file under the target name;
the previous file, if any, stays intact until the rename.  Several files of
one run are written as a unit (:class:`StagedWrites`): all of them are staged
as temporaries first and renamed only when every one was written, so a failed
run leaves none of its outputs behind.

Temporaries are named ``.<name>.<pid>.<random>.tmp``; a writer removes those
of processes that no longer exist (killed before they could clean up) when it
next writes into the same folder.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
import time
from pathlib import Path
from typing import IO, Callable, Iterator

from .errors import ArtifactError, ConfigError, WriteError

__all__ = ["atomic_write", "check_writable", "check_stem", "StagedWrites", "write_error", "remove_stale_temporaries"]

#: A temporary of a dead process is removed once it is older than this (seconds).
STALE_AFTER = 60.0
_TEMP = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+\.tmp$")

#: ``differs(path)`` says how the existing file at ``path`` differs from what would be
#: written (a short phrase), or returns None when the content is the same.
Differs = Callable[[Path], "str | None"]


def write_error(path: str | os.PathLike[str], exc: OSError) -> WriteError:
    """The one-line error for an OS error while writing ``path`` (disk full, I/O error, permission).

    Examples
    --------
    >>> import errno
    >>> str(write_error("g.npz", OSError(errno.ENOSPC, "No space left on device")))
    'g.npz: cannot write (No space left on device)'
    """
    reason = exc.strerror or (errno.errorcode.get(exc.errno or 0) if exc.errno else None) or str(exc)
    return WriteError(f"{path}: cannot write ({reason})")


def check_stem(name: str) -> str:
    """Check a file-name stem given by the user (``--name``): no folder part, not ``.``/``..``, not empty.

    Examples
    --------
    >>> check_stem("mydata")
    'mydata'
    >>> check_stem("../x")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --name '../x': a name is a file-name stem, without '/' (use --out for the folder)
    """
    if not name or not name.strip():
        raise ConfigError("--name: empty name")
    if "/" in name or "\\" in name or (os.altsep and os.altsep in name):
        raise ConfigError(f"--name {name!r}: a name is a file-name stem, without '/' (use --out for the folder)")
    if name in (".", "..") or "\0" in name:
        raise ConfigError(f"--name {name!r}: not a usable file name")
    return name


def check_writable(path: str | os.PathLike[str], *, force: bool = False, differs: Differs | None = None) -> Path:
    """Check that ``path`` may be written: its folder is writable and it is new, unchanged, or ``force`` is set.

    The folder is created when missing.  An existing file that ``differs`` reports
    as identical (None) may always be written (the write is then skipped by the
    caller); without ``differs`` any existing file needs ``force``.

    Raises
    ------
    ArtifactError
        ``path`` is a folder, or an existing file would change without ``force``.
    ConfigError
        The folder cannot be created or written.

    Examples
    --------
    >>> d = tmp
    >>> check_writable(d / "a.npz").name
    'a.npz'
    """
    path = Path(path)
    if path.is_dir():
        raise ArtifactError(f"{path}: is a folder, not a file (remove it or choose another name)")
    if path.exists() or path.is_symlink():
        if not path.is_file():
            raise ArtifactError(f"{path}: exists and is not a regular file")
        if differs is None:
            if not force:
                raise ArtifactError(f"{path}: already exists (use --force to overwrite)")
        else:
            reason = differs(path)
            if reason is not None and not force:
                raise ArtifactError(f"{path}: already exists and would change ({reason}); "
                                    "use --force to replace it")
    if path.parent.exists() and not path.parent.is_dir():
        raise ConfigError(f"{path.parent}: is a file, not an output folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path.parent}: cannot create output folder ({exc.strerror})") from None
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(f"{path.parent}: output folder is not writable")
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or a number we cannot test): keep its files
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str], *, older_than: float = STALE_AFTER) -> list[Path]:
    """Remove ``.<name>.<pid>.<random>.tmp`` files whose writer no longer runs and that are older than ``older_than`` s.

    Returns the paths removed.

    Examples
    --------
    >>> remove_stale_temporaries(tmp)
    []
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if not entry.is_file(follow_symlinks=False) or now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                continue
            if _process_exists(int(match.group(1))):
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _temporary(path: Path) -> tuple[int, str]:
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make shared outputs unreadable
    return fd, tmp


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is untouched; an OS
    error (disk full, I/O error, …) becomes one :class:`ArtifactError` naming ``path``.

    Examples
    --------
    >>> p = tmp / "x.txt"
    >>> with atomic_write(p, "w") as f:
    ...     _ = f.write("hello")
    >>> p.read_text()
    'hello'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temporary(path)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise
    _fsync_folder(path.parent)


class StagedWrites:
    """The outputs of one run, written all or none.

    :meth:`add` checks a target (:func:`check_writable`) and writes its bytes to a
    temporary beside it; :meth:`commit` renames every temporary onto its target.
    If anything fails (a check, a write, a rename), the temporaries are removed and
    so is every target this run had already created; an OS error becomes one
    :class:`~labelgraph.errors.ArtifactError` naming the path.  A target whose
    content is already the same is left alone and reported as ``"unchanged"``.

    Examples
    --------
    >>> d = tmp
    >>> with StagedWrites() as run:
    ...     run.add(d / "a.txt", b"A"), run.add(d / "b.txt", b"B")
    ('new', 'new')
    >>> run.status
    {'a.txt': 'new', 'b.txt': 'new'}
    >>> with StagedWrites() as run:
    ...     run.add(d / "a.txt", b"A")
    'unchanged'
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = force
        self._staged: list[tuple[str, Path, bool]] = []  # (temporary, target, target existed)
        self._seen: set[Path] = set()
        self.status: dict[str, str] = {}
        self.paths: list[Path] = []

    def add(self, path: str | os.PathLike[str], data: bytes | memoryview, *, differs: Differs | None = None) -> str:
        """Stage ``data`` for ``path``; returns ``"new"``, ``"replaced"`` or ``"unchanged"``.

        Without ``differs`` an existing file counts as unchanged when its bytes are ``data``.
        """
        path = Path(path)
        if path.resolve() in self._seen:
            raise ArtifactError(f"{path}: written twice by one run (give the outputs different names)")
        self._seen.add(path.resolve())
        if differs is None:
            differs = _byte_differs(data)
        existed = path.is_file()
        reason = differs(path) if existed else None
        unchanged = existed and reason is None
        check_writable(path, force=self.force, differs=lambda _: reason)
        self.paths.append(path)
        if unchanged:
            self.status[path.name] = "unchanged"
            return "unchanged"
        try:
            fd, tmp = _temporary(path)
        except OSError as exc:
            raise write_error(path, exc) from None
        self._staged.append((tmp, path, existed))
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise write_error(path, exc) from None
        status = "replaced" if existed else "new"
        self.status[path.name] = status
        return status

    def commit(self) -> None:
        """Rename every staged temporary onto its target (all, or on failure none)."""
        created: list[Path] = []
        try:
            while self._staged:
                tmp, path, existed = self._staged[0]
                try:
                    os.replace(tmp, path)
                except OSError as exc:
                    raise write_error(path, exc) from None
                self._staged.pop(0)
                if not existed:
                    created.append(path)
        except BaseException:
            for path in created:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            self.discard()
            raise
        for folder in {p.parent for p in self.paths}:
            _fsync_folder(folder)

    def discard(self) -> None:
        """Remove every staged temporary (the targets are untouched)."""
        for tmp, _, _ in self._staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        self._staged.clear()

    def __enter__(self) -> "StagedWrites":
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _byte_differs(data: bytes | memoryview) -> Differs:
    def differs(path: Path) -> str | None:
        try:
            same = path.stat().st_size == len(data) and path.read_bytes() == bytes(data)
        except OSError:
            return "unreadable"
        return None if same else "different bytes"

    return differs
