"""The SQLite store: schema checks, WAL, transactions, fetch log, refusing foreign files."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from labelgraph.conceptnet.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    Store,
    default_store_path,
    edge_row,
    ingest_temp_path,
    remove_stale_temps,
)
from labelgraph.errors import DataError


def _row(start: str, end: str, w: float = 1.0, rel: str = "RelatedTo") -> tuple:
    return edge_row(f"/a/[/r/{rel}/,{start}/,{end}/]", f"/r/{rel}", start, end, w)


def test_default_path_follows_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABELGRAPH_HOME", str(tmp_path / "h"))
    assert default_store_path() == tmp_path / "h" / "conceptnet.sqlite"


def test_wal_schema_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "cn.sqlite"
    with Store(path) as st:
        assert st.record_page("/c/en/cat", [_row("/c/en/cat", "/c/en/bed/n", 9.0), _row("/c/en/dog", "/c/en/cat")],
                              next_page="/query?node=/c/en/cat&offset=2") == 2
        state = st.fetch_state("/c/en/cat")
        assert (state.status, state.next_page, state.pages, state.edges) == (
            "partial", "/query?node=/c/en/cat&offset=2", 1, 2)
        assert not st.is_covered("/c/en/cat")
        # the same edge again (by URI) is updated, not duplicated
        assert st.record_page("/c/en/cat", [_row("/c/en/cat", "/c/en/bed/n", 9.5)], next_page=None) == 0
        assert st.is_covered("/c/en/cat") and st.fetch_state("/c/en/cat").pages == 2
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    rows = conn.execute("SELECT uri, rel, end_uri, end_concept, weight FROM edges ORDER BY uri").fetchall()
    conn.close()
    assert rows == [("/a/[/r/RelatedTo/,/c/en/cat/,/c/en/bed/n/]", "RelatedTo", "/c/en/bed/n", "/c/en/bed", 9.5),
                    ("/a/[/r/RelatedTo/,/c/en/dog/,/c/en/cat/]", "RelatedTo", "/c/en/cat", "/c/en/cat", 1.0)]
    with Store(path, readonly=True) as st:
        assert st.edge_count("/c/en/cat") == 2 and st.edge_count("/c/en/bed") == 1
        assert st.edge_count("/c/en/cat", ["IsA"]) == 0
        assert st.has_edges("/c/en/bed") and not st.has_edges("/c/en/bedroom")
        assert [e.weight for e in st.strongest_edges(["/c/en/cat"], limit=1)] == [9.5]
        assert st.stats()["edges_by_relation"] == {"RelatedTo": 2}
        assert st.fingerprint()["revision"] == 2


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cn.sqlite"
    with Store(path) as st:
        st.record_page("/c/en/cat", [_row("/c/en/cat", "/c/en/bed")], None)
        bad = _row("/c/en/dog", "/c/en/cat")[:6] + (None,) + _row("/c/en/dog", "/c/en/cat")[7:]  # NULL weight
        with pytest.raises(sqlite3.IntegrityError):
            st.record_page("/c/en/dog", [_row("/c/en/dog", "/c/en/bone"), bad], None)
        assert st.fetch_state("/c/en/dog") is None
        assert st.edge_count("/c/en/dog") == 0 and st.stats()["edges"] == 1


def test_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "cn.sqlite"
    path.write_text("this is a text file, not a database\n")
    with pytest.raises(DataError, match=r"cn\.sqlite: not an SQLite file"):
        Store(path)
    assert path.read_text().startswith("this is a text file")


def test_foreign_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(DataError, match="not a labelgraph ConceptNet store"):
        Store(path)


def test_newer_schema_refused(tmp_path: Path) -> None:
    path = tmp_path / "cn.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(DataError, match=f"schema version {SCHEMA_VERSION + 1} is newer"):
        Store(path, readonly=True)


def test_readonly_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no ConceptNet store here yet.*conceptnet fetch"):
        Store(tmp_path / "none.sqlite", readonly=True)
    assert not (tmp_path / "none.sqlite").exists()


def test_stale_ingest_temps_of_dead_processes_only(tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    files = [ingest_temp_path(store, dead_pid), Path(f"{ingest_temp_path(store, dead_pid)}-journal"),
             ingest_temp_path(store, os.getpid()), ingest_temp_path(tmp_path / "other.sqlite", dead_pid)]
    for f in files:
        f.write_bytes(b"x")
    assert remove_stale_temps(store) == sorted(files[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files[2:])
    with pytest.raises(DataError, match="temporary file of a `labelgraph conceptnet ingest`"):
        Store(files[2])
