"""Saving (issue 13): large artifacts are deflated at zlib level 1 (in blocks, on threads), small ones as
np.savez_compressed; same bytes twice."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.lib import format as npy_format

import labelgraph
from labelgraph.artifact import NPZ_LARGE


def large_graph() -> labelgraph.Artifact:
    rng = np.random.default_rng(0)
    c = 3000
    A = sp.random(c, c, density=0.03, random_state=rng, format="csr", dtype=np.float64)
    return labelgraph.Artifact.graph("binary", [f"l{i}" for i in range(c)], A, {"tau": 0.4})


def npy_bytes(array: np.ndarray) -> bytes:
    member = io.BytesIO()
    npy_format.write_array(member, array, allow_pickle=False)
    return member.getvalue()


def raw_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A member's stored (deflated) bytes, read from its local header (30 bytes, then the name and extra field)."""
    blob = path.read_bytes()
    start = info.header_offset
    name_len, extra_len = struct.unpack("<HH", blob[start + 26:start + 30])
    begin = start + 30 + name_len + extra_len
    return blob[begin:begin + info.compress_size]


def deflated_size(array: np.ndarray, level: int) -> int:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return len(packer.compress(npy_bytes(array)) + packer.flush())


def test_large_artifact_is_level_1_and_readable_by_numpy_and_scipy(tmp_path: Path) -> None:
    art = large_graph()
    assert art.matrix.data.nbytes + art.matrix.indices.nbytes >= NPZ_LARGE
    path = art.save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    with zipfile.ZipFile(path) as archive:
        sizes = {info.filename[:-4]: info.compress_size for info in archive.infolist()}
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert archive.testzip() is None  # every member's CRC-32, checked by the standard library
        for name in ("data", "indices", "indptr"):
            info = archive.getinfo(f"{name}.npy")
            assert zlib.decompressobj(-15).decompress(raw_member(path, info)) == npy_bytes(arrays[name]), name
    for name in ("data", "indices", "indptr"):  # level 1 in blocks: within 1 % of one level-1 stream
        assert abs(sizes[name] - deflated_size(arrays[name], 1)) <= 0.01 * sizes[name], name
    loaded = sp.load_npz(path)
    assert (loaded != art.matrix).nnz == 0 and loaded.dtype == np.float32
    assert labelgraph.load(path).content_hash == art.content_hash


def test_small_artifact_compresses_like_savez_compressed(tmp_path: Path) -> None:
    art = labelgraph.Artifact.graph("binary", ["a", "b", "c"], [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    path = art.save(tmp_path / "g.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    reference = io.BytesIO()
    np.savez_compressed(reference, **arrays)
    with zipfile.ZipFile(path) as ours, zipfile.ZipFile(reference) as theirs:
        assert ({i.filename: i.compress_size for i in ours.infolist()}
                == {i.filename: i.compress_size for i in theirs.infolist()})


def test_the_same_artifact_gives_the_same_bytes(tmp_path: Path) -> None:
    first = large_graph().save(tmp_path / "a.npz").read_bytes()
    again = large_graph().save(tmp_path / "b.npz").read_bytes()
    assert first == again
