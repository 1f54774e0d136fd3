"""GloVe `.gz` files inflate through ISA-L when installed and through zlib otherwise: the same vectors."""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pytest

from labelgraph import files
from labelgraph.embeddings import label_vectors

from .conftest import require_shared

LABELS = ["hot dog", "tennis racket", "person", "dining table", "traffic light"]


def _engines() -> list:
    try:
        from isal import isal_zlib
    except ImportError:
        isal_zlib = None
    return [pytest.param(zlib, id="zlib"),
            pytest.param(isal_zlib, id="isal",
                         marks=pytest.mark.skipif(isal_zlib is None, reason="isal (labelgraph[fast]) not installed"))]


def _read(monkeypatch: pytest.MonkeyPatch, engine, path: Path) -> np.ndarray:
    monkeypatch.setattr(files, "inflate_module", lambda: engine)
    vectors, _ = label_vectors(LABELS, path)
    return vectors


@pytest.mark.parametrize("engine", _engines())
def test_generated_gz_in_two_members_equals_the_plain_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           engine) -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)] + ["hot", "dog", "tennis", "racket", "person", "dining", "table",
                                              "traffic", "light"]
    table = rng.standard_normal((len(words), 8)).round(5)
    text = "".join(f"{w} {' '.join(repr(float(x)) for x in row)}\n" for w, row in zip(words, table)).encode()
    plain, packed = tmp_path / "v.txt", tmp_path / "v.txt.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text[:40000]) + gzip.compress(text[40000:]))
    got = _read(monkeypatch, engine, packed)
    index = {w: i for i, w in enumerate(words)}
    want = np.array([table[[index[t] for t in label.split()]].mean(axis=0) for label in LABELS], dtype=np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    monkeypatch.undo()
    np.testing.assert_array_equal(got, label_vectors(LABELS, plain)[0])


def test_real_glove_same_vectors_with_isal_and_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    isal_zlib = pytest.importorskip("isal.isal_zlib", reason="isal (labelgraph[fast]) not installed")
    path = require_shared("glove", "glove.6B.50d.txt.gz")
    with_isal = _read(monkeypatch, isal_zlib, path)
    with_zlib = _read(monkeypatch, zlib, path)
    np.testing.assert_array_equal(with_isal, with_zlib)
    assert with_isal.shape == (len(LABELS), 50) and np.all(np.linalg.norm(with_isal, axis=1) > 0)
