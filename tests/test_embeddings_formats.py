"""Every vector format gives the same matrix; OOV policies and seeds; named sources through a loopback server.

The files are made here from the first 3,000 rows of the real GloVe 6B 50-d file;
the binary and KeyedVectors files are written by gensim itself.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import itertools
import os
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph import download
from labelgraph.embeddings import embed_artifact, label_vectors
from labelgraph.errors import ConfigError, DataError
from labelgraph_cli.main import cli
from tests.conftest import require_shared

LABELS = ["person", "car", "stop sign", "sports ball", "traffic light", "tv", "cup", "book", "hot dog"]
N_ROWS = 3000


@pytest.fixture(scope="module")
def subset():
    """The first 3,000 lines of the real file: raw text lines, words, float32 rows (parsed with float())."""
    path = require_shared("glove", "glove.6B.50d.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in itertools.islice(f, N_ROWS)]
    words = [line.split(" ", 1)[0] for line in lines]
    rows = np.array([[float(x) for x in line.split(" ")[1:]] for line in lines], dtype=np.float32)
    return {"lines": lines, "words": words, "rows": rows}


def expected(subset) -> np.ndarray:
    """SPEC §3 by hand: a single word is its row, a two-word label the float64 mean of its tokens' rows."""
    index = {w: i for i, w in enumerate(subset["words"])}
    out = []
    for label in LABELS:
        tokens = label.split(" ")
        out.append(np.mean([subset["rows"][index[t]].astype(np.float64) for t in tokens], axis=0))
    return np.array(out, dtype=np.float32)


@pytest.fixture(scope="module")
def files(subset, tmp_path_factory):
    from gensim.models import KeyedVectors

    d = tmp_path_factory.mktemp("formats")
    text = "\n".join(subset["lines"]) + "\n"
    (d / "v.txt").write_text(text, encoding="utf-8")
    (d / "v.txt.gz").write_bytes(gzip.compress(text.encode()))
    with zipfile.ZipFile(d / "v.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt.md", "GloVe subset")
        z.writestr("glove.subset.50d.txt", text)
    (d / "v.w2v.txt").write_text(f"{N_ROWS} 50\n" + text, encoding="utf-8")
    nb = "".join(f"/c/en/{line}\n" for line in subset["lines"])
    (d / "numberbatch.txt").write_text(f"{N_ROWS} 50\n" + nb, encoding="utf-8")
    kv = KeyedVectors(vector_size=50)
    kv.add_vectors(subset["words"], subset["rows"])
    kv.save_word2vec_format(str(d / "v.bin"), binary=True)
    kv.save(str(d / "v.kv"))
    # the original C tool's layout: a newline after every vector
    c_style = f"{N_ROWS} 50\n".encode() + b"".join(
        w.encode() + b" " + r.astype("<f4").tobytes() + b"\n" for w, r in zip(subset["words"], subset["rows"]))
    (d / "c.bin").write_bytes(c_style)
    return d


@pytest.mark.parametrize("name, fmt", [
    ("v.txt", "glove"), ("v.txt.gz", "glove"), ("v.zip", "glove"), ("v.w2v.txt", "word2vec"),
    ("numberbatch.txt", "numberbatch"), ("v.bin", "word2vec-binary"), ("c.bin", "word2vec-binary"),
    ("v.kv", "gensim"),
])
def test_every_format_gives_the_same_matrix(files, subset, name, fmt):
    vectors, report = label_vectors(LABELS, files / name)
    assert report.format == fmt  # detected
    np.testing.assert_array_equal(vectors, expected(subset))
    assert vectors.dtype == np.float32 and vectors.shape == (len(LABELS), 50)
    forced, _ = label_vectors(LABELS, files / name, format=fmt)
    np.testing.assert_array_equal(forced, vectors)


def test_gensim_is_never_imported(files):
    code = ("import sys, labelgraph, labelgraph.embeddings as e\n"
            f"e.label_vectors(['tv'], {str(files / 'v.kv')!r}); e.label_vectors(['tv'], {str(files / 'v.bin')!r})\n"
            "print('gensim' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_scan_stops_when_every_label_key_is_seen(files):
    _, report = label_vectors(["the", "tv"], files / "v.txt")
    assert report.stopped_early and report.lines_scanned == subset_index(files, "tv") + 1
    _, report = label_vectors(["tv"], files / "v.bin")
    assert report.stopped_early and report.lines_scanned == subset_index(files, "tv") + 1


def subset_index(files: Path, word: str) -> int:
    return [line.split(" ", 1)[0] for line in (files / "v.txt").read_text().splitlines()].index(word)


def test_glove_840b_keys_with_spaces(tmp_path):
    text = ("the 1 2 3\n"
            ". . . 4 5 6\n"            # a key made of dots and spaces
            "hot dog 7 8 9\n"          # a key with a space whose first token is a wanted word
            "hot 1 1 1\n"
            "dog 3 3 3\n")
    p = tmp_path / "glove.840B.sample.txt"
    p.write_text(text)
    vectors, report = label_vectors(["hot dog", "dog"], p)
    np.testing.assert_array_equal(vectors, np.array([[2, 2, 2], [3, 3, 3]], np.float32))
    assert report.labels[0].lines == (4, 5)


def test_oov_policies_and_seed(files, subset):
    labels = ["person", "qwzxv", "car", "blorpt gnarf"]
    with pytest.raises(DataError, match=r"no vector for 2 label\(s\): 'qwzxv', 'blorpt gnarf'"):
        label_vectors(labels, files / "v.txt")
    zeros, report = label_vectors(labels, files / "v.txt", oov="zeros")
    assert not zeros[1].any() and not zeros[3].any()
    assert report.oov_labels == ["qwzxv", "blorpt gnarf"] and report.labels[3].tokens_missing == ("blorpt", "gnarf")
    a, _ = label_vectors(labels, files / "v.txt", oov="random", seed=7)
    b, _ = label_vectors(labels, files / "v.txt", oov="random", seed=7)
    c, _ = label_vectors(labels, files / "v.txt", oov="random", seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[1], c[1])
    # the documented draw: standard normal from default_rng([seed, crc32(label)]), scaled to the mean found norm
    v = np.random.default_rng([7, zlib.crc32(b"qwzxv")]).standard_normal(50)
    scale = np.mean(np.linalg.norm(zeros[[0, 2]].astype(np.float64), axis=1))
    np.testing.assert_allclose(a[1], v / np.linalg.norm(v) * scale, rtol=1e-6)
    # a label's random vector does not depend on the other labels
    d, _ = label_vectors(["car", "person", "qwzxv"], files / "v.txt", oov="random", seed=7)
    np.testing.assert_array_equal(d[2], a[1])
    np.testing.assert_array_equal(a[[0, 2]], zeros[[0, 2]])


def test_cli_seed_reproducible(files, tmp_path):
    (tmp_path / "labels.txt").write_text("person\nqwzxv\n")
    outs = []
    for k, seed in enumerate(["3", "3", "4"]):
        res = CliRunner().invoke(cli, ["embed", "--labels", str(tmp_path / "labels.txt"), "--vectors",
                                       str(files / "v.txt"), "--oov", "random", "--seed", seed,
                                       "--out", str(tmp_path / f"o{k}")])
        assert res.exit_code == 0, res.output
        outs.append(labelgraph.load(tmp_path / f"o{k}" / "labels_v.npz"))
    np.testing.assert_array_equal(outs[0].vectors, outs[1].vectors)
    assert outs[0].content_hash == outs[1].content_hash
    assert not np.array_equal(outs[0].vectors, outs[2].vectors)
    assert outs[0].meta["seed"] == 3 and outs[0].meta["oov"] == "random"


def test_zip_member_choice(files, subset, tmp_path):
    z = tmp_path / "glove.6B.zip"
    text = "\n".join(subset["lines"][:100]) + "\n"
    with zipfile.ZipFile(z, "w") as archive:
        archive.writestr("glove.6B.50d.txt", text)
        archive.writestr("glove.6B.100d.txt", "the " + " ".join(["0.5"] * 100) + "\n")
    with pytest.raises(ConfigError, match="2 vector members, choose one with --member"):
        label_vectors(["the"], z)
    v50, r = label_vectors(["the"], z, member="glove.6B.50d.txt")
    assert v50.shape == (1, 50) and r.source.endswith("glove.6B.zip:glove.6B.50d.txt")
    v100, _ = label_vectors(["the"], z, member="glove.6B.100d.txt")
    assert v100.shape == (1, 100) and np.all(v100 == 0.5)


def test_embed_artifact_meta(files, subset):
    art = embed_artifact(LABELS, files / "v.txt.gz")
    fp = art.meta["source"]["fingerprint"]
    assert fp == {"method": "sha256", "size": (files / "v.txt.gz").stat().st_size,
                  "sha256": hashlib.sha256((files / "v.txt.gz").read_bytes()).hexdigest()}
    assert art.meta["format"] == "glove" and art.meta["dimension"] == 50
    rows = art.meta["report"]["labels"]
    assert [r["label"] for r in rows] == LABELS
    assert rows[LABELS.index("stop sign")]["tokens_found"] == ["stop", "sign"]
    np.testing.assert_array_equal(art.vectors, expected(subset))


# -- known names through a loopback mirror ---------------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        _Handler.hits.append(self.path)
        super().do_GET()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Handler.hits = []
    monkeypatch.setenv("LABELGRAPH_DOWNLOAD_BASE", f"http://127.0.0.1:{server.server_port}")
    yield root
    server.shutdown()
    server.server_close()


def test_named_numberbatch_download_then_cache(mirror, subset, tmp_path):
    # Numberbatch is 300-d: each 50-d row written six times over
    body = f"{N_ROWS} 300\n" + "".join(
        line.split(" ", 1)[0] + (" " + line.split(" ", 1)[1]) * 6 + "\n" for line in subset["lines"])
    (mirror / "numberbatch-en-19.08.txt.gz").write_bytes(gzip.compress(body.encode()))
    vectors, report = label_vectors(LABELS, "numberbatch-en-19.08")
    np.testing.assert_array_equal(vectors, np.tile(expected(subset), 6))
    assert report.format == "numberbatch" and _Handler.hits == ["/numberbatch-en-19.08.txt.gz"]
    (tmp_path / "labels.txt").write_text("person\ncar\n")
    res = CliRunner().invoke(cli, ["embed", "--labels", str(tmp_path / "labels.txt"), "--vectors",
                                   "numberbatch-en-19.08", "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    assert len(_Handler.hits) == 1  # served from the cache the second time
    art = labelgraph.load(tmp_path / "out" / "labels_numberbatch-en-19.08.npz")
    assert art.meta["source"]["name"] == "numberbatch-en-19.08"


def test_named_glove_6b_reads_its_zip_member(mirror, subset, monkeypatch):
    text = "\n".join(subset["lines"]) + "\n"
    z = mirror / "glove.6B.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("glove.6B.50d.txt", text)
        archive.writestr("glove.6B.300d.txt", "the " + " ".join(["1"] * 300) + "\n")
    real = download.SOURCES["glove.6B"]
    # the registry entry with this test archive's checksum: the real one publishes the real zip's sha1
    monkeypatch.setitem(download.SOURCES, "glove.6B", download.Source(
        real.name, real.url, real.filename, "sha256:" + hashlib.sha256(z.read_bytes()).hexdigest(),
        z.stat().st_size, real.licence, real.description))
    vectors, report = label_vectors(LABELS, "glove.6B.50d")
    np.testing.assert_array_equal(vectors, expected(subset))
    assert report.source.endswith("glove.6B.zip:glove.6B.50d.txt")
    v300, _ = label_vectors(["the"], "glove.6B.300d")
    assert v300.shape == (1, 300)


def test_named_source_checksum_is_enforced(mirror, tmp_path):
    with zipfile.ZipFile(mirror / "glove.6B.zip", "w") as archive:
        archive.writestr("glove.6B.50d.txt", "the 1 2\n")
    (tmp_path / "labels.txt").write_text("the\n")
    res = CliRunner().invoke(cli, ["embed", "--labels", str(tmp_path / "labels.txt"), "--vectors", "glove.6B.50d",
                                   "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code != 0 and "glove.6B.zip" in res.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unknown_name_is_one_line(tmp_path):
    with pytest.raises(DataError, match="not a known vector name"):
        label_vectors(["cat"], tmp_path / "nope.txt")
    assert os.environ.get("LABELGRAPH_HOME")  # the autouse fixture isolates the cache
