"""The local ConceptNet store: one SQLite file (WAL mode) of edges and a fetch log per concept.

Default path ``labelgraph.cache.home() / "conceptnet.sqlite"``.  Tables:

``edges``
    one row per edge URI (unique): relation name (``IsA``, without ``/r/``), start and
    end node URIs as given, their concepts (sense suffix dropped, indexed), weight,
    dataset, licence, surface text, sources (JSON).
``fetch_log``
    one row per concept fetched from the API: ``complete``, or ``partial`` with the
    next page URL to resume from; pages, edges and the time of the last write.
``info``
    key → value: creation time, a revision counter bumped by every write, the dump
    files ingested (JSON) and the languages they cover.

Every write is one transaction (``BEGIN IMMEDIATE … COMMIT``): a killed process loses
at most the page in flight.  The schema version is SQLite's ``user_version``; the
``application_id`` marks the file as a labelgraph store.

Beside the store, ``<store>.lock`` (an ``flock``) keeps ``conceptnet ingest`` from
replacing the file while another process has it open: a writable or read-only
:class:`Store` holds it shared, an ingest exclusively; whoever comes second stops at
once with :class:`StoreBusyError`.  The ingest's temporary file
(``.<store>.ingest-<pid>.tmp``) is never opened as a store.  SQLite errors become one
:class:`~labelgraph.errors.LabelGraphError` line naming the store file.

Examples
--------
>>> path = tmp / "cn.sqlite"
>>> with Store(path) as store:
...     _ = store.record_page("/c/en/cat", [edge_row("/a/[/r/AtLocation/,/c/en/cat/,/c/en/bed/]", "/r/AtLocation",
...                                              "/c/en/cat", "/c/en/bed/n", 9.4)], next_page=None)
...     store.edge_count("/c/en/bed"), store.is_covered("/c/en/cat"), store.is_covered("/c/en/dog")
(1, True, False)
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from .._lockfile import FileLock, LockBusy, pid_alive
from ..cache import home
from ..errors import DataError, LabelGraphError
from ..graphs.knowledge import concept_of

__all__ = [
    "SCHEMA_VERSION",
    "APPLICATION_ID",
    "EDGE_COLUMNS",
    "Store",
    "StoreBusyError",
    "FetchState",
    "EdgeRecord",
    "default_store_path",
    "edge_row",
    "check_store_file",
    "create_schema",
    "create_indexes",
    "lock_path",
    "ingest_temp_path",
    "remove_stale_temps",
    "store_errors",
]

log = logging.getLogger(__name__)

#: Version of the tables below; a store written by a newer labelgraph is refused.
SCHEMA_VERSION = 1
#: SQLite ``application_id`` of a labelgraph ConceptNet store ("LGCN").
APPLICATION_ID = 0x4C47434E
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: ``info`` key present only while ``conceptnet ingest`` is still building the file.
INCOMPLETE_KEY = "incomplete"
_TEMP_NAME = re.compile(r"^\.(?P<store>.+)\.ingest-(?P<pid>\d+)\.tmp$")
_F = TypeVar("_F", bound=Callable[..., Any])


class StoreBusyError(LabelGraphError):
    """Another process uses the store in a way that conflicts (an ingest replacing it, a long write)."""

    exit_code = 1

#: Columns of ``edges`` in insertion order (what :func:`edge_row` returns).
EDGE_COLUMNS: tuple[str, ...] = ("uri", "rel", "start_uri", "end_uri", "start_concept", "end_concept",
                                 "weight", "dataset", "license", "surface_text", "sources")

_TABLES = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS edges (
    uri TEXT NOT NULL UNIQUE,
    rel TEXT NOT NULL,
    start_uri TEXT NOT NULL,
    end_uri TEXT NOT NULL,
    start_concept TEXT NOT NULL,
    end_concept TEXT NOT NULL,
    weight REAL NOT NULL,
    dataset TEXT,
    license TEXT,
    surface_text TEXT,
    sources TEXT
);
CREATE TABLE IF NOT EXISTS fetch_log (
    concept TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('partial', 'complete')),
    next_page TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    edges INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL
);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS edges_start ON edges (start_concept);
CREATE INDEX IF NOT EXISTS edges_end ON edges (end_concept);
"""
_UPSERT = (f"INSERT INTO edges ({', '.join(EDGE_COLUMNS)}) VALUES ({', '.join('?' * len(EDGE_COLUMNS))}) "
           "ON CONFLICT (uri) DO UPDATE SET rel = excluded.rel, start_uri = excluded.start_uri, "
           "end_uri = excluded.end_uri, start_concept = excluded.start_concept, "
           "end_concept = excluded.end_concept, weight = excluded.weight, dataset = excluded.dataset, "
           "license = excluded.license, surface_text = excluded.surface_text, sources = excluded.sources")


def default_store_path() -> Path:
    """``labelgraph.cache.home() / "conceptnet.sqlite"`` (``$LABELGRAPH_HOME`` is read at call time).

    Examples
    --------
    >>> default_store_path().name
    'conceptnet.sqlite'
    """
    return home() / "conceptnet.sqlite"


def lock_path(store: str | os.PathLike[str]) -> Path:
    """The lock file beside a store: ``<store>.lock``.

    Examples
    --------
    >>> lock_path("/data/conceptnet.sqlite").name
    'conceptnet.sqlite.lock'
    """
    store = Path(store)
    return store.with_name(store.name + ".lock")


def ingest_temp_path(store: str | os.PathLike[str], pid: int | None = None) -> Path:
    """Where ``conceptnet ingest`` (process ``pid``, default this one) builds the new store: ``.<store>.ingest-<pid>.tmp``.

    Examples
    --------
    >>> ingest_temp_path("/data/cn.sqlite", 42).name
    '.cn.sqlite.ingest-42.tmp'
    """
    store = Path(store)
    return store.with_name(f".{store.name}.ingest-{os.getpid() if pid is None else pid}.tmp")


def _temp_owner(path: Path) -> int | None:
    """The pid in an ingest temporary file's name, ``None`` when ``path`` is not one."""
    match = _TEMP_NAME.match(path.name)
    return int(match["pid"]) if match else None


def remove_stale_temps(store: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files (and their journals) of ingests of ``store`` whose process is gone.

    A file whose process still runs is left alone.  Returns the files removed.

    Examples
    --------
    >>> d = tmp
    >>> _ = ingest_temp_path(d / "cn.sqlite", 2 ** 22 + 1).write_bytes(b"half-built")  # no such process
    >>> [p.name for p in remove_stale_temps(d / "cn.sqlite")]
    ['.cn.sqlite.ingest-4194305.tmp']
    """
    store = Path(store)
    removed = []
    prefix = f".{store.name}.ingest-"
    if not store.parent.is_dir():
        return removed
    for candidate in store.parent.iterdir():
        if not candidate.name.startswith(prefix):
            continue
        base = candidate.with_name(re.sub(r"-(journal|wal|shm)$", "", candidate.name))
        pid = _temp_owner(base)
        if pid is None or pid_alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
            removed.append(candidate)
            log.info("%s: removed the temporary file of an interrupted ingest (process %d)", candidate, pid)
    return sorted(removed)


def _sqlite_message(path: Path, exc: sqlite3.Error) -> LabelGraphError:
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        return StoreBusyError(f"{path}: the store is locked by another process ({text}); "
                              "run the command again when it has finished")
    if "malformed" in low or "not a database" in low or "corrupt" in low:
        return DataError(f"{path}: the store file is damaged ({text}); delete it and rebuild it with "
                         "`labelgraph conceptnet fetch` or `labelgraph conceptnet ingest`")
    if "full" in low:
        return LabelGraphError(f"{path}: the disk is full ({text}); free some space and run the command again")
    if "readonly" in low or "read-only" in low or "unable to open" in low or "i/o" in low:
        return LabelGraphError(f"{path}: cannot write the store ({text}); check the folder's permissions "
                               "and free space")
    return LabelGraphError(f"{path}: SQLite error ({text})")


@contextlib.contextmanager
def store_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an :class:`sqlite3.OperationalError` (or a damaged file's ``DatabaseError``) into one line naming ``path``.

    Constraint violations (``IntegrityError``) are programming errors and pass through.

    Examples
    --------
    >>> with store_errors("cn.sqlite"):
    ...     raise sqlite3.OperationalError("database is locked")
    Traceback (most recent call last):
    ...
    labelgraph.conceptnet.store.StoreBusyError: cn.sqlite: the store is locked by another process (database is locked); run the command again when it has finished
    """
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise _sqlite_message(Path(path), exc) from None
    except sqlite3.DatabaseError as exc:
        if type(exc) is not sqlite3.DatabaseError:
            raise
        raise _sqlite_message(Path(path), exc) from None


def _guarded(method: _F) -> _F:
    @functools.wraps(method)
    def wrapper(self: "Store", *args: Any, **kwargs: Any) -> Any:
        with store_errors(self.path):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def edge_row(uri: str, rel: str, start: str, end: str, weight: float, *, dataset: str | None = None,
             license: str | None = None, surface_text: str | None = None,
             sources: str | None = None) -> tuple:
    """One ``edges`` row (in :data:`EDGE_COLUMNS` order) from an edge's fields.

    ``rel`` loses its ``/r/`` prefix; the concepts are the node URIs without sense suffix;
    ``sources`` is a JSON string.

    Examples
    --------
    >>> edge_row("/a/[/r/IsA/,/c/en/cat/n/,/c/en/pet/]", "/r/IsA", "/c/en/cat/n", "/c/en/pet", 2.0)[:7]
    ('/a/[/r/IsA/,/c/en/cat/n/,/c/en/pet/]', 'IsA', '/c/en/cat/n', '/c/en/pet', '/c/en/cat', '/c/en/pet', 2.0)
    """
    name = rel[3:] if rel.startswith("/r/") else rel
    return (uri, name, start, end, concept_of(start), concept_of(end), float(weight),
            dataset, license, surface_text, sources)


@dataclass(frozen=True)
class FetchState:
    """A concept's row in the fetch log."""

    concept: str
    status: str
    next_page: str | None
    pages: int
    edges: int
    updated: float

    @property
    def complete(self) -> bool:
        """Whether every page of the concept has been stored."""
        return self.status == "complete"


@dataclass(frozen=True)
class EdgeRecord:
    """An edge read back from the store."""

    uri: str
    rel: str
    start: str
    end: str
    start_concept: str
    end_concept: str
    weight: float
    dataset: str | None
    license: str | None
    surface_text: str | None


def check_store_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`~labelgraph.errors.DataError` unless ``path`` is absent, empty or an SQLite file.

    Examples
    --------
    >>> bad = tmp / "x.sqlite"
    >>> _ = bad.write_text("hello")
    >>> check_store_file(bad)
    Traceback (most recent call last):
    ...
    labelgraph.errors.DataError: ...x.sqlite: not an SQLite file, so not a labelgraph ConceptNet store
    """
    path = Path(path)
    owner = _temp_owner(path)
    if owner is not None:
        raise DataError(f"{path}: the temporary file of a `labelgraph conceptnet ingest` (process {owner}), "
                        "not a store; give the store's own path")
    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a ConceptNet store file")
    with open(path, "rb") as handle:
        head = handle.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise DataError(f"{path}: not an SQLite file, so not a labelgraph ConceptNet store")


class Store:
    """The SQLite ConceptNet store.

    Parameters
    ----------
    path : path, optional
        The store file; default :func:`default_store_path`.
    readonly : bool
        Open without writing (``knowledge_artifact`` does); the file must exist.
    timeout : float
        Seconds a write waits for another process's write transaction (SQLite's busy timeout).
    lock : bool
        Hold ``<store>.lock`` shared while open (default); ``ingest_dump``, which holds it
        exclusively, reads the previous store without it.

    Raises
    ------
    DataError
        The file is not SQLite, is another program's database, has a newer schema, or is
        the temporary file of an ingest (by name, or by its ``incomplete`` mark).
    StoreBusyError
        A ``conceptnet ingest`` is replacing the store (it holds ``<store>.lock``).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, readonly: bool = False,
                 timeout: float = 10.0, lock: bool = True) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.readonly = readonly
        check_store_file(self.path)
        if readonly and not self.path.exists():
            raise DataError(f"{self.path}: no ConceptNet store here yet; build one with "
                            "`labelgraph conceptnet fetch --dataset NAME` or `labelgraph conceptnet ingest FILE`")
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = self._take_lock() if lock else None
        try:
            if readonly:
                self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                             isolation_level=None)
            else:
                self._conn = sqlite3.connect(self.path, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            with store_errors(self.path):
                self._check_and_init()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self._conn.close()
            if self._lock is not None:
                self._lock.release()
            if isinstance(exc, sqlite3.DatabaseError):
                raise DataError(f"{self.path}: cannot open the ConceptNet store ({exc})") from None
            raise

    def _take_lock(self) -> FileLock | None:
        """Hold ``<store>.lock`` shared, so an ingest does not replace the file under this connection."""
        lock = FileLock(lock_path(self.path), exclusive=False, timeout=0)
        try:
            return lock.acquire()
        except LockBusy as exc:
            who = f" (process {exc.holder})" if exc.holder else ""
            if self.readonly:
                # reading the old file stays correct until the ingest renames the new one over it
                log.info("%s: an ingest%s is replacing the store; reading the current file", self.path, who)
                return None
            raise StoreBusyError(f"{self.path}: a `labelgraph conceptnet ingest`{who} is replacing this store; "
                                 "run the command again when it has finished") from None
        except OSError as exc:  # a read-only folder: nothing can replace the file there either
            if not self.readonly:
                raise LabelGraphError(f"{self.path}: cannot create the lock file {lock.path.name} beside the store "
                                      f"({exc.strerror}); check the folder's permissions") from None
            return None

    # -- opening ------------------------------------------------------------------------------
    def _check_and_init(self) -> None:
        conn = self._conn
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if has_tables and app_id != APPLICATION_ID:
            raise DataError(f"{self.path}: an SQLite database, but not a labelgraph ConceptNet store")
        if version > SCHEMA_VERSION:
            raise DataError(f"{self.path}: store schema version {version} is newer than this labelgraph "
                            f"reads ({SCHEMA_VERSION}); upgrade labelgraph or use another --store")
        if has_tables and conn.execute("SELECT 1 FROM info WHERE key = ?", (INCOMPLETE_KEY,)).fetchone():
            raise DataError(f"{self.path}: a half-built store (a `labelgraph conceptnet ingest` was interrupted "
                            "while writing it); delete it and run the ingest again")
        if self.readonly:
            if not has_tables:
                raise DataError(f"{self.path}: an empty file, not a ConceptNet store")
            return
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if not has_tables:
            create_schema(conn)

    def close(self) -> None:
        """Close the connection and let go of the lock."""
        self._conn.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error); bumps the revision."""
        conn = self._conn
        with store_errors(self.path):
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("INSERT INTO info (key, value) VALUES ('revision', '1') ON CONFLICT (key) "
                         "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        with store_errors(self.path):
            conn.execute("COMMIT")

    # -- writing ------------------------------------------------------------------------------
    @_guarded
    def add_edges(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert (or update, by edge URI) rows made by :func:`edge_row`, in one transaction.

        Returns the number of rows that were new.
        """
        with self.transaction() as conn:
            return self._upsert(conn, rows)

    def _upsert(self, conn: sqlite3.Connection, rows: Iterable[Sequence[Any]]) -> int:
        before = conn.execute("SELECT count(*) FROM edges").fetchone()[0]
        conn.executemany(_UPSERT, rows)
        return conn.execute("SELECT count(*) FROM edges").fetchone()[0] - before

    @_guarded
    def record_page(self, concept: str, rows: Sequence[Sequence[Any]], next_page: str | None) -> int:
        """Store one API page of ``concept`` and its place in the fetch log, atomically.

        ``next_page`` ``None`` marks the concept complete.  Returns the number of new edges.
        """
        status = "partial" if next_page else "complete"
        with self.transaction() as conn:
            added = self._upsert(conn, rows)
            conn.execute(
                "INSERT INTO fetch_log (concept, status, next_page, pages, edges, updated) "
                "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (concept) DO UPDATE SET status = excluded.status, "
                "next_page = excluded.next_page, pages = pages + 1, edges = edges + excluded.edges, "
                "updated = excluded.updated",
                (concept, status, next_page, len(rows), time.time()))
        return added

    @_guarded
    def reset_fetch(self, concept: str) -> None:
        """Forget the fetch log of ``concept`` (``--refresh``); its edges stay until re-fetched."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM fetch_log WHERE concept = ?", (concept,))

    # -- reading ------------------------------------------------------------------------------
    @_guarded
    def info(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key`` (``default`` when absent)."""
        row = self._conn.execute("SELECT value FROM info WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    @_guarded
    def fetch_state(self, concept: str) -> FetchState | None:
        """The fetch-log row of ``concept``, or ``None`` when it was never fetched."""
        row = self._conn.execute("SELECT concept, status, next_page, pages, edges, updated FROM fetch_log "
                                 "WHERE concept = ?", (concept,)).fetchone()
        return None if row is None else FetchState(*row)

    @_guarded
    def dump_languages(self) -> tuple[str, ...]:
        """Languages whose English-side edges came from a whole dump (every concept of them is covered)."""
        return tuple(self.info("dump_languages", []))

    @_guarded
    def is_covered(self, concept: str) -> bool:
        """Whether the store holds every edge of ``concept``: fetched completely, or from a dump of its language."""
        lang = concept.split("/")[2] if concept.startswith("/c/") and concept.count("/") >= 3 else None
        if lang is not None and lang in self.dump_languages():
            return True
        state = self.fetch_state(concept)
        return state is not None and state.complete

    @_guarded
    def edge_count(self, concept: str, relations: Sequence[str] | None = None) -> int:
        """Edges with ``concept`` at either end (of ``relations`` when given)."""
        return self.edge_count_any([concept], relations)

    @_guarded
    def edge_count_any(self, concepts: Sequence[str], relations: Sequence[str] | None = None) -> int:
        """Distinct edges with one of ``concepts`` at either end (of ``relations`` when given)."""
        if not concepts:
            return 0
        rel_sql, params = _relation_filter(relations)
        js = json.dumps(list(concepts))
        query = ("SELECT count(*) FROM edges WHERE rowid IN ("
                 "SELECT rowid FROM edges WHERE start_concept IN (SELECT value FROM json_each(?)) UNION "
                 "SELECT rowid FROM edges WHERE end_concept IN (SELECT value FROM json_each(?)))" + rel_sql)
        return self._conn.execute(query, (js, js, *params)).fetchone()[0]

    @_guarded
    def has_edges(self, concept: str) -> bool:
        """Whether any edge (any relation) has ``concept`` at one end."""
        row = self._conn.execute("SELECT EXISTS (SELECT 1 FROM edges WHERE start_concept = ?) "
                                 "OR EXISTS (SELECT 1 FROM edges WHERE end_concept = ?)",
                                 (concept, concept)).fetchone()
        return bool(row[0])

    @_guarded
    def edges_between(self, concepts: Sequence[str], relations: Sequence[str] | None = None) -> list[EdgeRecord]:
        """Edges whose start and end concepts are both in ``concepts`` (sorted by edge URI)."""
        rel_sql, params = _relation_filter(relations)
        js = json.dumps(sorted(set(concepts)))
        query = ("SELECT uri, rel, start_uri, end_uri, start_concept, end_concept, weight, dataset, license, "
                 "surface_text FROM edges WHERE start_concept IN (SELECT value FROM json_each(?)) "
                 "AND end_concept IN (SELECT value FROM json_each(?))" + rel_sql + " ORDER BY uri")
        return [EdgeRecord(*row) for row in self._conn.execute(query, (js, js, *params))]

    @_guarded
    def strongest_edges(self, concepts: Sequence[str], relations: Sequence[str] | None = None,
                        limit: int = 10) -> list[EdgeRecord]:
        """The ``limit`` heaviest edges touching ``concepts`` (heaviest first, then by URI)."""
        rel_sql, params = _relation_filter(relations)
        js = json.dumps(sorted(set(concepts)))
        query = ("SELECT uri, rel, start_uri, end_uri, start_concept, end_concept, weight, dataset, license, "
                 "surface_text FROM edges WHERE rowid IN ("
                 "SELECT rowid FROM edges WHERE start_concept IN (SELECT value FROM json_each(?)) UNION "
                 "SELECT rowid FROM edges WHERE end_concept IN (SELECT value FROM json_each(?)))"
                 + rel_sql + " ORDER BY weight DESC, uri LIMIT ?")
        return [EdgeRecord(*row) for row in self._conn.execute(query, (js, js, *params, int(limit)))]

    @_guarded
    def stats(self) -> dict[str, Any]:
        """Store size, schema, concepts complete/partial, edges in all and by relation, dumps ingested."""
        conn = self._conn
        by_rel = dict(conn.execute("SELECT rel, count(*) FROM edges GROUP BY rel ORDER BY count(*) DESC, rel"))
        log_rows = dict(conn.execute("SELECT status, count(*) FROM fetch_log GROUP BY status"))
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {
            "path": str(self.path),
            "bytes": size,
            "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "revision": int(self.info("revision", 0)),
            "edges": sum(by_rel.values()),
            "concepts_complete": log_rows.get("complete", 0),
            "concepts_partial": log_rows.get("partial", 0),
            "dumps": self.info("dumps", []),
            "dump_languages": list(self.dump_languages()),
            "edges_by_relation": by_rel,
        }

    @_guarded
    def fingerprint(self) -> dict[str, Any]:
        """What identifies the store's state: schema, revision, edge count, fetch log, dumps (no timestamps of reading)."""
        conn = self._conn
        last = conn.execute("SELECT max(updated) FROM fetch_log").fetchone()[0]
        return {
            "path": str(self.path),
            "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "revision": int(self.info("revision", 0)),
            "edges": conn.execute("SELECT count(*) FROM edges").fetchone()[0],
            "concepts_complete": conn.execute(
                "SELECT count(*) FROM fetch_log WHERE status = 'complete'").fetchone()[0],
            "last_fetch": last,
            "dumps": [{k: d.get(k) for k in ("file", "sha256", "bytes", "kept")} for d in self.info("dumps", [])],
        }


def create_schema(conn: sqlite3.Connection, *, indexes: bool = True) -> None:
    """Create the store's tables (and, unless ``indexes=False``, its concept indexes) on ``conn``.

    Examples
    --------
    >>> conn = sqlite3.connect(":memory:")
    >>> create_schema(conn)
    >>> sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    ['edges', 'fetch_log', 'info']
    """
    conn.executescript(_TABLES + (_INDEXES if indexes else ""))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("INSERT OR IGNORE INTO info (key, value) VALUES ('created', ?)", (json.dumps(time.time()),))
    conn.execute("INSERT OR IGNORE INTO info (key, value) VALUES ('revision', '0')")


def create_indexes(conn: sqlite3.Connection) -> None:
    """Create the concept indexes (after a bulk load), inside the caller's transaction.

    Examples
    --------
    >>> conn = sqlite3.connect(":memory:")
    >>> create_schema(conn, indexes=False)
    >>> create_indexes(conn)
    >>> sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))[:2]
    ['edges_end', 'edges_start']
    """
    for statement in _INDEXES.split(";"):
        if statement.strip():
            conn.execute(statement)


def _relation_filter(relations: Sequence[str] | None) -> tuple[str, tuple]:
    if relations is None:
        return "", ()
    return " AND rel IN (SELECT value FROM json_each(?))", (json.dumps(list(relations)),)
