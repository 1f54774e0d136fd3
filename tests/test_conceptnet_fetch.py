"""The API fetcher against a real loopback HTTP server: paging, faults, resume, re-runs, rate limit."""
from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from labelgraph.conceptnet import ConceptNetClient, FetchPolicy, Store, fetch_concepts, fetch_labels
from labelgraph.conceptnet.client import TokenBucket, parse_retry_after
from labelgraph.errors import NetworkError
from tests._conceptnet_server import FakeConceptNet, load_recorded, make_edge
from tests.conftest import ROOT, require_shared

FAST = FetchPolicy(rate=1000.0, burst=1000, connect_timeout=2.0, read_timeout=2.0, max_retries=6,
                   backoff_base=0.005, backoff_max=0.02)


def synthetic_edges(concepts: list[str], n: int = 25, foreign: int = 5) -> list[dict]:
    """``n`` English edges and ``foreign`` non-English ones around each concept, plus links between them."""
    edges = []
    for c in concepts:
        for k in range(n):
            rel = ("RelatedTo", "IsA", "AtLocation", "UsedFor")[k % 4]
            a, b = (f"/c/en/{c}", f"/c/en/{c}_thing{k}/n") if k % 2 else (f"/c/en/{c}_thing{k}", f"/c/en/{c}")
            edges.append(make_edge(rel, a, b, 1.0 + k / 10))
        for k in range(foreign):
            edges.append(make_edge("Synonym", f"/c/en/{c}", f"/c/fr/{c}_{k}", 2.0, dataset="/d/wiktionary/fr"))
    for a, b in zip(concepts, concepts[1:]):
        edges.append(make_edge("RelatedTo", f"/c/en/{a}", f"/c/en/{b}", 3.0))
    return edges


def english_uris(edges: list[dict], concepts: list[str]) -> set[str]:
    """The independent filter: both ends English, one end one of ``concepts`` (sense suffix ignored)."""
    wanted = {f"/c/en/{c}" for c in concepts}
    out = set()
    for e in edges:
        s, t = e["start"]["@id"], e["end"]["@id"]
        if s.startswith("/c/en/") and t.startswith("/c/en/"):
            if "/".join(s.split("/")[:4]) in wanted or "/".join(t.split("/")[:4]) in wanted:
                out.add(e["@id"])
    return out


def stored_uris(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT uri FROM edges")]
    finally:
        conn.close()


@pytest.fixture
def server():
    concepts = ["cat", "bed", "dog"]
    with FakeConceptNet(synthetic_edges(concepts), page_cap=10) as srv:
        srv.concepts = concepts
        yield srv


def _fetch(srv: FakeConceptNet, store_path: Path, labels: list[str], policy: FetchPolicy = FAST, **kw):
    with Store(store_path) as st, ConceptNetClient(srv.url, policy=policy) as client:
        return fetch_labels(st, client, labels, **kw)


def test_paging_stores_every_edge_once(server: FakeConceptNet, tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    report = _fetch(server, store, ["cat", "bed", "dog"])
    uris = stored_uris(store)
    assert len(uris) == len(set(uris))
    assert set(uris) == english_uris(server.edges, server.concepts)
    # cat: 25 own + 1 link to bed = 26 English edges -> 3 pages of 10; bed 27 -> 3; dog 26 -> 3
    assert report.requests == len(server.log) == 9 and report.pages == 9
    assert report.skipped == {}  # other=/c/en: the server sent English neighbours only
    assert [m.concepts for m in report.mapping] == [("/c/en/cat",), ("/c/en/bed",), ("/c/en/dog",)]
    first = server.log[0][1]
    assert first == "/query?node=/c/en/cat&other=/c/en&limit=1000"


def test_rerun_makes_no_request_and_refresh_redoes(server: FakeConceptNet, tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    _fetch(server, store, ["cat", "bed"])
    before = len(server.log)
    report = _fetch(server, store, ["cat", "bed"])
    assert len(server.log) == before and report.requests == 0
    assert report.already == ["/c/en/cat", "/c/en/bed"] and report.fetched == []
    report = _fetch(server, store, ["cat"], refresh=True)
    assert len(server.log) == before + 3 and report.edges_new == 0


@pytest.mark.parametrize("fault", [("429", 0.3), "500", "503", "reset", ("slow", 1.0), "truncated", "html"])
def test_each_fault_is_retried(server: FakeConceptNet, tmp_path: Path, fault) -> None:
    store = tmp_path / "cn.sqlite"
    server.faults.extend([None, fault])  # the second request (cat's page 2) fails once
    policy = FetchPolicy(rate=1000.0, burst=1000, connect_timeout=1.0, read_timeout=0.3, max_retries=3,
                         backoff_base=0.005, backoff_max=0.02)
    report = _fetch(server, store, ["cat"], policy=policy)
    uris = stored_uris(store)
    assert len(uris) == len(set(uris)) == len(english_uris(server.edges, ["cat"])) == 26
    assert len(server.log) == 4 and report.requests == 4  # 3 pages + 1 retry
    assert server.log[1][1] == server.log[2][1]  # the failed page was asked again
    if fault[0] == "429":
        assert server.log[2][0] - server.log[1][0] >= 0.29  # Retry-After honoured over the tiny backoff


def test_mixed_faults(server: FakeConceptNet, tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    server.faults.extend(["503", ("429", 0.05), None, "reset", "truncated", None, "500", "html", None,
                          ("slow", 0.8), None, "reset", "reset"])
    policy = FetchPolicy(rate=1000.0, burst=1000, connect_timeout=1.0, read_timeout=0.3, max_retries=4,
                         backoff_base=0.005, backoff_max=0.02)
    report = _fetch(server, store, ["cat", "bed", "dog"], policy=policy)
    uris = stored_uris(store)
    assert len(uris) == len(set(uris))
    assert set(uris) == english_uris(server.edges, server.concepts)
    assert report.requests == len(server.log) == 9 + 9  # nine faults, each costing one more request
    assert report.fetched == ["/c/en/cat", "/c/en/bed", "/c/en/dog"]


def test_refused_connection_one_error_store_intact(tmp_path: Path, server: FakeConceptNet) -> None:
    store = tmp_path / "cn.sqlite"
    _fetch(server, store, ["cat"])
    before = sorted(stored_uris(store))
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    policy = FetchPolicy(rate=1000.0, burst=1000, max_retries=2, backoff_base=0.005)
    with Store(store) as st, ConceptNetClient(f"http://127.0.0.1:{port}", policy=policy) as client:
        with pytest.raises(NetworkError) as info:
            fetch_labels(st, client, ["dog"])
    message = str(info.value)
    assert "\n" not in message
    assert "/c/en/dog" in message and "failed after 3 attempts (connection refused)" in message
    assert sorted(stored_uris(store)) == before
    with Store(store, readonly=True) as st:
        assert st.fetch_state("/c/en/dog") is None and st.is_covered("/c/en/cat")


def test_html_200_gives_one_clear_error(server: FakeConceptNet, tmp_path: Path) -> None:
    server.faults.extend(["html"] * 3)
    policy = FetchPolicy(rate=1000.0, burst=1000, max_retries=2, backoff_base=0.005)
    with pytest.raises(NetworkError, match=r"fetching /c/en/cat failed after 3 attempts "
                                           r"\(the response is not JSON \(text/html, \d+ bytes\)\)"):
        _fetch(server, tmp_path / "cn.sqlite", ["cat"], policy=policy)


def test_bad_edges_skipped_counted_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = make_edge("IsA", "/c/en/cat", "/c/en/pet", 2.0)
    no_end = make_edge("IsA", "/c/en/cat", "/c/en/animal", 2.0)
    del no_end["end"]
    text_weight = make_edge("IsA", "/c/en/cat", "/c/en/feline", 2.0)
    text_weight["weight"] = "heavy"
    nan_weight = make_edge("IsA", "/c/en/cat", "/c/en/mammal", 2.0)
    nan_weight["weight"] = None
    with FakeConceptNet([good, no_end, text_weight, nan_weight]) as srv:
        # the broken edge has no "end", so the server's index files it under its start only
        with caplog.at_level(logging.WARNING):
            report = _fetch(srv, tmp_path / "cn.sqlite", ["cat"])
    assert stored_uris(tmp_path / "cn.sqlite") == [good["@id"]]
    assert report.skipped == {"missing field": 1, "bad weight": 2}
    assert "1 malformed" not in report.summary() and "3 malformed edges skipped" in report.summary()
    assert "/c/en/cat: skipped 2 edges with bad weight, 1 edges with missing field" in caplog.text


def test_rate_limit_budget_from_server_times(tmp_path: Path) -> None:
    rate, burst, n = 20.0, 3, 25
    concepts = [f"thing{k}" for k in range(n)]
    with FakeConceptNet([]) as srv:
        policy = FetchPolicy(rate=rate, burst=burst, backoff_base=0.005)
        with Store(tmp_path / "cn.sqlite") as st, ConceptNetClient(srv.url, policy=policy) as client:
            fetch_concepts(st, client, [f"/c/en/{c}" for c in concepts])
        times = [t for t, _ in srv.log]
    assert len(times) == n
    for i in range(n):
        for j in range(i + 1, n):
            # at most burst + rate * window requests in any window (20 ms slack for loopback latency)
            assert j - i + 1 <= burst + rate * (times[j] - times[i] + 0.02), (i, j, times[j] - times[i])
    assert times[-1] - times[0] >= (n - burst) / rate * 0.9  # and the limiter did hold requests back


def test_token_bucket_with_a_fake_clock() -> None:
    now = [0.0]
    slept = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(rate=2.0, capacity=2, clock=lambda: now[0], sleep=sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:2] == [0.0, 0.0] and waits[2:] == pytest.approx([0.5, 0.5, 0.5])
    assert now[0] == pytest.approx(1.5)


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("-3") == 0.0


def test_real_recorded_pages(tmp_path: Path) -> None:
    tar_path = require_shared("conceptnet", "api", "strangemother_5.5", "api_cache_json.tar.gz")
    # cake is left out: its recording mixes 5.5 pages (limit 20) and 5.6 pages (limit 50), two chains
    words = ["cat", "spoon", "apple", "water", "paws"]
    pages, roots = load_recorded(tar_path, words)
    # the independent expectation: every English-English edge on the word's recorded pages
    expected: dict[str, float] = {}
    for page in pages.values():
        for e in page["edges"]:
            if e["start"]["@id"].startswith("/c/en/") and e["end"]["@id"].startswith("/c/en/"):
                expected[e["@id"]] = e["weight"]
    with FakeConceptNet(recorded=pages, roots=roots) as srv:
        with Store(tmp_path / "cn.sqlite") as st, ConceptNetClient(srv.url, policy=FAST) as client:
            report = fetch_concepts(st, client, [f"/c/en/{w}" for w in words])
        assert len(srv.log) == len(pages) == 4 * 11 + 1
    conn = sqlite3.connect(tmp_path / "cn.sqlite")
    got = dict(conn.execute("SELECT uri, weight FROM edges"))
    concepts = {r[0] for r in conn.execute("SELECT start_concept FROM edges UNION SELECT end_concept FROM edges")}
    conn.close()
    assert got == expected
    assert report.skipped["other language"] > 0 and set(report.skipped) == {"other language"}
    assert all(c.count("/") == 3 for c in concepts)  # sense suffixes dropped in the concept columns


def test_kill_and_resume(tmp_path: Path) -> None:
    concepts = ["cat", "bed", "dog", "sofa", "car", "tree"]
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(concepts) + "\n")
    store = tmp_path / "cn.sqlite"
    edges = synthetic_edges(concepts, n=45, foreign=0)
    with FakeConceptNet(edges, page_cap=10, delay=0.03) as srv:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "labelgraph_cli.main", "conceptnet", "fetch", "--labels", str(labels),
               "--store", str(store), "--base-url", srv.url, "--rate", "1000", "--burst", "1000", "-q"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(srv.log) < 13 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
        killed_after = len(srv.log)
        with Store(store, readonly=True) as st:
            states = {c: st.fetch_state(f"/c/en/{c}") for c in concepts}
        complete = [c for c, s in states.items() if s is not None and s.complete]
        partial = {c: s.next_page for c, s in states.items() if s is not None and not s.complete}
        assert 1 <= len(complete) < len(concepts) and killed_after < 30
        srv.log.clear()
        report = _fetch(srv, store, concepts)
        for c in complete:
            assert srv.requests_for(f"/c/en/{c}") == []  # no completed concept asked again
        for c, nxt in partial.items():
            assert srv.requests_for(f"/c/en/{c}")[0] == nxt  # resumed from the recorded page
        assert report.already == [f"/c/en/{c}" for c in complete]
    uris = stored_uris(store)
    assert len(uris) == len(set(uris))
    assert set(uris) == english_uris(edges, concepts)
    with Store(store, readonly=True) as st:
        assert all(st.is_covered(f"/c/en/{c}") for c in concepts)


def test_paging_loop_is_an_error(tmp_path: Path) -> None:
    page = {"@id": "/query?node=/c/en/cat", "edges": [make_edge("IsA", "/c/en/cat", "/c/en/pet", 1.0)],
            "view": {"@id": "/loop", "nextPage": "/loop"}}
    with FakeConceptNet(recorded={"/loop": page}, roots={"/c/en/cat": "/loop"}) as srv:
        srv.recorded["/loop"] = page  # points to itself
        from labelgraph.errors import DataError

        with pytest.raises(DataError, match="loop back"):
            _fetch(srv, tmp_path / "cn.sqlite", ["cat"])
    assert orjson.dumps(page)
