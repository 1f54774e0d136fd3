"""``labelgraph conceptnet fetch|ingest|show|stats|mapping`` through click's CliRunner."""
from __future__ import annotations

import functools
import gzip
import json
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph.conceptnet import Store
from labelgraph_cli.main import cli
from tests._conceptnet_server import FakeConceptNet, make_edge
from tests.test_conceptnet_dump import GENERATED, reference_filter

EDGES = [
    make_edge("AtLocation", "/c/en/cat", "/c/en/bed/n", 9.0, surface="You are likely to find [[a cat]] in [[a bed]]"),
    make_edge("RelatedTo", "/c/en/bed", "/c/en/cat", 1.5),
    make_edge("RelatedTo", "/c/en/dog", "/c/en/cat", 3.0),
    make_edge("Antonym", "/c/en/dog", "/c/en/cat", 7.0),
    make_edge("UsedFor", "/c/en/tennis", "/c/en/bed", 1.25),
    make_edge("IsA", "/c/en/racket", "/c/en/equipment", 1.0),
    make_edge("IsA", "/c/en/television", "/c/en/device", 1.0),
]
FAST = ["--rate", "1000", "--burst", "1000"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fetched(tmp_path: Path, runner: CliRunner):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\nbed\n# a comment\n\ndog\ntennis racket\n")
    store = tmp_path / "cn.sqlite"
    with FakeConceptNet(EDGES) as srv:
        result = runner.invoke(cli, ["conceptnet", "fetch", "--labels", str(labels), "--store", str(store),
                                     "--base-url", srv.url, *FAST])
        yield store, labels, srv, result


def test_fetch(fetched, runner: CliRunner) -> None:
    store, labels, srv, result = fetched
    assert result.exit_code == 0, result.output
    # cat, bed, dog, tennis_racket (no edge) then tennis and racket: 6 concepts, 6 requests
    assert "6 concepts fetched, 0 already complete; 6 requests, 6 pages, 6 new edges" in result.output
    before = len(srv.log)
    again = runner.invoke(cli, ["conceptnet", "fetch", "--labels", str(labels), "--store", str(store),
                                "--base-url", srv.url, *FAST])
    assert again.exit_code == 0 and "0 requests" in again.output and len(srv.log) == before


def test_fetch_bad_inputs(tmp_path: Path, runner: CliRunner) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\ncat\n")
    result = runner.invoke(cli, ["conceptnet", "fetch", "--labels", str(labels), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "labels.txt:3: label 'cat' listed twice (first on line 1)" in result.output
    result = runner.invoke(cli, ["conceptnet", "fetch", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "give exactly one of --dataset, --labels, --from" in result.output
    labels.write_text("cat\n")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = runner.invoke(cli, ["conceptnet", "fetch", "--labels", str(labels), "--store", str(tmp_path / "s"),
                                 "--base-url", f"http://127.0.0.1:{port}", "--retries", "1", *FAST])
    assert result.exit_code == 3
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "failed after 2 attempts (connection refused)" in lines[0]


def test_fetch_from_artifact_and_dataset(tmp_path: Path, runner: CliRunner) -> None:
    art = labelgraph.Artifact.graph("binary", ["cat", "dog"], [[0, 1], [1, 0]], {})
    art.save(tmp_path / "g.npz")
    with FakeConceptNet(EDGES) as srv:
        result = runner.invoke(cli, ["conceptnet", "fetch", "--from", str(tmp_path / "g.npz"), "--store",
                                     str(tmp_path / "a.sqlite"), "--base-url", srv.url, *FAST])
        assert result.exit_code == 0, result.output
        assert "2 concepts fetched" in result.output
        voc = list(labelgraph.load(labelgraph.bundled_path("voc")).labels)
        result = runner.invoke(cli, ["conceptnet", "fetch", "--dataset", "voc", "--store",
                                     str(tmp_path / "v.sqlite"), "--base-url", srv.url, *FAST])
        assert result.exit_code == 0, result.output
        asked = {p.split("node=")[1].split("&")[0] for _, p in srv.log if "node=" in p}
    # the shipped VOC overrides send tvmonitor to television + monitor, not to /c/en/tvmonitor
    assert {"/c/en/television", "/c/en/monitor"} <= asked and "/c/en/tvmonitor" not in asked
    assert "/c/en/cat" in asked and len(voc) == 20


def test_show(fetched, runner: CliRunner) -> None:
    store = fetched[0]
    result = runner.invoke(cli, ["conceptnet", "show", "cat", "bed", "--store", str(store)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cat -> /c/en/cat / bed -> /c/en/bed"
    assert "AtLocation" in lines[3] and "9" in lines[3] and "RelatedTo" in lines[4]  # strongest first
    result = runner.invoke(cli, ["conceptnet", "show", "cat", "--store", str(store), "--json"])
    data = json.loads(result.output)
    assert [e["weight"] for e in data["edges"]] == [9.0, 3.0, 1.5]  # Antonym 7.0 left out by default
    result = runner.invoke(cli, ["conceptnet", "show", "cat", "dog", "--store", str(store), "--all-relations",
                                 "--json"])
    assert [e["rel"] for e in json.loads(result.output)["edges"]] == ["Antonym", "RelatedTo"]
    result = runner.invoke(cli, ["conceptnet", "show", "cat", "--store", str(store), "--relations", "Nope"])
    assert result.exit_code == 2 and "unknown ConceptNet relation 'Nope'" in result.output


def test_stats(fetched, runner: CliRunner) -> None:
    store = fetched[0]
    result = runner.invoke(cli, ["conceptnet", "stats", "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["num_edges"] == 6 and data["concepts_complete"] == 6
    assert data["edges_by_relation"] == {"RelatedTo": 2, "AtLocation": 1, "Antonym": 1, "IsA": 1, "UsedFor": 1}
    text = runner.invoke(cli, ["conceptnet", "stats", "--store", str(store)]).output
    assert "edges: 6; concepts fetched complete: 6, partial: 0" in text
    bad = store.parent / "bad.sqlite"
    bad.write_bytes(b"\x00" * 100)
    result = runner.invoke(cli, ["conceptnet", "stats", "--store", str(bad)])
    assert result.exit_code == 2 and "not an SQLite file" in result.output


def test_mapping(fetched, runner: CliRunner) -> None:
    store, labels = fetched[0], fetched[1]
    result = runner.invoke(cli, ["conceptnet", "mapping", "--labels", str(labels), "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["label"]: r for r in json.loads(result.output)["labels"]}
    assert rows["tennis racket"]["concepts"] == ["/c/en/tennis", "/c/en/racket"]
    assert rows["tennis racket"]["source"] == "words" and rows["tennis racket"]["edges"] == 2
    assert rows["cat"]["edges"] == 3  # AtLocation, 2 RelatedTo; the Antonym is not in the default set
    table = runner.invoke(cli, ["conceptnet", "mapping", "--labels", str(labels), "--store", str(store)]).output
    assert "tennis racket  words" in table
    labels.write_text("cat\nzebra\n")
    result = runner.invoke(cli, ["conceptnet", "mapping", "--labels", str(labels), "--store", str(store)])
    assert result.exit_code == 0 and "not fetched: /c/en/zebra" in result.output
    assert "1 concepts not in the store; run `labelgraph conceptnet fetch --labels FILE" in result.output


def test_ingest_file_and_download(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "conceptnet-assertions-5.7.0.csv.gz"
    src.write_bytes(gzip.compress(GENERATED))
    store = tmp_path / "cn.sqlite"
    result = runner.invoke(cli, ["conceptnet", "ingest", str(src), "--store", str(store)])
    assert result.exit_code == 0, result.output
    n_lines, n_kept = GENERATED.count(b"\n"), len(reference_filter(GENERATED))
    assert f"{n_lines} lines read, {n_kept} edges kept (en)" in result.output
    # --download: the downloader fetches the dump from a mirror (a loopback file server here)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / src.name).write_bytes(src.read_bytes())
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *a: None  # type: ignore[assignment]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("LABELGRAPH_DOWNLOAD_BASE", f"http://127.0.0.1:{httpd.server_address[1]}")
        result = runner.invoke(cli, ["conceptnet", "ingest", "--download", "--store", str(tmp_path / "d.sqlite")])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "d.sqlite", readonly=True) as st:
        assert st.stats()["edges"] == len(reference_filter(GENERATED))
    result = runner.invoke(cli, ["conceptnet", "ingest", "--store", str(store)])
    assert result.exit_code == 2 and "give a dump FILE or --download" in result.output
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(src.read_bytes()[:-20])
    result = runner.invoke(cli, ["conceptnet", "ingest", str(cut), "--store", str(store)])
    assert result.exit_code == 2 and "gzip data ends early at byte" in result.output


def test_help_has_examples(runner: CliRunner) -> None:
    for sub in ("fetch", "ingest", "show", "stats", "mapping"):
        result = runner.invoke(cli, ["conceptnet", sub, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
