"""The threaded ``.npz`` writer (labelgraph._npz): what numpy, scipy and zipfile read back, member by member."""
from __future__ import annotations

import io
import zipfile
import zlib

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.lib import format as npy_format

import labelgraph._npz as npz
from labelgraph.artifact import npz_bytes


def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "data": rng.integers(0, 90, 300_000).astype(np.int64),
        "indices": rng.integers(0, 20_000, 300_000).astype(np.int32),
        "labels": np.array([f"/m/0{i:05x}" for i in range(3000)]),
        "meta": np.array('{"dataset": "naïve"}'),   # 0-d unicode, as the meta member is
        "format": np.array(b"csr"),
        "empty": np.zeros((0, 4)),
        "flags": np.array([True, False, True]),
        "strided": np.arange(20)[::3],
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    }


def test_every_member_reads_back_equal_and_passes_the_crc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npz, "BLOCK_BYTES", 1 << 16)  # the large members span many blocks
    data = npz.zip_npz(arrays())
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert [i.filename for i in archive.infolist()] == [f"{k}.npy" for k in arrays()]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        for name, value in arrays().items():
            assert z[name].dtype == value.dtype and z[name].shape == value.shape, name
            assert np.array_equal(z[name], value), name


def test_members_hold_numpys_own_npy_bytes() -> None:
    data = npz.zip_npz({k: v for k, v in arrays().items() if k != "fortran"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name, value in arrays().items():
            if name == "fortran":
                continue
            expected = io.BytesIO()
            npy_format.write_array(expected, value, allow_pickle=False)
            assert archive.read(f"{name}.npy") == expected.getvalue(), name


def test_blocks_make_one_deflate_stream_about_as_small_as_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npz, "BLOCK_BYTES", 1 << 16)
    value = np.repeat(np.arange(40_000, dtype=np.int64), 3)
    payload = io.BytesIO()
    npy_format.write_array(payload, value)
    one_pass = zlib.compressobj(1, zlib.DEFLATED, -15)
    single = len(one_pass.compress(payload.getvalue()) + one_pass.flush())
    with zipfile.ZipFile(io.BytesIO(npz.zip_npz({"x": value}))) as archive:
        info = archive.getinfo("x.npy")
        assert info.file_size == len(payload.getvalue())
        assert single * 0.98 <= info.compress_size <= single * 1.05


def test_the_same_arrays_give_the_same_bytes() -> None:
    assert npz.zip_npz(arrays()) == npz.zip_npz(arrays())


def test_scipy_reads_a_sparse_matrix_written_by_it() -> None:
    A = sp.random(500, 400, density=0.05, random_state=np.random.default_rng(1), format="csr")
    data = npz.zip_npz({"indices": A.indices, "indptr": A.indptr, "format": np.array(b"csr"),
                        "shape": np.array(A.shape), "data": A.data})
    assert (sp.load_npz(io.BytesIO(data)) != A).nnz == 0


def test_object_arrays_are_refused() -> None:
    with pytest.raises(ValueError, match="object arrays"):
        npz.zip_npz({"x": np.array([{"a": 1}], dtype=object)})


def test_past_the_zip_limit_zipfile_writes_zip64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npz, "_LIMIT", 1 << 20)  # pretend 1 MiB is the 4 GiB limit
    big = {"x": np.arange(1 << 18, dtype=np.int64)}  # 2 MiB
    with pytest.raises(npz.Zip64Needed):
        npz.zip_npz(big)
    with np.load(io.BytesIO(npz_bytes(big)), allow_pickle=False) as z:  # the fallback: zipfile's writer
        assert np.array_equal(z["x"], big["x"])
