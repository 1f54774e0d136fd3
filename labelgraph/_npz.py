"""Writing a large ``.npz`` fast: its members deflated in blocks on threads, the zip written directly.

A member's ``.npy`` bytes are cut into blocks of :data:`BLOCK_BYTES`; every block is
deflated on its own (raw deflate at the given level, ended by a sync flush, the last one
by the final block), as pigz does, so the blocks concatenate into one valid deflate
stream that any unzip, ``numpy.load`` and ``scipy.sparse.load_npz`` read.  zlib releases
the GIL, so the blocks (and the CRC-32 of each member) run on all cores.  Arrays are read
through memoryviews: nothing is copied before it is compressed.

The zip is the one ``zipfile`` would write (stored names ``<name>.npy``, fixed timestamps,
no extra fields); members and archives over 4 GiB need ZIP64, which :func:`zip_npz`
leaves to ``zipfile`` (it raises :class:`Zip64Needed`).
"""
from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Mapping

import numpy as np

from ._threads import usable_cpus

__all__ = ["BLOCK_BYTES", "Zip64Needed", "zip_npz"]

#: Bytes deflated as one block (one thread's task); a new block costs at most ~32 KiB of lost context.
BLOCK_BYTES = 1 << 22

_LIMIT = 0xFFFFFFFF
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0


class Zip64Needed(Exception):
    """A member or the archive is too large for a zip without ZIP64 extensions."""


def _member_bytes(array: np.ndarray) -> list[memoryview]:
    """The ``.npy`` serialization of ``array`` as views: its header, then its data (C order, no copy)."""
    import io

    from numpy.lib import format as npy_format

    array = array if array.flags.c_contiguous else np.array(array, order="C")
    if array.dtype.hasobject:
        raise ValueError("object arrays are never written (they would need pickle)")
    header = npy_format.header_data_from_array_1_0(array)
    head = io.BytesIO()
    try:  # the version numpy's own writer picks: 1.0, else 2.0 for a header over 64 KiB
        npy_format.write_array_header_1_0(head, header)
    except ValueError:
        head = io.BytesIO()
        npy_format.write_array_header_2_0(head, header)
    data = memoryview(array.reshape(-1).view(np.uint8)) if array.size else memoryview(b"")
    return [memoryview(head.getvalue()), data]


def _blocks(parts: list[memoryview]) -> list[memoryview | bytes]:
    """The member's bytes in blocks of :data:`BLOCK_BYTES` (the small header joined to the first block)."""
    head, data = parts
    first = bytes(head) + bytes(data[:BLOCK_BYTES - len(head)])
    rest = data[BLOCK_BYTES - len(head):]
    return [first, *(rest[k:k + BLOCK_BYTES] for k in range(0, len(rest), BLOCK_BYTES))]


def _deflate(block: memoryview | bytes, level: int, last: bool) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(block) + packer.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _crc(parts: list[memoryview]) -> int:
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    return crc


def zip_npz(arrays: Mapping[str, np.ndarray], level: int = 1) -> bytes:
    """The ``.npz`` (zip of ``<name>.npy`` members, deflated at zlib ``level``) of ``arrays``, deflated on threads.

    Raises :class:`Zip64Needed` when a member or the archive would pass 4 GiB.

    Examples
    --------
    >>> import io
    >>> data = zip_npz({"x": np.arange(3), "s": np.array("text")})
    >>> with np.load(io.BytesIO(data), allow_pickle=False) as z:
    ...     z["x"].tolist(), str(z["s"])
    ([0, 1, 2], 'text')
    >>> data == zip_npz({"x": np.arange(3), "s": np.array("text")})
    True
    """
    members = []
    for name, value in arrays.items():
        parts = _member_bytes(np.asanyarray(value))
        size = sum(len(p) for p in parts)
        if size >= _LIMIT:
            raise Zip64Needed(f"member {name!r} has {size} bytes")
        members.append((f"{name}.npy".encode(), parts, size))
    with ThreadPoolExecutor(usable_cpus()) as pool:
        jobs = []
        for _, parts, _ in members:
            blocks = _blocks(parts)
            crc = pool.submit(_crc, parts)
            deflated = [pool.submit(_deflate, b, level, k == len(blocks) - 1) for k, b in enumerate(blocks)]
            jobs.append((crc, deflated))
        out: list[bytes] = []
        central: list[bytes] = []
        offset = 0
        for (name, _, size), (crc_job, deflated) in zip(members, jobs):
            body = [job.result() for job in deflated]
            compressed = sum(len(b) for b in body)
            crc = crc_job.result()
            if compressed >= _LIMIT or offset >= _LIMIT:
                raise Zip64Needed(f"member {name.decode()!r} at offset {offset}")
            fields = (20, 0, zlib.DEFLATED, _DOS_TIME, _DOS_DATE, crc, compressed, size, len(name))
            out.append(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, 0) + name)
            out.extend(body)
            central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", (3 << 8) | 20, *fields, 0, 0, 0, 0,
                                       0o600 << 16, offset) + name)
            offset += 30 + len(name) + compressed
    directory = b"".join(central)
    if offset + len(directory) >= _LIMIT:
        raise Zip64Needed("the archive passes 4 GiB")
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), offset, 0)
    return b"".join([*out, directory, end])
