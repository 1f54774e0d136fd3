"""The file layer: one label-list rule, one duplicate-name error, file records, gzip input, progress bars."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from pathlib import Path

import pytest

from labelgraph import files
from labelgraph.errors import ArtifactError, DataError
from labelgraph.files import (MAX_LABEL_CHARS, block_stream, file_record, inflate_blocks, open_maybe_compressed,
                              progress, read_file_record, read_label_list, sniff, unique_names)


def test_label_list_rules(tmp_path: Path) -> None:
    p = tmp_path / "labels.txt"
    p.write_bytes(b"\xef\xbb\xbf# COCO subset\r\n  cat \r\n\n   # a comment after blanks\nhot dog\n\tdining table\t")
    assert read_label_list(p) == ("cat", "hot dog", "dining table")


@pytest.mark.parametrize("content, message", [
    (b"cat\ndog\n\ncat\n", r"labels.txt:4: label 'cat' listed twice \(first on line 1\)"),
    (b"# only a comment\n\n", r"labels.txt: label-list file holds no label"),
    (b"cat\ncaf\xe9\n", r"labels.txt:2: not UTF-8 text \(byte 0xe9 at column 4\)"),
    (gzip.compress(b"cat\n"), r"labels.txt:1: a gzip-compressed file, not a label-list file"),
    (b"cat\n" + b"c" * (MAX_LABEL_CHARS + 1) + b"\n", r"labels.txt:2: a label of 4,097 characters"),
])
def test_label_list_errors_name_file_and_line(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "labels.txt"
    p.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_label_list(p)


def test_every_label_list_reader_follows_the_rule(tmp_path: Path) -> None:
    """The dataset readers' helper and the CLI's --labels go through the one function."""
    from labelgraph.datasets._common import read_label_list as dataset_reader
    from labelgraph.datasets._common import resolve_labels

    assert dataset_reader is read_label_list
    p = tmp_path / "l.txt"
    p.write_text("# header\ncat\ndog\n")
    assert resolve_labels(p) == ("cat", "dog")
    with pytest.raises(DataError, match="duplicate label names: cat"):
        resolve_labels(["cat", "dog", "cat"])


def test_unique_names_one_format() -> None:
    assert unique_names(iter(["a", "b"])) == ("a", "b")
    with pytest.raises(DataError, match=r"^x\.npz: duplicate label names: a, b$"):
        unique_names(["b", "a", "b", "a", "c"], where="x.npz")
    with pytest.raises(ArtifactError, match=r"^duplicate label names: a$"):
        unique_names(["a", "a"], error=ArtifactError)
    with pytest.raises(DataError, match=r"^l\.txt:9: label 'b' listed twice \(first on line 3\)$"):
        unique_names(["a", "b", "b"], where="l.txt", lines=[1, 3, 9])
    many = [f"n{i}" for i in range(7)] * 2
    with pytest.raises(DataError, match=r"n0, n1, n2, n3, n4 \(and 2 more\)$"):
        unique_names(many)


def test_file_record_schema_and_values(tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    rec = file_record(p)
    assert rec == {"path": str(p), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    quick = file_record(p, quick_over=1 << 20)
    expected = hashlib.sha256(str(len(data)).encode() + data[: 1 << 20] + data[-(1 << 20):]).hexdigest()
    assert quick == {"path": str(p), "sha256": expected, "bytes": len(data),
                     "method": "sha256(size, first MiB, last MiB)"}
    assert file_record(p, quick_over=len(data)) == rec


def test_old_records_still_read() -> None:
    assert read_file_record({"path": "a", "sha256": "00"}) == {"path": "a", "sha256": "00", "bytes": None}
    assert read_file_record({"file": "d.csv.gz", "sha256": "ff", "bytes": 9, "kept": 3}) == \
        {"path": "d.csv.gz", "sha256": "ff", "bytes": 9}
    old_embeddings = {"method": "sha256(size, first MiB, last MiB)", "sha256": "aa", "size": 5}
    assert read_file_record(old_embeddings)["bytes"] == 5
    assert read_file_record(old_embeddings)["method"] == "sha256(size, first MiB, last MiB)"


def test_sniff(tmp_path: Path) -> None:
    import pickle
    import zipfile

    assert sniff(gzip.compress(b"x")) == "gzip"
    assert sniff(pickle.dumps([1])) == "pickle"
    assert sniff(b"%PDF-1.4") == "pdf"
    assert sniff(b"the 0.1 0.2\n") is None
    z = tmp_path / "a.zip"
    with zipfile.ZipFile(z, "w") as archive:
        archive.writestr("a.txt", "a")
    assert sniff(z) == "zip"


@pytest.mark.parametrize("engine", ["zlib", "isal"])
def test_inflate_matches_gzip_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    if engine == "isal":
        isal_zlib = pytest.importorskip("isal.isal_zlib")
        monkeypatch.setattr(files, "inflate_module", lambda: isal_zlib)
    else:
        monkeypatch.setattr(files, "inflate_module", lambda: zlib)
    text = b"".join(b"word%d %s\n" % (i, b" ".join(b"0.%d" % (i * k % 97) for k in range(8))) for i in range(20000))
    p = tmp_path / "v.txt.gz"
    p.write_bytes(gzip.compress(text[:70000]) + gzip.compress(text[70000:]))  # two members, as pigz may write
    with open_maybe_compressed(p) as f:
        lines = list(f)
    assert b"".join(lines) == gzip.decompress(p.read_bytes()) == text
    assert len(lines) == 20000
    plain = tmp_path / "v.txt"
    plain.write_bytes(text)
    with open_maybe_compressed(plain) as f:
        assert f.read() == text
    cut = tmp_path / "cut.gz"
    cut.write_bytes(p.read_bytes()[:-50])
    with pytest.raises(DataError, match=rf"cut\.gz: gzip data ends early at byte {cut.stat().st_size:,} "
                                        r"\(truncated gzip"):
        with open_maybe_compressed(cut) as f:
            f.read()
    bad = bytearray(gzip.compress(text))
    bad[200:260] = b"\xff" * 60
    with pytest.raises(DataError, match=r"corrupt gzip data near byte"):
        b"".join(inflate_blocks(io.BytesIO(bytes(bad)).read, "bad.gz", raw_size=128))


def test_text_through_open_maybe_compressed(tmp_path: Path) -> None:
    p = tmp_path / "a.arff.gz"
    p.write_bytes(gzip.compress("@relation caf\u00e9\n@data\n".encode()))
    with io.TextIOWrapper(open_maybe_compressed(p), encoding="utf-8") as f:
        assert f.readlines() == ["@relation caf\u00e9\n", "@data\n"]


def test_block_stream_lines_cross_blocks() -> None:
    blocks = [b"a 1", b"\nb", b" 2\n", b"", b"c 3"]
    assert list(block_stream(blocks)) == [b"a 1\n", b"b 2\n", b"c 3"]


def test_progress_silent_when_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    with progress(total=10, enabled=False, unit="B", desc="x") as bar:
        bar.update(10)
    assert capsys.readouterr().err == ""
    with progress(total=3, enabled=True, desc="labels", unit="label") as bar:
        bar.update(3)
    assert "labels" in capsys.readouterr().err
