"""Hostile files made in the test: pickle bombs, gensim files with odd keys, archive names, huge or binary CSV.

Each is refused with one :class:`DataError` naming the file (and line or member), or read
correctly, in bounded time and memory; nothing is extracted outside its folder.
"""
from __future__ import annotations

import gzip
import io
import pickle
import re
import resource
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from labelgraph._pickle import MAX_DEPTH, restricted_load, restricted_loads
from labelgraph.datasets.user import read_csv, read_jsonl, read_labelmatrix
from labelgraph.datasets._common import MAX_LABEL_CHARS, read_label_list
from labelgraph.download import extract
from labelgraph.embeddings.binary import read_keyed_vectors
from labelgraph.embeddings.formats import open_vectors
from labelgraph.errors import DataError
from labelgraph_cli.main import cli

from tests.conftest import require_shared


# -- pickles --------------------------------------------------------------------------------------------------

def laughs(depth: int, width: int) -> bytes:
    """A protocol-2 pickle: level k is a list of ``width`` references to level k-1 (memo entry k-1)."""
    out = bytearray(b"\x80\x02]q\x00")  # level 0: an empty list, memo 0
    for level in range(1, depth + 1):
        out += b"]q" + bytes([level]) + b"(" + (b"h" + bytes([level - 1])) * width + b"e"
    return bytes(out + b".")


def test_laughs_pickle_builds_what_it_claims():
    # the bomb is real: the plain unpickler returns a structure of width**depth leaves
    small = pickle.loads(laughs(3, 4))
    assert len(small) == 4 and len(small[0]) == 4 and len(small[0][0]) == 4 and small[0][0][0] == []
    assert small[0] is small[1]


@pytest.mark.parametrize("depth, width, why", [
    (30, 2, f"deeper than {MAX_DEPTH} levels"),  # 2**30 lists, 300 bytes
    (8, 30, "more than 100,000 elements"),       # 30**8 = 6.6e11 lists, 500 bytes
    (18, 10, "more than 100,000 elements"),      # 10**18
])
def test_billion_laughs_pickle_is_refused_fast_and_small(tmp_path, depth, width, why):
    p = tmp_path / "laughs.pkl"
    p.write_bytes(laughs(depth, width))
    assert p.stat().st_size < 600
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=rf"^{p}: pickle .*{why}"):
        restricted_load(p)
    assert time.perf_counter() - t0 < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 50_000  # KiB: under 50 MB


def test_self_containing_list_is_refused():
    data = pickle.dumps((lambda x: (x.append(x), x)[1])([]), protocol=2)
    with pytest.raises(DataError, match="contains itself"):
        restricted_loads(data, name="cycle.pkl")


def test_huge_memo_index_costs_nothing():
    # a 10-byte pickle that PUTs memo index 2**31: the C unpickler would allocate a 16 GiB memo table
    data = b"\x80\x02N" + b"r" + struct.pack("<I", 2 ** 31) + b"."
    t0 = time.perf_counter()
    assert restricted_loads(data) is None
    assert time.perf_counter() - t0 < 1.0


def test_array_declaring_more_bytes_than_the_pickle_is_refused():
    data = pickle.dumps(np.zeros(3), protocol=2)
    bomb = data.replace(b"K\x00\x85", b"J\x00\x00\x00\x40\x85", 1)  # _reconstruct shape (0,) -> (2**30,)
    assert bomb != data
    with pytest.raises(DataError, match=r"bomb.pkl: refused a 1,073,741,824-byte array"):
        restricted_loads(bomb, name="bomb.pkl")


def test_ndarray_called_directly_is_refused():
    # REDUCE numpy.ndarray((2**40,)) would allocate a terabyte; the class itself is never handed out
    data = b"\x80\x02cnumpy\nndarray\n\x8a\x06\x00\x00\x00\x00\x00\x01\x85\x85R."
    with pytest.raises(DataError, match="direct.pkl"):
        restricted_loads(data, name="direct.pkl")


@pytest.mark.parametrize("name", ["coco_glove_word2vec.pkl", "voc_glove_word2vec.pkl", "coco_adj.pkl",
                                  "voc_adj.pkl"])
def test_mlgcn_pickles_pass_the_limits(name):
    path = require_shared("mlgcn", name)
    value = restricted_load(path)
    with open(path, "rb") as handle:
        expected = pickle.load(handle, encoding="latin1")  # ML-GCN's published files, read for comparison
    if isinstance(expected, dict):
        assert set(value) == set(expected)
        for key in expected:
            np.testing.assert_array_equal(value[key], expected[key])
    else:
        np.testing.assert_array_equal(value, expected)


def _gensim_file(tmp_path: Path, keys: list) -> Path:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(keys, np.arange(2 * len(keys), dtype=np.float32).reshape(-1, 2))
    path = tmp_path / "v.kv"
    kv.save(str(path))
    return path


def test_gensim_file_with_many_keys_passes_the_limits(tmp_path):
    keys = [f"w{i}" for i in range(50_000)]
    path = _gensim_file(tmp_path, keys)
    res = read_keyed_vectors(open_vectors(path), {"w49999", "w0"})
    assert res.vectors["w49999"].tolist() == [99998.0, 99999.0]
    assert res.vectors["w0"].tolist() == [0.0, 1.0]


@pytest.mark.parametrize("bad_key, shown", [(7, "int: 7"), (b"raw", "bytes: b'raw'"), ((1, 2), "tuple: (1, 2)")])
def test_gensim_file_with_a_key_that_is_not_a_string(tmp_path, bad_key, shown):
    # gensim itself accepts any hashable key and saves it; labelgraph looks labels up by string
    path = _gensim_file(tmp_path, ["cat", bad_key])
    with pytest.raises(DataError, match=rf"^{path}: key 2 of index_to_key is not a string \({re.escape(shown)}\)$"):
        read_keyed_vectors(open_vectors(path), {"cat"})


# -- archives -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("member", ["../../escaped.txt", "/abs/escaped.txt"])
def test_vector_zip_member_with_dotdot_or_absolute_name_is_read_in_place(tmp_path, member):
    archive = tmp_path / "a" / "b" / "v.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(member, "cat 1 2\n")
    vf = open_vectors(archive)
    assert vf.member == member and vf.name == f"{archive}:{member}"
    assert b"".join(vf.blocks()) == b"cat 1 2\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "v.zip"]


def test_vector_zip_with_a_name_twice_is_refused(tmp_path):
    archive = tmp_path / "v.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("v.txt", "cat 1 2\n")
            z.writestr("v.txt", "cat 9 9\n")
    with pytest.raises(DataError, match=rf"{archive}: member 'v.txt' appears twice"):
        open_vectors(archive)


@pytest.mark.parametrize("names", [["data", "data/inner.json"], ["data/", "data"]])
def test_extracting_a_zip_with_a_file_and_a_folder_of_one_name(tmp_path, names):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for n in names:
            z.writestr(n, "" if n.endswith("/") else "{}")
    with pytest.raises(DataError, match=rf"{archive}: member 'data' is both a file and a folder"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["a.zip"]


def _tar(path: Path, members: list[tarfile.TarInfo], data: bytes = b"x") -> None:
    with tarfile.open(path, "w:gz") as tf:
        for info in members:
            tf.addfile(info, io.BytesIO(data) if info.isfile() else None)


def test_tar_link_escaping_through_another_link_is_refused(tmp_path):
    # 'a' -> '.', then 'b' -> 'a/..' (inside by name, outside once 'a' is followed), then a file through 'b'
    a = tarfile.TarInfo("a")
    a.type, a.linkname = tarfile.SYMTYPE, "."
    b = tarfile.TarInfo("b")
    b.type, b.linkname = tarfile.SYMTYPE, "a/.."
    f = tarfile.TarInfo("b/escaped.txt")
    f.size = 1
    archive = tmp_path / "x.tar.gz"
    _tar(archive, [a, b, f])
    with pytest.raises(DataError, match=str(archive)):
        extract(archive, tmp_path / "deep" / "out")
    assert not (tmp_path / "deep" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()


def test_tar_with_a_file_and_a_folder_of_one_name(tmp_path):
    f = tarfile.TarInfo("data")
    f.size = 1
    g = tarfile.TarInfo("data/x.json")
    g.size = 1
    archive = tmp_path / "x.tar.gz"
    _tar(archive, [f, g])
    with pytest.raises(DataError, match=rf"{archive}: member 'data' is both a file and a folder"):
        extract(archive, tmp_path / "out")


# -- CSV, JSON lines, label lists ---------------------------------------------------------------------------

def test_csv_megabyte_line_of_short_labels_works(tmp_path):
    labels = [f"l{i}" for i in range(200_000)]  # a 1.4 MB cell, ten times csv's default field limit
    p = tmp_path / "wide.csv"
    p.write_text("sample,labels\nimg1," + ";".join(labels) + "\nimg2,l5\n")
    ls = read_csv(p)
    assert len(ls.labels) == 200_000 and ls.labels == tuple(sorted(labels))
    assert ls.Y.sum() == 200_001 and ls.Y[1].nonzero()[1].tolist() == [sorted(labels).index("l5")]


def test_csv_megabyte_label_is_an_error_naming_the_line(tmp_path):
    p = tmp_path / "huge.csv"
    p.write_text("sample,labels\nimg1,cat\nimg2," + "x" * 2_000_000 + "\n")
    with pytest.raises(DataError, match=rf"^{p}:3: a label of 2,000,000 characters \(at most 4,096\)") as err:
        read_csv(p)
    assert len(str(err.value)) < 400


def test_label_at_the_limit_is_accepted(tmp_path):
    p = tmp_path / "edge.csv"
    p.write_text("sample,labels\nimg1," + "y" * MAX_LABEL_CHARS + "\n")
    assert read_csv(p).labels == ("y" * MAX_LABEL_CHARS,)


def test_non_utf8_csv_names_line_and_byte(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes("sample,labels\nimg1,cat\nimg2,café\n".encode("latin-1"))
    with pytest.raises(DataError, match=rf"^{p}:3: not UTF-8 text \(byte 0xe9 at column 9\)"):
        read_csv(p)


@pytest.mark.parametrize("reader", [read_csv, read_jsonl])
@pytest.mark.parametrize("magic, kind", [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
                                         (gzip.compress(b"sample,labels\nimg1,cat\n"), "a gzip-compressed file")])
def test_binary_file_given_as_csv_or_jsonl(tmp_path, reader, magic, kind):
    p = tmp_path / "data.txt"
    p.write_bytes(magic)
    with pytest.raises(DataError, match=rf"^{p}:1: {kind}, not a"):
        reader(p)


def test_nul_bytes_in_csv_name_the_line(tmp_path):
    p = tmp_path / "nul.csv"
    p.write_bytes(b"sample,labels\nimg1,c\x00t\n")
    with pytest.raises(DataError, match=rf"^{p}:2: a NUL byte at column 7"):
        read_csv(p)


def test_jsonl_garbage_and_huge_label(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"id": "a", "labels": ["cat"]}\n\xff\xfe\x00garbage\n')
    with pytest.raises(DataError, match=rf"^{p}:2: invalid JSON"):
        read_jsonl(p)
    p.write_text('{"id": "a", "labels": ["cat"]}\n{"id": "b", "labels": ["' + "z" * 5000 + '"]}\n')
    with pytest.raises(DataError, match=rf"^{p}:2: a label of 5,000 characters"):
        read_jsonl(p)
    many = [f"t{i}" for i in range(100_000)]
    p.write_text('{"id": "a", "labels": ' + str(many).replace("'", '"') + "}\n")
    assert len(read_jsonl(p).labels) == 100_000


def test_label_list_file_problems_name_the_line(tmp_path):
    p = tmp_path / "labels.txt"
    p.write_bytes("cat\ndog\ncafé\n".encode("latin-1"))
    with pytest.raises(DataError, match=rf"^{p}:3: not UTF-8 text \(byte 0xe9"):
        read_label_list(p)
    p.write_text("cat\n" + "w" * 5000 + "\n")
    with pytest.raises(DataError, match=rf"^{p}:2: a label of 5,000 characters"):
        read_label_list(p)
    p.write_bytes(gzip.compress(b"cat\ndog\n"))
    with pytest.raises(DataError, match=rf"^{p}:1: a gzip-compressed file, not a label-list file"):
        read_label_list(p)


def test_labelmatrix_with_a_non_utf8_label_file(tmp_path):
    (tmp_path / "rows.txt").write_text("img1 1 0\n")
    (tmp_path / "labels.txt").write_bytes(b"cat\n\xff\xfe\n")
    with pytest.raises(DataError, match=r"labels.txt:2: not UTF-8 text \(byte 0xff at column 1\)"):
        read_labelmatrix(tmp_path / "rows.txt", labels=tmp_path / "labels.txt")


@pytest.mark.parametrize("content, fragment", [
    ("latin1", ":3: not UTF-8 text (byte 0xe9 at column 9)"),
    ("png", ":1: a PNG image, not a CSV file"),
    ("huge", ":2: a label of 1,000,000 characters"),
])
def test_build_from_a_hostile_csv_is_one_line(tmp_path, content, fragment):
    p = tmp_path / "mine.csv"
    p.write_bytes({"latin1": "sample,labels\nimg1,cat\nimg2,café\n".encode("latin-1"),
                   "png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
                   "huge": b"sample,labels\nimg1," + b"q" * 1_000_000 + b"\n"}[content])
    res = CliRunner().invoke(cli, ["build", "--dataset", "csv", "--annotations", str(p), "--kind", "binary",
                                   "--out", str(tmp_path / "g"), "-q"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert f"{p}{fragment}" in lines[0] and len(lines[0]) < 400
    assert not (tmp_path / "g").exists() or not any((tmp_path / "g").iterdir())


def test_build_with_a_hostile_label_list(tmp_path):
    (tmp_path / "mine.csv").write_text("sample,labels\nimg1,cat\n")
    (tmp_path / "labels.txt").write_bytes(b"cat\n\x89PNG\n")
    res = CliRunner().invoke(cli, ["build", "--dataset", "csv", "--annotations", str(tmp_path / "mine.csv"),
                                   "--labels", str(tmp_path / "labels.txt"), "--kind", "binary",
                                   "--out", str(tmp_path / "g"), "-q"])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().splitlines() == [f"Error: {tmp_path / 'labels.txt'}:2: not UTF-8 text "
                                               "(byte 0x89 at column 1)"]
