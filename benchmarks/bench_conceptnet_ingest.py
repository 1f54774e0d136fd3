"""ConceptNet dump ingest: labelgraph's streaming ingester vs the obvious way, and vs ``zcat | wc -l``.

Claim checked (issue 4): on a >= 1 GB gzip file in the exact format of
``conceptnet-assertions-5.7.0.csv.gz`` the ingester is >= 10x faster (lines/s) than
the obvious way — ``csv.reader`` over ``gzip.open(..., "rt")``, ``json.loads`` on every
line, one ``INSERT`` per kept row (into the same schema, one transaction) — and within
3x of ``zcat FILE | wc -l``, the floor (decompress and count lines, nothing else).

The input is generated (the real dump is 475 MB gzip / ~10 GB of text and not
available here): lines are built like the real ones — assertion URI
``/a/[/r/Rel/,start/,end/]``, relation, start, end, a sorted-key JSON object with
dataset, licence, sources, weight, sometimes surfaceText — over a vocabulary of
pseudo-words in 12 languages, with the English share of the 5.7.0 dump (about 10%
of lines English at both ends, ~25% with one English end).  Pseudo-words compress
less than real text, so 1 GB of gzip holds fewer lines than the real dump's 1 GB
would.  It is written once under ``benchmarks/_work/`` through ``gzip -1`` and
deleted at the end (``--keep`` keeps it).  The obvious way runs on the first
``--baseline-lines`` lines only (default 2,000,000) and is compared in lines/s.

Run from the project root::

    .venv/bin/python benchmarks/bench_conceptnet_ingest.py            # >= 1 GB file
    .venv/bin/python benchmarks/bench_conceptnet_ingest.py --gb 0.1   # a quick look

The last line printed is a JSON object with every figure.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from labelgraph.conceptnet import ingest_dump  # noqa: E402
from labelgraph.conceptnet.store import EDGE_COLUMNS, create_schema  # noqa: E402

WORK = ROOT / "benchmarks" / "_work"
LANGS = ["en", "fr", "ja", "de", "it", "zh", "ru", "es", "pt", "fi", "nl", "pl"]
RELS = ["RelatedTo", "Synonym", "FormOf", "IsA", "DerivedFrom", "HasContext", "AtLocation", "UsedFor",
        "CapableOf", "Antonym", "EtymologicallyRelatedTo", "PartOf", "HasA", "SimilarTo"]
INFOS = [
    '{"dataset": "/d/wiktionary/%s", "license": "cc:by-sa/4.0", "sources": [{"contributor": '
    '"/s/resource/wiktionary/%s", "process": "/s/process/wikiparsec/2"}], "weight": %s}',
    '{"dataset": "/d/conceptnet/4/%s", "license": "cc:by/4.0", "sources": [{"activity": '
    '"/s/activity/omcs/omcs1_possibly_free_text", "contributor": "/s/contributor/omcs/user%s"}], '
    '"surfaceStart": "%s", "surfaceText": "[[%s]] is related to [[%s]]", "weight": %s}',
    '{"dataset": "/d/wordnet/3.1", "license": "cc:by-sa/4.0", "sources": [{"contributor": '
    '"/s/resource/wordnet/rdf/3.1"}], "weight": %s}',
]
SYLLABLES = [a + b for a in "bcdfghjklmnprstvwz" for b in ["a", "e", "i", "o", "u", "ai", "ou", "ie"]]


def _vocabulary(rng: np.random.Generator, n: int) -> list[str]:
    parts = rng.integers(0, len(SYLLABLES), size=(n, 4))
    lengths = rng.integers(1, 5, size=n)
    words = ["".join(SYLLABLES[p] for p in row[:k]) for row, k in zip(parts, lengths)]
    return [w + ("_" + words[(i * 7919) % n] if i % 9 == 0 else "") for i, w in enumerate(words)]


def generate(path: Path, target_bytes: int, seed: int = 0) -> dict:
    """Write dump-format lines through ``gzip -1`` until the compressed file reaches ``target_bytes``."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng, 400_000)
    weights = ["1.0", "2.0", "0.5", "1.0", "1.0", "3.4641016151377544", "2.828", "0.1"]
    # language pairs: ~10% en-en, ~25% with one English end (the 5.7.0 dump's mix, roughly)
    lang_p = np.array([0.0] + [1.0] * (len(LANGS) - 1))
    lang_p /= lang_p.sum()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    proc = subprocess.Popen(f"gzip -1 > '{tmp}'", shell=True, stdin=subprocess.PIPE)
    lines = 0
    batch = 200_000
    t0 = time.perf_counter()
    while True:
        kind = rng.random(batch)
        s_lang = np.where(kind < 0.35, 0, rng.choice(len(LANGS), size=batch, p=lang_p))
        e_lang = np.where(kind < 0.10, 0, np.where(kind < 0.35, rng.choice(len(LANGS), size=batch, p=lang_p),
                                                   rng.integers(0, len(LANGS), size=batch)))
        s_word = rng.integers(0, len(vocab), size=batch).tolist()
        e_word = rng.integers(0, len(vocab), size=batch).tolist()
        rel = rng.integers(0, len(RELS), size=batch).tolist()
        info = rng.integers(0, len(INFOS), size=batch).tolist()
        sense = (rng.random(batch) < 0.3).tolist()
        wts = rng.integers(0, len(weights), size=batch).tolist()
        out = []
        for k, (sl, el, sw, ew, r, i, sn, w) in enumerate(zip(s_lang.tolist(), e_lang.tolist(), s_word, e_word,
                                                               rel, info, sense, wts)):
            sl, el, sw, ew, r, w = LANGS[sl], LANGS[el], vocab[sw], vocab[ew], RELS[r], weights[w]
            start = f"/c/{sl}/{sw}/n" if sn else f"/c/{sl}/{sw}"
            end = f"/c/{el}/{ew}"
            if i == 0:
                js = INFOS[0] % (sl, sl, w)
            elif i == 1:
                js = INFOS[1] % (sl, lines + k, sw, sw, ew, w)
            else:
                js = INFOS[2] % w
            out.append(f"/a/[/r/{r}/,{start}/,{end}/]\t/r/{r}\t{start}\t{end}\t{js}\n")
        proc.stdin.write("".join(out).encode())
        lines += batch
        if lines % 2_000_000 == 0 and tmp.exists() and tmp.stat().st_size >= target_bytes:
            break
    proc.stdin.close()
    proc.wait()
    os.replace(tmp, path)
    return {"lines": lines, "bytes": path.stat().st_size, "seconds": time.perf_counter() - t0}


def floor(path: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    out = subprocess.run(f"zcat '{path}' | wc -l", shell=True, check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0]), time.perf_counter() - t0


def obvious(path: Path, db: Path, max_lines: int) -> tuple[int, int, float]:
    """csv.reader + json.loads per line + one INSERT per row, on the first ``max_lines`` lines."""
    if db.exists():
        db.unlink()
    conn = sqlite3.connect(db)
    create_schema(conn)
    sql = f"INSERT OR IGNORE INTO edges ({', '.join(EDGE_COLUMNS)}) VALUES ({', '.join('?' * len(EDGE_COLUMNS))})"
    t0 = time.perf_counter()
    n = kept = 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            n += 1
            info = json.loads(row[4])
            if row[2].startswith("/c/en/") and row[3].startswith("/c/en/"):
                start, end = row[2], row[3]
                conn.execute(sql, (row[0], row[1][3:], start, end, "/".join(start.split("/")[:4]),
                                   "/".join(end.split("/")[:4]), float(info["weight"]), info.get("dataset"),
                                   info.get("license"), info.get("surfaceText"), json.dumps(info.get("sources"))))
                kept += 1
            if n >= max_lines:
                break
    conn.commit()
    conn.close()
    return n, kept, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=1.0, help="gzip size to generate, GB (10^9 bytes)")
    parser.add_argument("--baseline-lines", type=int, default=2_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    src = WORK / f"conceptnet-assertions-bench-{args.gb:g}gb.csv.gz"
    gen = None
    if not src.exists():
        gen = generate(src, int(args.gb * 1e9))
        print(f"generated {src.name}: {gen['lines']:,} lines, {gen['bytes'] / 1e9:.2f} GB gzip "
              f"in {gen['seconds']:.0f}s")
    size = src.stat().st_size
    store = WORK / "bench-conceptnet.sqlite"
    base_db = WORK / "bench-conceptnet-obvious.sqlite"
    try:
        n_floor, t_floor = floor(src)
        print(f"zcat | wc -l     : {n_floor:,} lines in {t_floor:.1f}s = {n_floor / t_floor:,.0f} lines/s, "
              f"{size / t_floor / 1e6:.0f} MB/s of gzip")
        report = ingest_dump(src, store)
        t_ours = report.seconds
        print(f"labelgraph ingest: {report.lines:,} lines in {t_ours:.1f}s = {report.lines / t_ours:,.0f} lines/s, "
              f"{size / t_ours / 1e6:.0f} MB/s of gzip; {report.kept:,} English edges kept")
        n_base, kept_base, t_base = obvious(src, base_db, args.baseline_lines)
        print(f"obvious way      : {n_base:,} lines (prefix) in {t_base:.1f}s = {n_base / t_base:,.0f} lines/s; "
              f"{kept_base:,} kept")
        speedup = (report.lines / t_ours) / (n_base / t_base)
        to_floor = t_ours / t_floor
        print(f"ratios           : {speedup:.1f}x the obvious way (target >= 10x); "
              f"{to_floor:.2f}x the zcat|wc floor (target <= 3x)")
        assert n_floor == report.lines, (n_floor, report.lines)
        result = {
            "file_bytes": size, "lines": report.lines, "kept": report.kept, "duplicates": report.duplicates,
            "other_language": report.other_language, "malformed": report.malformed,
            "floor_s": t_floor, "ours_s": t_ours, "baseline_lines": n_base, "baseline_s": t_base,
            "ours_lines_per_s": report.lines / t_ours, "baseline_lines_per_s": n_base / t_base,
            "floor_lines_per_s": n_floor / t_floor, "ours_mb_per_s": size / t_ours / 1e6,
            "floor_mb_per_s": size / t_floor / 1e6, "speedup_vs_obvious": speedup, "ratio_to_floor": to_floor,
            "store_bytes": store.stat().st_size, "generated": gen,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        }
    finally:
        for leftover in (store, base_db) + (() if args.keep else (src,)):
            if leftover.exists() and (not args.keep or leftover.stat().st_size > 100e6):
                leftover.unlink()
        for wal in WORK.glob("bench-conceptnet*.sqlite-*"):
            wal.unlink()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
