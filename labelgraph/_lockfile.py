"""Advisory lock files (``fcntl.flock``) that never go stale and clean up after themselves.

A lock file holds the process id of its exclusive holder (for messages).  The lock
itself is the kernel's ``flock``, released when the holder exits or is killed, so a
file left by a dead process never blocks anyone: the next holder takes it over, and
whoever releases the lock last removes the file.  Because the file may be removed
and created again while another process waits, a holder checks after locking that
the path still names the file it locked, and starts over otherwise.

On systems without ``fcntl`` (Windows) the lock is a no-op.

Examples
--------
>>> path = tmp / "x.lock"
>>> with FileLock(path, exclusive=True) as lock:
...     path.exists(), lock.holder() == os.getpid()
(True, True)
>>> path.exists()
False
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any, Callable

__all__ = ["FileLock", "LockBusy", "pid_alive"]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class LockBusy(Exception):
    """Another process holds the lock (raised only where no wait was asked for, or the wait ran out)."""

    def __init__(self, path: Path, holder: int | None) -> None:
        super().__init__(f"{path}: locked" + (f" by process {holder}" if holder else ""))
        self.path = path
        self.holder = holder


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (``os.kill(pid, 0)``; a process of another user counts).

    Examples
    --------
    >>> pid_alive(os.getpid())
    True
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class FileLock:
    """A shared or exclusive ``flock`` on ``path``, created when missing.

    Parameters
    ----------
    path : path
        The lock file.
    exclusive : bool
        ``LOCK_EX`` (the holder writes its pid into the file) or ``LOCK_SH``.
    timeout : float or None
        Seconds to wait for a conflicting holder: ``0`` fails at once, ``None`` waits for ever.
    on_wait : callable, optional
        Called once with the holder's pid (or ``None``) when the lock is not free at once.
    """

    def __init__(self, path: str | os.PathLike[str], *, exclusive: bool, timeout: float | None = 0.0,
                 on_wait: Callable[[int | None], None] | None = None) -> None:
        self.path = Path(path)
        self.exclusive = exclusive
        self.timeout = timeout
        self.on_wait = on_wait
        self._fd: int | None = None

    def holder(self) -> int | None:
        """The pid written in the lock file by its (last) exclusive holder, if any."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def acquire(self) -> "FileLock":
        """Take the lock; :class:`LockBusy` when it is held and the timeout runs out."""
        if fcntl is None:  # pragma: no cover - Windows
            return self
        mode = fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        told = False
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockBusy(self.path, self.holder()) from None
                if not told and self.on_wait is not None:
                    self.on_wait(self.holder())
                told = True
                time.sleep(0.05)
                continue
            if _same_file(fd, self.path):
                break
            os.close(fd)  # removed (or replaced) by the previous holder meanwhile: lock the new one
        self._fd = fd
        if self.exclusive:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        return self

    def release(self) -> None:
        """Release the lock; remove the file when no one else holds it."""
        fd, self._fd = self._fd, None
        if fd is None or fcntl is None:
            return
        try:
            with contextlib.suppress(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # only when no other holder remains
                if _same_file(fd, self.path):
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()
        finally:
            os.close(fd)

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)
