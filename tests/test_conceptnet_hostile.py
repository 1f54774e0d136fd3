"""ConceptNet store and fetcher against kills, races and hostile servers: real subprocesses of the CLI,
real SQLite files, real loopback HTTP servers."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from labelgraph.conceptnet import ConceptNetClient, FetchPolicy, Store, fetch_labels, ingest_dump
from labelgraph.conceptnet.store import StoreBusyError, ingest_temp_path, lock_path
from labelgraph.errors import DataError, NetworkError
from labelgraph_cli.main import cli
from tests._conceptnet_server import FakeConceptNet, make_edge
from tests.conftest import ROOT
from tests.test_conceptnet_dump import GENERATED, reference_filter
from tests.test_conceptnet_fetch import FAST, english_uris, stored_uris, synthetic_edges

ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
CLI = [sys.executable, "-m", "labelgraph_cli.main", "conceptnet"]
FAST_CLI = ["--rate", "1000", "--burst", "1000", "-q"]


def _invoke(*args: str):
    """The CLI in this process (the other process of a race is a subprocess)."""
    return CliRunner().invoke(cli, ["conceptnet", *args])


def _stats(store: Path) -> dict:
    result = _invoke("stats", "--store", str(store), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    return lines[0]


def _wait_for(condition, what: str, proc: subprocess.Popen | None = None, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended before {what}: {proc.stderr.read()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _dump_lines(n: int, tag: str) -> bytes:
    """``n`` distinct English edges, one dump line each."""
    return b"".join(
        f"/a/[/r/RelatedTo/,/c/en/{tag}{k}/,/c/en/thing/]\t/r/RelatedTo\t/c/en/{tag}{k}\t/c/en/thing\t"
        f'{{"weight": 1.0}}\n'.encode() for k in range(n))


# -- a killed ingest ----------------------------------------------------------------------------------------------

def test_killed_ingest_leaves_a_temp_file_that_is_never_a_store(tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    first = tmp_path / "first.csv"
    first.write_bytes(GENERATED)
    assert _invoke("ingest", str(first), "--store", str(store), "-q").exit_code == 0
    before = _stats(store)
    assert before["num_edges"] == len(reference_filter(GENERATED))

    # a second ingest reads a slow stdin and is killed half-way
    proc = subprocess.Popen([*CLI, "ingest", "-", "--store", str(store), "-q"], env=ENV, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=False)
    temp = ingest_temp_path(store, proc.pid)
    # the pipe holds 64 kB: when the write returns, the ingest has read nearly all of these 5 MB
    proc.stdin.write(_dump_lines(60_000, "a"))
    proc.stdin.flush()
    _wait_for(lambda: temp.exists() and temp.stat().st_size > 0, "the temporary store", proc)
    proc.kill()
    proc.wait(timeout=10)
    proc.stdin.close()
    assert proc.returncode == -signal.SIGKILL
    assert temp.exists() and lock_path(store).exists()  # what a kill leaves behind

    # stats reads the old store, untouched; the temporary file is never taken for a store
    after = _stats(store)
    assert after["num_edges"] == before["num_edges"] and after["revision"] == before["revision"]
    result = _invoke("stats", "--store", str(temp))
    assert result.exit_code == 2
    assert "temporary file of a `labelgraph conceptnet ingest`" in _one_line(result.output)
    copy = tmp_path / "half.sqlite"
    shutil.copyfile(temp, copy)  # the same bytes under an ordinary name: refused by its mark
    result = _invoke("stats", "--store", str(copy))
    assert result.exit_code == 2 and "a half-built store" in _one_line(result.output)
    with pytest.raises(DataError, match="half-built"):
        Store(copy)

    # the next ingest removes the dead process's files and succeeds
    second = tmp_path / "second.csv"
    second.write_bytes(_dump_lines(10, "b"))
    result = _invoke("ingest", str(second), "--store", str(store), "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cn.sqlite", "first.csv", "half.sqlite", "second.csv"]
    assert _stats(store)["num_edges"] == 10


# -- ingest against fetch -----------------------------------------------------------------------------------------

def test_ingest_stops_while_a_fetch_writes(tmp_path: Path) -> None:
    concepts = ["cat", "bed", "dog", "sofa", "car", "tree"]
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(concepts) + "\n")
    store = tmp_path / "cn.sqlite"
    dump = tmp_path / "d.csv"
    dump.write_bytes(GENERATED)
    edges = synthetic_edges(concepts, n=45, foreign=0)
    with FakeConceptNet(edges, page_cap=10, delay=0.15) as srv:
        fetch = subprocess.Popen([*CLI, "fetch", "--labels", str(labels), "--store", str(store), "--base-url",
                                  srv.url, "--rate", "1000", "--burst", "1000", "-q"],
                                 env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for(lambda: len(srv.log) >= 2, "the fetch to start", fetch)
        ingest = _invoke("ingest", str(dump), "--store", str(store), "-q")
        assert fetch.poll() is None  # the fetch was still writing when the ingest was refused
        assert ingest.exit_code == 1
        assert "in use by another labelgraph process" in _one_line(ingest.output)
        out, err = fetch.communicate(timeout=120)
        assert fetch.returncode == 0, err
    assert set(stored_uris(store)) == english_uris(edges, concepts)  # no edge lost

    # afterwards the ingest runs and carries every fetched edge over
    assert _invoke("ingest", str(dump), "--store", str(store), "-q").exit_code == 0
    assert set(stored_uris(store)) == english_uris(edges, concepts) | set(reference_filter(GENERATED))


def test_fetch_stops_while_an_ingest_replaces_the_store(tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\nbed\n")
    store = tmp_path / "cn.sqlite"
    edges = synthetic_edges(["cat", "bed"], n=12, foreign=0)
    ingest = subprocess.Popen([*CLI, "ingest", "-", "--store", str(store), "-q"], env=ENV, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    temp = ingest_temp_path(store, ingest.pid)
    _wait_for(temp.exists, "the ingest to start", ingest)
    with FakeConceptNet(edges) as srv:
        args = ["fetch", "--labels", str(labels), "--store", str(store), "--base-url", srv.url, *FAST_CLI]
        refused = _invoke(*args)
        assert refused.exit_code == 1
        assert f"(process {ingest.pid}) is replacing this store" in _one_line(refused.output)
        assert srv.log == [] and not store.exists()  # refused before any request or write

        ingest.stdin.write(GENERATED)
        ingest.stdin.close()
        assert ingest.wait(timeout=60) == 0, ingest.stderr.read()
        assert _invoke(*args).exit_code == 0
    assert set(stored_uris(store)) == set(reference_filter(GENERATED)) | english_uris(edges, ["cat", "bed"])


def test_ingest_cannot_replace_a_store_a_reader_still_has_open(tmp_path: Path) -> None:
    """A reader that opened while the ingest ran (so without the lock) and stays open: one line, old store kept."""
    store = tmp_path / "cn.sqlite"
    assert _invoke("ingest", str(_write(tmp_path / "a.csv", GENERATED)), "--store", str(store), "-q").exit_code == 0
    before = _stats(store)
    ingest = subprocess.Popen([*CLI, "ingest", "-", "--store", str(store), "-q"], env=ENV, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(ingest_temp_path(store, ingest.pid).exists, "the ingest to start", ingest)
    with Store(store, readonly=True) as reader:
        ingest.stdin.write(_dump_lines(10, "d").decode())
        ingest.stdin.close()
        assert ingest.wait(timeout=120) == 1
        assert reader.stats()["edges"] == before["num_edges"]
    assert "another process still has the store open" in _one_line(ingest.stderr.read())
    assert _stats(store) == before
    # no temporary file or lock left (SQLite's own -wal/-shm of the old store may stay: read-only
    # connections do not remove them)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "a.csv", "cn.sqlite"]


# -- SQLite errors ------------------------------------------------------------------------------------------------

def test_locked_store_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cn.sqlite"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds a write transaction
    try:
        with Store(path, timeout=0.1) as st:
            with pytest.raises(StoreBusyError) as info:
                st.record_page("/c/en/cat", [], None)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(info.value).startswith(f"{path}: the store is locked by another process (database is locked)")
    assert "run the command again" in str(info.value)


def test_damaged_store_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cn.sqlite"
    ingest_dump(_write(tmp_path / "d.csv", _dump_lines(5000, "c")), path)
    raw = bytearray(path.read_bytes())
    raw[4096 * 3: 4096 * 6] = b"\xa5" * (4096 * 3)  # pages of the edges table overwritten
    path.write_bytes(bytes(raw))
    result = CliRunner().invoke(cli, ["conceptnet", "stats", "--store", str(path)])
    assert result.exit_code == 2
    line = _one_line(result.output)
    assert line.startswith(f"Error: {path}: the store file is damaged") and "delete it and rebuild" in line


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- hostile servers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://api.conceptnet.io", "http://", "http://127.0.0.1:99999",
                                 "http://exa mple.org", "api.conceptnet.io", "http://host/?q=1"])
def test_refused_base_url_creates_nothing(tmp_path: Path, url: str) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\n")
    result = CliRunner().invoke(cli, ["conceptnet", "fetch", "--labels", str(labels),
                                      "--store", str(tmp_path / "sub" / "cn.sqlite"), "--base-url", url])
    assert result.exit_code == 2
    assert "ConceptNet base URL" in _one_line(result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.txt"]


def _fetch(url: str, store: Path, labels: list[str], policy: FetchPolicy = FAST):
    with Store(store) as st, ConceptNetClient(url, policy=policy) as client:
        return fetch_labels(st, client, labels)


CAT = [make_edge("IsA", "/c/en/cat", "/c/en/pet", 2.0)]


def test_redirect_to_another_port_is_not_followed(tmp_path: Path) -> None:
    with FakeConceptNet(CAT) as other, FakeConceptNet(CAT) as srv:
        srv.faults.append(("redirect", f"{other.url}/query?node=/c/en/cat&other=/c/en&limit=1000"))
        with pytest.raises(NetworkError) as info:
            _fetch(srv.url, tmp_path / "cn.sqlite", ["cat"])
        assert f"redirects to {other.url}/query" in str(info.value) and "not followed" in str(info.value)
        assert len(srv.log) == 1 and other.log == []
        # a redirect within the same server is followed
        srv.faults.append(("redirect", "/query?node=/c/en/cat&other=/c/en&limit=1000&again=1"))
        report = _fetch(srv.url, tmp_path / "cn.sqlite", ["cat"])
        assert report.edges_new == 1 and report.requests == 2 and len(srv.log) == 3 and other.log == []


@pytest.mark.parametrize("form", ["absolute", "scheme-relative"])
def test_next_page_on_another_port_is_not_followed(tmp_path: Path, form: str) -> None:
    with FakeConceptNet(CAT) as other:
        target = f"{other.url}/query?node=/c/en/cat&offset=1"
        link = target if form == "absolute" else target[len("http:"):]
        page = {"@id": "/query?node=/c/en/cat", "edges": CAT, "view": {"@id": "/p1", "nextPage": link}}
        with FakeConceptNet(recorded={"/p1": page, link: page}, roots={"/c/en/cat": "/p1"}) as srv:
            with pytest.raises(NetworkError, match=re.escape(f"leads to {target}, not to {srv.url}; not followed")):
                _fetch(srv.url, tmp_path / "cn.sqlite", ["cat"])
            assert len(srv.log) == 1 and other.log == []
    with Store(tmp_path / "cn.sqlite", readonly=True) as st:
        assert st.fetch_state("/c/en/cat") is None  # the page was not recorded: no rerun resumes from the link


def test_endless_pager_of_the_same_edges_stops(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with FakeConceptNet(endless="repeat") as srv, caplog.at_level(logging.WARNING):
        url = srv.url
        report = _fetch(url, tmp_path / "cn.sqlite", ["cat"])
        # one page of new edges, then FetchPolicy.max_stale_pages (3) pages that repeat it
        assert len(srv.log) == 1 + FAST.max_stale_pages == 4
    assert report.stopped == ["/c/en/cat"] and report.edges_new == 2
    assert f"stopped paging {url}/query?node=/c/en/cat&other=/c/en&limit=1000 after 3 pages" in caplog.text
    with Store(tmp_path / "cn.sqlite", readonly=True) as st:
        assert not st.fetch_state("/c/en/cat").complete  # not claimed complete: build will say so


def test_endless_pager_of_new_edges_stops_at_max_pages(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\n")
    with FakeConceptNet(endless="fresh") as srv:
        url = srv.url
        result = CliRunner().invoke(cli, ["conceptnet", "fetch", "--labels", str(labels), "--store",
                                          str(tmp_path / "cn.sqlite"), "--base-url", srv.url, "--max-pages", "7",
                                          *FAST_CLI])
        assert len(srv.log) == 7
    assert result.exit_code == 0, result.output
    assert "1 concepts fetched" not in result.output
    assert "paging stopped early for 1 concepts (/c/en/cat), left partial" in result.output
    assert f"stopped paging {url}/query?node=/c/en/cat&other=/c/en&limit=1000 after 7 pages" in caplog.text
    with Store(tmp_path / "cn.sqlite", readonly=True) as st:
        assert st.stats()["edges"] == 14 and st.fetch_state("/c/en/cat").pages == 7
