"""Bad vector files: one clear line naming the file (and line), a non-zero exit, nothing written."""
from __future__ import annotations

import gzip
import struct
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import labelgraph
from labelgraph.embeddings import label_vectors
from labelgraph.errors import DataError
from labelgraph_cli.main import cli

GOOD = "the 0.1 0.2 0.3\ncat 1 2 3\ndog 4 5 6\n"


def embed(tmp_path, vectors, *extra: str, labels=("cat", "dog")):
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    return CliRunner().invoke(cli, ["embed", "--labels", str(tmp_path / "labels.txt"), "--vectors", str(vectors),
                                    "--out", str(tmp_path / "out"), "-q", *extra])


def assert_refused(res, tmp_path, *fragments: str) -> None:
    assert res.exit_code not in (0, None), res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


def test_good_file_is_accepted(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text(GOOD)
    res = embed(tmp_path, p)
    assert res.exit_code == 0, res.output
    art = labelgraph.load(tmp_path / "out" / "labels_v.npz")
    np.testing.assert_array_equal(art.vectors, [[1, 2, 3], [4, 5, 6]])


def test_ragged_line_names_line_and_field_count(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 0.2 0.3\ncat 1 2\ndog 4 5 6\n")
    assert_refused(embed(tmp_path, p), tmp_path, f"{p}:2:", "3 fields, expected 4")


def test_ragged_line_of_an_unwanted_key_needs_strict(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 0.2 0.3\nbird 1\ncat 1 2 3\ndog 4 5 6\n")
    assert embed(tmp_path, p).exit_code == 0  # label-only scan: the bird line is never split
    assert_refused(embed(tmp_path, p, "--strict", "--force"), tmp_path / "none", f"{p}:2:", "2 fields, expected 4")


def test_dimension_differs_from_the_first_line(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 0.2 0.3\ncat 1 2 3 4 5\ndog 4 5 6\n")
    assert_refused(embed(tmp_path, p), tmp_path, f"{p}:2:", "'cat' has 5 values, expected 3", "line 1")


def test_dimension_differs_from_the_header(tmp_path):
    p = tmp_path / "v.w2v"
    p.write_text("3 4\n" + GOOD)
    assert_refused(embed(tmp_path, p, "--format", "word2vec"), tmp_path, f"{p}:2:", "4 fields, expected 5",
                   "header")


def test_binary_passed_as_text(tmp_path):
    p = tmp_path / "v.bin"
    p.write_bytes(b"2 3\n" + b"".join(w + b" " + struct.pack("<3f", 0.0, 1.0, -2.0) for w in (b"cat", b"dog")))
    assert embed(tmp_path, p).exit_code == 0  # detected as word2vec-binary
    assert_refused(embed(tmp_path, p, "--format", "glove", "--force"), tmp_path / "none", str(p), "binary data")
    assert_refused(embed(tmp_path, p, "--format", "word2vec", "--force"), tmp_path / "none", str(p), "binary data")


def test_text_passed_as_binary(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("2 3\ncat 1 2 3\ndog 4 5 6\n")
    assert_refused(embed(tmp_path, p, "--format", "word2vec-binary"), tmp_path, str(p), "is text, not binary")


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, content):
    p = tmp_path / "v.txt"
    p.write_bytes(content)
    assert_refused(embed(tmp_path, p), tmp_path, str(p), "empty file")


def test_empty_gzip(tmp_path):
    p = tmp_path / "v.txt.gz"
    p.write_bytes(gzip.compress(b""))
    assert_refused(embed(tmp_path, p), tmp_path, str(p), "empty file")


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e39"])
def test_non_finite_value_in_a_wanted_vector(tmp_path, value):
    p = tmp_path / "v.txt"
    p.write_text(f"the 0.1 0.2 0.3\ncat 1 {value} 3\ndog 4 5 6\n")
    assert_refused(embed(tmp_path, p), tmp_path, f"{p}:2:", "'cat' has a non-finite value", "position 2")


def test_non_finite_value_in_an_unwanted_vector_is_not_read(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 nan 0.3\ncat 1 2 3\ndog 4 5 6\n")
    vectors, _ = label_vectors(["cat", "dog"], p)
    np.testing.assert_array_equal(vectors, [[1, 2, 3], [4, 5, 6]])


def test_value_that_is_not_a_number(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 0.2 0.3\ncat 1 x2 3\ndog 4 5 6\n")
    assert_refused(embed(tmp_path, p), tmp_path, f"{p}:2:", "'x2' is not a number")


def test_duplicate_keys_first_kept_and_reported(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 0.2 0.3\ncat 1 2 3\ndog 4 5 6\ncat 7 8 9\ncat 0 0 0\n")
    vectors, report = label_vectors(["cat", "hot dog"], p, oov="zeros")  # 'hot dog' keeps the scan to the end
    np.testing.assert_array_equal(vectors[0], [1, 2, 3])
    assert report.duplicates == {"cat": [4, 5]}
    res = embed(tmp_path, p, labels=("cat", "hot dog"))  # no 'hot': the mean of 'dog' alone
    assert res.exit_code == 0
    assert "duplicate keys (first kept): cat" in res.stdout
    art = labelgraph.load(tmp_path / "out" / "labels_v.npz")
    assert art.meta["report"]["duplicates"] == {"cat": [4, 5]}
    np.testing.assert_array_equal(art.vectors, [[1, 2, 3], [4, 5, 6]])
    assert art.meta["report"]["labels"][1]["tokens_missing"] == ["hot"]


def test_zip_without_a_vector_member(tmp_path):
    p = tmp_path / "v.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("README.md", "no vectors here")
        z.writestr("LICENSE", "PDDL")
    assert_refused(embed(tmp_path, p), tmp_path, str(p), "no vector member", "README.md")


def test_zip_member_that_does_not_exist(tmp_path):
    p = tmp_path / "v.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("v.txt", GOOD)
    assert_refused(embed(tmp_path, p, "--member", "w.txt"), tmp_path, str(p), "no member 'w.txt'")


def test_unknown_format_name(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text(GOOD)
    assert_refused(embed(tmp_path, p, "--format", "fasttext"), tmp_path, "unknown vector format 'fasttext'",
                   "glove, word2vec")


def test_label_with_no_known_token(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text(GOOD)
    assert_refused(embed(tmp_path, p, labels=("cat", "unicorn")), tmp_path, str(p), "'unicorn'", "--oov")


def test_truncated_gzip(tmp_path):
    p = tmp_path / "v.txt.gz"
    p.write_bytes(gzip.compress(GOOD.encode() * 200)[:-30])
    assert_refused(embed(tmp_path, p, labels=("cat", "hot dog")), tmp_path, str(p), "truncated gzip")


def test_truncated_word2vec_binary(tmp_path):
    p = tmp_path / "v.bin"
    p.write_bytes(b"3 3\n" + b"".join(w + b" " + struct.pack("<3f", 1, 2, 3) for w in (b"cat", b"dog"))
                  + b"emu " + struct.pack("<f", 1))
    assert_refused(embed(tmp_path, p, labels=("emu",)), tmp_path, str(p), "truncated", "record 3")


def test_existing_output_is_not_overwritten(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text(GOOD)
    assert embed(tmp_path, p).exit_code == 0
    before = (tmp_path / "out" / "labels_v.npz").read_bytes()
    res = embed(tmp_path, p)  # the same vectors again: the file is unchanged, not an error
    assert res.exit_code == 0 and "labels_v.npz unchanged" in res.stdout
    p.write_text(GOOD.replace("cat 1 2 3", "cat 7 8 9"))
    res = embed(tmp_path, p)
    assert res.exit_code != 0 and "already exists and would change" in res.stderr
    assert (tmp_path / "out" / "labels_v.npz").read_bytes() == before
    assert embed(tmp_path, p, "--force").exit_code == 0
    assert (tmp_path / "out" / "labels_v.npz").read_bytes() != before


def test_library_error_type(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("the 0.1 0.2 0.3\ncat 1 2\n")
    with pytest.raises(DataError, match=r"v.txt:2: 3 fields, expected 4"):
        label_vectors(["cat"], p)
