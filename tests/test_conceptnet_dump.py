"""Dump ingest: real dump lines plus generated non-English, malformed and duplicate ones, vs an independent filter."""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import sqlite3
from pathlib import Path

import pytest

from labelgraph.conceptnet import Store, ingest_dump
from labelgraph.conceptnet.dump import iter_line_blocks
from labelgraph.conceptnet.store import edge_row
from labelgraph.errors import DataError
from tests.conftest import require_shared


def reference_filter(raw: bytes, lang: str = "en") -> dict[str, tuple]:
    """Written from the format description alone: which lines an English-only ingest keeps (first URI wins)."""
    kept: dict[str, tuple] = {}
    prefix = f"/c/{lang}/"
    for raw_line in raw.split(b"\n"):
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            continue
        uri, rel, start, end, info = fields
        if not (uri.startswith("/a/") and rel.startswith("/r/") and start.startswith(prefix)
                and end.startswith(prefix)):
            continue
        try:
            data = json.loads(info)
        except ValueError:
            continue
        w = data.get("weight") if isinstance(data, dict) else None
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
            continue
        if uri not in kept:
            concept = lambda u: "/".join(u.split("/")[:4])  # noqa: E731
            kept[uri] = (rel[len("/r/"):], start, end, concept(start), concept(end), float(w))
    return kept


def _line(rel: str, start: str, end: str, weight, extra: str = "") -> bytes:
    info = '{"dataset": "/d/test", "license": "cc:by/4.0", "sources": [{"contributor": "/s/x"}], "weight": %s%s}' % (
        weight, extra)
    return f"/a/[/r/{rel}/,{start}/,{end}/]\t/r/{rel}\t{start}\t{end}\t{info}\n".encode()


GENERATED = b"".join([
    _line("IsA", "/c/en/cat/n", "/c/en/pet", 2.0, ', "surfaceText": "[[a cat]] is a [[pet]]"'),
    _line("IsA", "/c/en/cat/n", "/c/en/pet", 2.0),                           # duplicate line
    _line("IsA", "/c/en/cat/n", "/c/en/pet", 9.0),                           # duplicate URI: first wins
    _line("Synonym", "/c/fr/chat/n", "/c/en/cat", 1.0),                      # non-English start
    _line("Synonym", "/c/en/cat", "/c/ja/猫", 1.0),                          # non-English end
    _line("RelatedTo", "/c/en/café", "/c/en/coffee", 1.5),                   # non-ASCII English
    _line("ExternalURL", "/c/en/cat", "http://dbpedia.org/resource/Cat", 1.0),
    _line("AtLocation", "/c/en/cat", "/c/en/bed", '"heavy"'),                # malformed: text weight
    _line("AtLocation", "/c/en/cat", "/c/en/sofa", "true"),                  # malformed: boolean weight
    b"/a/[/r/IsA/,/c/en/dog/,/c/en/pet/]\t/r/IsA\t/c/en/dog\t/c/en/pet\n",  # malformed: 4 fields
    b"/a/[/r/IsA/,/c/en/dog/,/c/en/pet/]\t/r/IsA\t/c/en/dog\t/c/en/pet\t{\"weight\": 1.0\n",  # bad JSON
    b"/a/[/r/IsA/,/c/en/dog/,/c/en/bone/]\t/r/IsA\t/c/en/dog\t/c/en/bone\t{\"dataset\": \"/d/x\"}\n",  # no weight
    b"/a/[/r/IsA/,/c/en/d\xffg/,/c/en/pet/]\t/r/IsA\t/c/en/d\xffg\t/c/en/pet\t{\"weight\": 1.0}\n",  # bad UTF-8
    b"\n",
    b"garbage without tabs\n",
    _line("HasA", "/c/en/dog", "/c/en/tail/n/wn/body", 3.25),
])
GENERATED_MALFORMED = 6  # English-English lines that are broken


def _read_store(path: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(path)
    try:
        return {r[0]: tuple(r[1:]) for r in conn.execute(
            "SELECT uri, rel, start_uri, end_uri, start_concept, end_concept, weight FROM edges")}
    finally:
        conn.close()


def _real_lines() -> bytes:
    folder = require_shared("conceptnet", "assertions")
    return ((folder / "kgtk_tests_conceptnet_5.7.0_sample.csv").read_bytes()
            + (folder / "conceptnet5_testdata_reference_assertions.csv").read_bytes())


def test_real_and_generated_lines_match_independent_filter(tmp_path: Path) -> None:
    raw = _real_lines() + GENERATED
    src = tmp_path / "assertions.csv.gz"
    src.write_bytes(gzip.compress(raw))
    report = ingest_dump(src, tmp_path / "cn.sqlite")
    expected = reference_filter(raw)
    assert _read_store(tmp_path / "cn.sqlite") == expected
    assert report.kept == len(expected)
    # the sources' own counts: 77 of kgtk's 100 lines are English-English (kgtk's test says so)
    kgtk = (require_shared("conceptnet", "assertions") / "kgtk_tests_conceptnet_5.7.0_sample.csv").read_bytes()
    assert len(reference_filter(kgtk)) == 77
    assert report.lines == raw.count(b"\n")
    assert report.malformed == GENERATED_MALFORMED
    assert report.duplicates == 2
    assert report.lines == report.kept + report.duplicates + report.malformed + report.other_language
    assert report.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    with Store(tmp_path / "cn.sqlite", readonly=True) as st:
        assert st.is_covered("/c/en/anything")  # an English dump covers every English concept
        assert not st.is_covered("/c/fr/chat")
        assert st.stats()["dumps"][0]["kept"] == len(expected)


def test_plain_multimember_and_other_languages(tmp_path: Path) -> None:
    raw = _real_lines() + GENERATED
    half = raw.index(b"\n", len(raw) // 2) + 1
    (tmp_path / "a.csv").write_bytes(raw)
    (tmp_path / "b.csv.gz").write_bytes(gzip.compress(raw[:half]) + gzip.compress(raw[half:]))
    ingest_dump(tmp_path / "a.csv", tmp_path / "a.sqlite")
    ingest_dump(tmp_path / "b.csv.gz", tmp_path / "b.sqlite")
    assert _read_store(tmp_path / "a.sqlite") == _read_store(tmp_path / "b.sqlite") == reference_filter(raw)
    report = ingest_dump(tmp_path / "a.csv", tmp_path / "ja.sqlite", langs=["ja"])
    assert _read_store(tmp_path / "ja.sqlite") == reference_filter(raw, "ja")
    assert report.kept == len(reference_filter(raw, "ja")) > 0


def test_line_blocks_across_boundaries(tmp_path: Path) -> None:
    raw = GENERATED * 6000 + b"last line without newline"  # ~8 MB: several 1 MiB reads, lines cut between them
    plain = tmp_path / "x.csv"
    plain.write_bytes(raw)
    blocks = [b for b, _ in iter_line_blocks(plain, block=100_000)]
    assert all(b.endswith(b"\n") for b in blocks) and len(blocks) > 8
    assert b"".join(blocks) == raw + b"\n"
    packed = tmp_path / "x.gz"
    packed.write_bytes(gzip.compress(raw))
    assert b"".join(b for b, _ in iter_line_blocks(packed, block=100_000)) == raw + b"\n"


def _store_with_api_edges(path: Path) -> None:
    with Store(path) as st:
        st.record_page("/c/en/zebra", [edge_row("/a/[/r/AtLocation/,/c/en/zebra/,/c/en/zoo/]", "/r/AtLocation",
                                                "/c/en/zebra", "/c/en/zoo", 4.0)], None)


def test_truncated_gzip_leaves_store_untouched(tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    _store_with_api_edges(store)
    before = hashlib.sha256(store.read_bytes()).hexdigest()
    data = gzip.compress((_real_lines() + GENERATED) * 20)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DataError, match=rf"cut\.csv\.gz: gzip data ends early at byte {cut.stat().st_size:,}"):
        ingest_dump(cut, store)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "ingest" in p.name) == []  # no temporary file left
    corrupt = bytearray(data)
    corrupt[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(bytes(corrupt))
    with pytest.raises(DataError, match=r"bad\.csv\.gz: corrupt gzip data near byte"):
        ingest_dump(bad, store)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before


def test_ingest_replaces_store_and_keeps_api_edges(tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    _store_with_api_edges(store)
    raw = _real_lines() + GENERATED
    src = tmp_path / "d.csv"
    src.write_bytes(raw)
    report = ingest_dump(src, store)
    got = _read_store(store)
    assert report.carried_over == 1
    assert got["/a/[/r/AtLocation/,/c/en/zebra/,/c/en/zoo/]"][-1] == 4.0
    assert len(got) == len(reference_filter(raw)) + 1
    with Store(store, readonly=True) as st:
        assert st.fetch_state("/c/en/zebra").complete
        conn = sqlite3.connect(store)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    # a second ingest of a smaller dump drops the first dump's edges, keeps the API ones
    src.write_bytes(GENERATED)
    ingest_dump(src, store)
    assert len(_read_store(store)) == len(reference_filter(GENERATED)) + 1


def test_refuses_foreign_store_before_reading(tmp_path: Path) -> None:
    store = tmp_path / "cn.sqlite"
    store.write_text("not a database")
    src = tmp_path / "d.csv"
    src.write_bytes(GENERATED)
    with pytest.raises(DataError, match="not an SQLite file"):
        ingest_dump(src, store)
    assert store.read_text() == "not a database"
    with pytest.raises(DataError, match="no such dump file"):
        ingest_dump(tmp_path / "missing.csv.gz", tmp_path / "x.sqlite")


def test_standard_zlib_gives_the_same_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the optional isal package the standard zlib inflates: same edges, same errors."""
    import zlib

    from labelgraph import files

    monkeypatch.setattr(files, "inflate_module", lambda: zlib)
    raw = _real_lines() + GENERATED
    src = tmp_path / "a.csv.gz"
    src.write_bytes(gzip.compress(raw[: len(raw) // 2]) + gzip.compress(raw[len(raw) // 2:]))
    ingest_dump(src, tmp_path / "cn.sqlite")
    assert _read_store(tmp_path / "cn.sqlite") == reference_filter(raw)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(raw)[:-100])
    with pytest.raises(DataError, match=rf"gzip data ends early at byte {cut.stat().st_size:,}"):
        ingest_dump(cut, tmp_path / "cn.sqlite")
