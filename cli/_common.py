"""What every command shares: one-line errors (mapped once, in :mod:`labelgraph_cli.main`), JSON output, tables, the progress switch."""
from __future__ import annotations

import errno
import io
import json
import os
import sys
from typing import Any, Callable, Iterable, Sequence

import click

from labelgraph.errors import LabelGraphError


class CommandError(click.ClickException):
    """A library error shown as one line; the exit code comes from the error class."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: Exit codes of ``labelgraph`` (``labelgraph --help`` lists them too).
EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "an error of labelgraph's own without a more specific code, or an internal error",
    2: "bad input: a malformed or missing file, an invalid option value (DataError, ConfigError)",
    3: "a download or API request failed (NetworkError)",
    4: "an optional dependency is missing (MissingDependencyError)",
    5: "the operating system refused: permission, a folder where a file is wanted, no space left, "
       "a locked database",
    6: "out of memory",
    130: "interrupted (Ctrl-C)",
}

_DEBUG_ENV = "LABELGRAPH_DEBUG"


def debug_requested(flag: bool = False) -> bool:
    """``--debug`` was given or ``LABELGRAPH_DEBUG`` is set to something other than ``0``/empty.

    Examples
    --------
    >>> debug_requested(True)
    True
    """
    return flag or os.environ.get(_DEBUG_ENV, "").strip() not in ("", "0")


def error_line(exc: BaseException) -> tuple[str, int] | None:
    """The one line and exit code for an error that reached the CLI, or ``None`` to let click handle it.

    Library errors keep their message and ``exit_code``; errors of the operating
    system, of decoding, of SQLite, recursion, overflow and memory become one line
    naming the file where it is known (``OSError.filename``, else the file the failing
    labelgraph code was reading).

    Examples
    --------
    >>> error_line(IsADirectoryError(21, "Is a directory", "graphs/out.npz"))
    ('graphs/out.npz: is a directory', 5)
    >>> error_line(KeyboardInterrupt())
    ('interrupted', 130)
    """
    if isinstance(exc, (click.ClickException, click.exceptions.Exit, click.exceptions.Abort)):
        return None
    if isinstance(exc, LabelGraphError):
        return str(exc), getattr(exc, "exit_code", 1)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(exc, OSError):
        if exc.errno == errno.EPIPE:
            return None  # click silences a closed stdout (``labelgraph show x.npz | head``)
        return _os_error_line(exc)
    # an SQLite error can only come from code that imported sqlite3: the CLI does not import it for every command
    sqlite3 = sys.modules.get("sqlite3")
    is_sqlite = sqlite3 is not None and isinstance(exc, sqlite3.Error)
    where = (_database_in_traceback(exc) if is_sqlite else None) or _file_in_traceback(exc)
    prefix = f"{where}: " if where else ""
    if isinstance(exc, UnicodeDecodeError):
        byte = exc.object[exc.start:exc.start + 1].hex() if isinstance(exc.object, (bytes, bytearray)) else "?"
        return (f"{prefix}not {exc.encoding.upper()} text (byte 0x{byte} at offset {exc.start}) while reading"
                f"{'' if where else ' an input file'}", 2)
    if is_sqlite and isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return f"{prefix}database is locked (another process is writing to it); try again when it is done", 5
    if is_sqlite:
        return f"{prefix}SQLite error while reading: {exc}", 5
    if isinstance(exc, RecursionError):
        return f"{prefix}input nests too deeply to read (Python's recursion limit)", 2
    if isinstance(exc, OverflowError):
        return f"{prefix}a number too large while reading ({exc})", 2
    if isinstance(exc, MemoryError):
        return f"{prefix}out of memory while reading", 6
    if isinstance(exc, Exception):
        return (f"internal error: {type(exc).__name__}: {exc} "
                f"(rerun with --debug or {_DEBUG_ENV}=1 for the traceback)"), 1
    return None


_OS_REASONS = {
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a path component is a file, not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on device",
    errno.EROFS: "read-only file system",
    errno.EEXIST: "already exists",
}


def _os_error_line(exc: OSError) -> tuple[str, int]:
    reason = _OS_REASONS.get(exc.errno or -1) or (exc.strerror or str(exc)).lower()
    where = exc.filename if exc.filename is not None else _file_in_traceback(exc)
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    if where is None:
        return f"{reason} ({type(exc).__name__})", 5
    return f"{where}: {reason}", 2 if isinstance(exc, FileNotFoundError) else 5


def _frames(exc: BaseException) -> list[Any]:
    """The traceback's frames of labelgraph's library code and of ``click.echo``, innermost first."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith("labelgraph.") or module == "click.utils":  # click.utils: echo's stream
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames[::-1]


def _database_in_traceback(exc: BaseException) -> str | None:
    """The file of the SQLite connection the failing code held (``PRAGMA database_list``)."""
    import sqlite3

    for frame in _frames(exc):
        for value in frame.f_locals.values():
            conn = value if isinstance(value, sqlite3.Connection) else getattr(value, "_conn", None)
            if not isinstance(conn, sqlite3.Connection):
                continue
            try:
                rows = conn.execute("PRAGMA database_list").fetchall()
            except sqlite3.Error:  # closed on the way out; the object may still know its file
                owner_path = getattr(value, "path", None)
                if isinstance(owner_path, (str, os.PathLike)):
                    return os.fspath(owner_path)
                continue
            main = next((row[2] for row in rows if row[1] == "main" and row[2]), None)
            if main:
                return main
    return None


def _file_in_traceback(exc: BaseException) -> str | None:
    """The file the innermost labelgraph frame was working on: its ``path`` or an open file's name.

    Library code names its input ``path`` by convention; ``click.echo`` names its stream
    (``<stdout>``), so output to a full disk is reported as such.
    """
    for frame in _frames(exc):
        local = frame.f_locals
        for value in (local.get("path"), getattr(local.get("self"), "path", None)):
            if isinstance(value, (str, os.PathLike)):
                return os.fspath(value)
        for value in local.values():
            if isinstance(value, io.IOBase) and isinstance(getattr(value, "name", None), str):
                return value.name
    return None


def base_kinds() -> list[str]:
    """The kinds ``shuffled`` and ``random`` can take as their base: those built from statistics alone."""
    from labelgraph.graphs import STATISTICAL_KINDS

    return [k for k, spec in STATISTICAL_KINDS.items() if spec.needs == "statistics"]


class RegistryChoice(click.Choice):
    """A ``click.Choice`` whose choices are read from a registry when an option is checked or shown.

    An entry registered after the command was defined is a valid choice too.

    Examples
    --------
    >>> kinds = ["a"]
    >>> choice = RegistryChoice(lambda: kinds)
    >>> kinds.append("b")
    >>> choice.convert("b", None, None)
    'b'
    """

    def __init__(self, source: Callable[[], Iterable[str]], case_sensitive: bool = True) -> None:
        self._source = source
        super().__init__([], case_sensitive)

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        return tuple(self._source())

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        pass  # the registry is the only source


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table (numbers right-aligned).

    Examples
    --------
    >>> print(format_table(["a", "b"], [[1, "x"], [22, "yy"]]))
     a  b
    --  --
     1  x
    22  yy
    """
    rows = [["" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in rows) and bool(rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def progress_enabled(quiet: bool) -> bool:
    """Progress bars go to stderr when it is a terminal and ``--quiet`` is off."""
    return not quiet and sys.stderr.isatty()
