"""Ingest the ConceptNet assertions dump (``conceptnet-assertions-5.7.0.csv.gz``) into the store.

The dump has one assertion a line, five tab-separated fields and no quoting:
assertion URI, relation URI, start node, end node, and a JSON object with ``weight``
(and ``dataset``, ``license``, ``sources``, maybe ``surfaceText``).  The ingester
streams it (gzip or plain text), keeps the edges whose both ends are concepts of the
chosen languages (English by default), and writes them in batches into a temporary
SQLite file beside the store, renamed over the store only when the whole file has been
read.  An error (a gzip file that ends early, a corrupt block) leaves the previous
store untouched.  Edges the store had from the API (the concepts in its fetch log)
are carried over; edges of an earlier dump are replaced.

Why it is fast: decompression runs in a reader thread (inflate releases the GIL) and
uses ISA-L (the optional ``isal`` package, about 7x zlib's speed here) when it is
installed; one compiled regular expression finds the lines whose start and end are
both in the chosen languages, so the other ~90% of lines are never split or decoded
in Python; the kept lines go, in large batches, into a staging table from which one
``INSERT … SELECT`` parses their JSON (SQLite's json1) and derives the concepts, in a
writer thread with the GIL released; journaling is off (the file is temporary), and
the concept indexes are built once at the end.

Examples
--------
>>> d = tmp
>>> line = '/a/[/r/IsA/,/c/en/cat/,/c/en/pet/]\\t/r/IsA\\t/c/en/cat\\t/c/en/pet\\t{"weight": 2.0}\\n'
>>> _ = (d / "a.csv").write_text(line + line.replace("/c/en/pet", "/c/fr/animal"))
>>> r = ingest_dump(d / "a.csv", d / "cn.sqlite")
>>> r.lines, r.kept, r.other_language
(2, 1, 1)
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import re
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import orjson

from .._lockfile import FileLock, LockBusy
from ..errors import ConfigError, DataError, LabelGraphError
from ..files import inflate_blocks, sniff
from ..files import progress as progress_bar
from .store import (
    EDGE_COLUMNS,
    INCOMPLETE_KEY,
    Store,
    StoreBusyError,
    check_store_file,
    create_indexes,
    create_schema,
    default_store_path,
    ingest_temp_path,
    lock_path,
    remove_stale_temps,
    store_errors,
)

__all__ = ["IngestReport", "ingest_dump", "iter_line_blocks"]

log = logging.getLogger(__name__)

_RAW_CHUNK = 1 << 20        # compressed bytes read at a time
_BLOCK = 1 << 22            # decompressed bytes handed to the parser at a time (whole lines)
_BATCH = 50_000             # rows per executemany
_STAGE = "INSERT INTO staging (line, uri, rel, start_uri, end_uri, info) VALUES (?, ?, ?, ?, ?, ?)"
# CASE, not AND: json_type() raises on invalid JSON, and only CASE promises not to evaluate it then
_VALID = ("CASE WHEN json_valid(info) THEN coalesce(json_type(info, '$.weight'), '') IN ('integer', 'real') "
          "ELSE 0 END")


def _concept_sql(column: str) -> str:
    """SQL for the concept of a node URI: up to its 4th ``/`` (``/c/en/dog/n`` → ``/c/en/dog``)."""
    rest = f"substr({column}, instr(substr({column}, 4), '/') + 4)"
    cut = f"instr({rest}, '/')"
    return (f"CASE WHEN {cut} = 0 THEN {column} "
            f"ELSE substr({column}, 1, instr(substr({column}, 4), '/') + 2 + {cut}) END")


_MOVE = (f"INSERT OR IGNORE INTO edges ({', '.join(EDGE_COLUMNS)}) "
         f"SELECT uri, substr(rel, 4), start_uri, end_uri, {_concept_sql('start_uri')}, {_concept_sql('end_uri')}, "
         "json_extract(info, '$.weight'), json_extract(info, '$.dataset'), json_extract(info, '$.license'), "
         "CASE json_type(info, '$.surfaceText') WHEN 'text' THEN json_extract(info, '$.surfaceText') END, "
         f"json_extract(info, '$.sources') FROM staging WHERE {_VALID} ORDER BY line")


@dataclass
class IngestReport:
    """What an ingest read and kept.

    Attributes
    ----------
    file, sha256, bytes : the input file, its sha256 and size (compressed bytes for ``.gz``)
    lines : lines read
    kept : edges stored (after duplicates)
    duplicates : kept-language lines whose edge URI was already stored (the first one wins)
    other_language : lines with an end outside the chosen languages
    malformed : lines with both ends in the languages but a wrong field count, bad JSON or weight
    malformed_examples : ``(line number, reason)`` of the first few malformed lines
    carried_over : API edges carried over from the previous store
    seconds : wall time
    """

    file: str
    sha256: str = ""
    bytes: int = 0
    lines: int = 0
    kept: int = 0
    duplicates: int = 0
    other_language: int = 0
    malformed: int = 0
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)
    carried_over: int = 0
    seconds: float = 0.0
    langs: tuple[str, ...] = ("en",)

    def summary(self) -> str:
        """One line for the CLI."""
        rate = self.lines / self.seconds if self.seconds > 0 else float("nan")
        text = (f"{self.lines:,} lines read, {self.kept:,} edges kept ({'/'.join(self.langs)}), "
                f"{self.other_language:,} other-language, {self.duplicates:,} duplicates, "
                f"{self.malformed:,} malformed; {self.seconds:.1f}s ({rate:,.0f} lines/s)")
        if self.malformed_examples:
            text += "; first malformed: " + ", ".join(f"line {n} ({why})" for n, why in self.malformed_examples)
        return text


class _Counting:
    """Reads a binary file in chunks, counting (and optionally hashing) what it reads."""

    def __init__(self, handle, hasher=None) -> None:  # type: ignore[no-untyped-def]
        self.handle = handle
        self.hasher = hasher
        self.offset = 0

    def read(self, n: int) -> bytes:
        data = self.handle.read(n)
        if self.hasher is not None:
            self.hasher.update(data)
        self.offset += len(data)
        return data


def _decompressed(path: Path, source: _Counting) -> Iterator[tuple[bytes, int]]:
    """Decompressed data (gzip, multi-member allowed, or plain) with the input offset reached."""
    first = source.read(_RAW_CHUNK)
    if sniff(first) != "gzip":
        data = first
        while data:
            yield data, source.offset
            data = source.read(_RAW_CHUNK)
        return
    pending = [first]

    def read(n: int) -> bytes:
        return pending.pop() if pending else source.read(n)

    for out in inflate_blocks(read, path, raw_size=_RAW_CHUNK):
        yield out, source.offset


def iter_line_blocks(path: str | os.PathLike[str], *, hasher: "hashlib._Hash | None" = None,
                     block: int = _BLOCK) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines (each ending in ``\\n``) of a gzip or plain file, with the input offset reached.

    ``hasher`` (a :mod:`hashlib` object), when given, is updated with every input byte.

    Examples
    --------
    >>> import gzip
    >>> p = tmp / "x.gz"
    >>> _ = p.write_bytes(gzip.compress(b"a\\nb\\nc"))
    >>> [b for b, _ in iter_line_blocks(p)]
    [b'a\\nb\\nc\\n']
    """
    path = Path(path)
    with open(path, "rb") as handle:
        source = _Counting(handle, hasher)
        pending: list[bytes] = []
        size = 0
        offset = 0
        for data, offset in _decompressed(path, source):
            pending.append(data)
            size += len(data)
            if size >= block:
                joined = b"".join(pending)
                cut = joined.rfind(b"\n") + 1
                if cut:
                    yield joined[:cut], offset
                    pending, size = [joined[cut:]], len(joined) - cut
                else:
                    pending, size = [joined], len(joined)
        rest = b"".join(pending)
        if rest:
            yield (rest if rest.endswith(b"\n") else rest + b"\n"), offset


def _threaded(iterator: Iterator[tuple[bytes, int]], depth: int = 4) -> Iterator[tuple[bytes, int]]:
    """Run ``iterator`` in a reader thread, ``depth`` items ahead; its exceptions re-raise here."""
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in iterator:
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(done)
        except BaseException as exc:  # handed to the consumer
            box.put(exc)

    thread = threading.Thread(target=work, name="conceptnet-dump-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class _Writer:
    """Moves batches of candidate lines into ``edges`` in a thread.

    Each batch goes into a ``staging`` table, then one ``INSERT … SELECT`` parses the
    JSON (SQLite's json1), derives the concepts and drops duplicates, all in C with
    the GIL released, while the main thread scans the next block.  Lines whose JSON
    is invalid or has no numeric weight are counted as malformed (first few kept).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.box: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.submitted = 0
        self.inserted = 0
        self.bad: list[int] = []
        self.bad_count = 0
        self.thread = threading.Thread(target=self._work, name="conceptnet-dump-writer", daemon=True)

    def _work(self) -> None:
        conn = self.conn
        while True:
            rows = self.box.get()
            if rows is None:
                return
            if self.error is not None:
                continue
            try:
                conn.executemany(_STAGE, rows)
                conn.execute(_MOVE)
                self.inserted += conn.execute("SELECT changes()").fetchone()[0]
                bad = conn.execute(f"SELECT line FROM staging WHERE NOT ({_VALID}) ORDER BY line").fetchall()
                conn.execute("DELETE FROM staging")
            except BaseException as exc:  # handed to the caller
                self.error = exc
                continue
            self.submitted += len(rows)
            self.bad_count += len(bad)
            self.bad.extend(line for (line,) in bad[: 5 - len(self.bad)])

    def put(self, rows: list[tuple]) -> None:
        if self.error is not None:
            raise self.error
        self.box.put(rows)

    def __enter__(self) -> "_Writer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.box.put(None)
        self.thread.join()
        if self.error is not None and exc[0] is None:
            raise self.error


def _candidates(langs: Sequence[str]) -> "re.Pattern[bytes]":
    """Start field and end field both of ``langs``: ``\\t/c/xx/…\\t/c/yy/`` (relation fields start ``/r/``)."""
    alt = b"|".join(re.escape(x.encode()) for x in langs)
    if len(langs) == 1:  # a literal prefix lets the regex engine skip ahead fast
        return re.compile(rb"\t/c/" + alt + rb"/[^\t\n]*+\t/c/" + alt + rb"/")
    return re.compile(rb"\t/c/(?:" + alt + rb")/[^\t\n]*+\t/c/(?:" + alt + rb")/")


def _parse_block(block: bytes, pattern: "re.Pattern[bytes]", prefixes: tuple[str, ...], report: IngestReport,
                 first_line: int) -> list[tuple]:
    """Candidate lines of ``block`` (whole lines) as ``(line number, uri, rel, start, end, info)``.

    Only lines where the regex finds a start and an end of the chosen languages side by
    side are sliced out and split; every other line is counted as another language
    without being looked at in Python.  Field count, URI prefixes and UTF-8 are checked
    here; the JSON is checked by SQLite (:class:`_Writer`).
    """
    rows: list[tuple] = []
    append = rows.append
    count = block.count
    find = block.find
    rfind = block.rfind
    line = first_line  # lines before the current scan position
    scanned = 0        # byte offset up to which lines are counted
    seen = 0
    for match in pattern.finditer(block):
        pos = match.start()
        if pos < scanned:
            continue
        begin = rfind(b"\n", 0, pos) + 1
        line += count(b"\n", scanned, begin)
        scanned = find(b"\n", pos) + 1
        line += 1
        seen += 1
        try:
            fields = block[begin:scanned - 1].decode().split("\t")
        except UnicodeDecodeError:
            _malformed(report, line, "not UTF-8")
            continue
        if len(fields) != 5:
            _malformed(report, line, f"{len(fields)} fields, expected 5")
            continue
        uri, rel, start, end, info = fields
        if not (uri.startswith("/a/") and rel.startswith("/r/") and start.startswith(prefixes)
                and end.startswith(prefixes)):
            _malformed(report, line, "no assertion or relation URI")
            continue
        append((line, uri, rel, start, end, info))
    line += count(b"\n", scanned)
    report.lines = line
    report.other_language += line - first_line - seen
    return rows


def _malformed(report: IngestReport, line: int, why: str) -> None:
    report.malformed += 1
    if len(report.malformed_examples) < 5:
        report.malformed_examples.append((line, why))


def ingest_dump(path: str | os.PathLike[str], store: str | os.PathLike[str] | None = None, *,
                langs: Sequence[str] = ("en",), progress: bool = False, batch_size: int = _BATCH) -> IngestReport:
    """Ingest an assertions dump into the store (built aside, renamed at the end).

    Parameters
    ----------
    path : path
        ``conceptnet-assertions-*.csv.gz`` or an uncompressed ``.csv`` in the same format
        (a pipe such as ``/dev/stdin`` works too).
    store : path, optional
        The store file; default :func:`~labelgraph.conceptnet.store.default_store_path`.
    langs : sequence of str
        Languages both ends of a kept edge must be in (default English only).
    progress : bool
        A tqdm bar by input bytes read.
    batch_size : int
        Rows per ``executemany``.

    Returns
    -------
    IngestReport

    Raises
    ------
    DataError
        The input ends early or is corrupt (with the byte offset), or the existing store
        is not a labelgraph store; the previous store is then untouched.
    StoreBusyError
        Another process has the store open (``<store>.lock`` is held): checked before any
        work, so nothing is lost; run the ingest again when it has finished.

    Notes
    -----
    The new store is built in ``.<store>.ingest-<pid>.tmp``; temporary files of ingests
    whose process is gone (killed) are removed first.  ``path`` may be a pipe
    (``/dev/stdin``).

    Examples
    --------
    >>> import gzip
    >>> d = tmp
    >>> line = b'/a/[/r/IsA/,/c/en/dog/n/,/c/en/pet/]\\t/r/IsA\\t/c/en/dog/n\\t/c/en/pet\\t{"weight": 1.5}\\n'
    >>> _ = (d / "dump.csv.gz").write_bytes(gzip.compress(line * 2))
    >>> r = ingest_dump(d / "dump.csv.gz", d / "cn.sqlite")
    >>> r.kept, r.duplicates
    (1, 1)
    """
    path = Path(path)
    store_path = Path(store) if store is not None else default_store_path()
    langs = tuple(dict.fromkeys(str(x).strip().lower() for x in langs))
    if not langs or not all(x.isalnum() or x.replace("-", "").isalnum() for x in langs):
        raise ConfigError(f"bad --lang value(s): {', '.join(langs) or '(none)'}")
    if not path.exists() or path.is_dir():
        raise DataError(f"{path}: no such dump file")
    check_store_file(store_path)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(lock_path(store_path), exclusive=True, timeout=0).acquire()
    except LockBusy:
        # no pid named: a shared holder writes none, and the file may still hold a dead ingest's
        raise StoreBusyError(f"{store_path}: in use by another labelgraph process (a `conceptnet fetch`, "
                             "another ingest, or a reader such as `build` or a notebook); run the ingest again "
                             "when it has finished") from None
    try:
        for stale in remove_stale_temps(store_path):
            log.warning("%s: removed the temporary file of an interrupted ingest", stale)
        return _ingest(path, store_path, langs, progress, batch_size)
    finally:
        lock.release()


def _ingest(path: Path, store_path: Path, langs: tuple[str, ...], progress: bool, batch_size: int) -> IngestReport:
    """The ingest proper, with ``<store>.lock`` held exclusively."""
    previous = None
    if store_path.exists():
        with Store(store_path, readonly=True, lock=False) as old:  # refuses a foreign or newer file before any work
            previous = old.stats()
    prefixes = tuple(f"/c/{x}/" for x in langs)
    pattern = _candidates(langs)

    report = IngestReport(file=str(path), langs=langs)
    started = time.perf_counter()
    tmp = ingest_temp_path(store_path)
    for stale in (tmp, Path(f"{tmp}-journal")):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    conn = sqlite3.connect(tmp, isolation_level=None, check_same_thread=False)
    stage = f"writing the new store {tmp.name}"
    try:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE",
                       "cache_size = -131072", "temp_store = MEMORY", "threads = 2"):
            conn.execute(f"PRAGMA {pragma}")
        create_schema(conn, indexes=False)
        conn.execute("INSERT INTO info (key, value) VALUES (?, 'true')", (INCOMPLETE_KEY,))
        conn.execute("CREATE TABLE staging (line INTEGER PRIMARY KEY, uri TEXT, rel TEXT, start_uri TEXT, "
                     "end_uri TEXT, info TEXT)")
        conn.execute("BEGIN")
        size = path.stat().st_size if path.is_file() else 0
        report.bytes = size
        digest = hashlib.sha256()
        with progress_bar(total=size or None, unit="B", enabled=progress, desc=f"ingest {path.name}",
                          leave=True) as bar:
            seen_offset = 0
            pending: list[tuple] = []
            with _Writer(conn) as writer:
                for block, offset in _threaded(iter_line_blocks(path, hasher=digest)):
                    pending.extend(_parse_block(block, pattern, prefixes, report, report.lines))
                    if len(pending) >= batch_size:
                        writer.put(pending)
                        pending = []
                    bar.update(offset - seen_offset)
                    seen_offset = offset
                if pending:
                    writer.put(pending)
            report.kept = writer.inserted
            report.duplicates = writer.submitted - writer.bad_count - writer.inserted
            report.malformed += writer.bad_count
            examples = report.malformed_examples + [(n, "bad JSON or no numeric weight") for n in writer.bad]
            report.malformed_examples = sorted(examples)[:5]
            report.bytes = report.bytes or seen_offset
        report.sha256 = digest.hexdigest()
        conn.execute("DROP TABLE staging")
        create_indexes(conn)
        conn.execute("COMMIT")
        conn.close()
        conn = sqlite3.connect(tmp, isolation_level=None)  # normal locking again, for ATTACH and WAL
        if previous is not None:
            stage = "copying the fetched edges of the previous store"
            report.carried_over = _carry_over(conn, store_path)
        report.seconds = time.perf_counter() - started
        stage = f"finishing {tmp.name}"
        _record(conn, report, previous["revision"] if previous else 0)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        if previous is not None:
            stage = "closing the previous store"
            _quiesce(store_path)
        os.replace(tmp, store_path)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.close()
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
            raise _ingest_error(store_path, stage, exc) from None
        raise
    report.seconds = time.perf_counter() - started
    if report.malformed:
        log.warning("%s: %d malformed lines skipped (first: %s)", path, report.malformed,
                    ", ".join(f"line {n}: {why}" for n, why in report.malformed_examples))
    return report


def _ingest_error(store_path: Path, stage: str, exc: sqlite3.Error) -> LabelGraphError:
    """One line for an SQLite error during an ingest: which file, what was being done, what to do."""
    if stage == "closing the previous store" and "locked" in str(exc).lower():
        return StoreBusyError(f"{store_path}: another process still has the store open (a `labelgraph build`, "
                              "`conceptnet show` or a notebook); close it and run the ingest again "
                              "(the previous store is untouched)")
    try:
        with store_errors(store_path):
            raise exc
    except LabelGraphError as err:
        return type(err)(f"{err} [while {stage}; the previous store is untouched]")


def _carry_over(conn: sqlite3.Connection, store_path: Path) -> int:
    """Copy the API-fetched edges and the fetch log of the previous store into the new one."""
    conn.execute("ATTACH DATABASE ? AS old", (str(store_path),))
    try:
        conn.execute("BEGIN")
        before = conn.total_changes
        cols = ", ".join(EDGE_COLUMNS)
        conn.execute(f"INSERT OR IGNORE INTO main.edges ({cols}) SELECT {cols} FROM old.edges "
                     "WHERE start_concept IN (SELECT concept FROM old.fetch_log) "
                     "OR end_concept IN (SELECT concept FROM old.fetch_log)")
        carried = conn.total_changes - before
        conn.execute("INSERT OR REPLACE INTO main.fetch_log SELECT * FROM old.fetch_log")
        conn.execute("COMMIT")
    finally:
        conn.execute("DETACH DATABASE old")
    return carried


def _record(conn: sqlite3.Connection, report: IngestReport, revision: int) -> None:
    entry = {k: v for k, v in asdict(report).items() if k != "malformed_examples"}
    entry["ingested"] = time.time()
    conn.execute("INSERT OR REPLACE INTO info (key, value) VALUES ('dumps', ?)",
                 (orjson.dumps([entry]).decode(),))
    conn.execute("INSERT OR REPLACE INTO info (key, value) VALUES ('dump_languages', ?)",
                 (orjson.dumps(list(report.langs)).decode(),))
    conn.execute("INSERT OR REPLACE INTO info (key, value) VALUES ('revision', ?)", (str(revision + 1),))
    conn.execute("DELETE FROM info WHERE key = ?", (INCOMPLETE_KEY,))


def _quiesce(store_path: Path) -> None:
    """Checkpoint the old store's WAL and leave WAL mode, so no stale ``-wal`` sits beside the new file."""
    conn = sqlite3.connect(store_path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
