"""One BLAS thread inside blas_threads for small matrices, the library's own count otherwise."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is a dependency; without it nothing changes")

CODE = """
import numpy as np
from threadpoolctl import threadpool_info
from labelgraph._threads import blas_threads, SMALL_BLAS_MAX
def blas():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
outside = blas()
with blas_threads(80):
    small = blas()
    product = (np.arange(6.0).reshape(2, 3) @ np.ones((3, 1))).ravel().tolist()
with blas_threads(SMALL_BLAS_MAX + 1):
    large = blas()
print(outside, small, large, blas(), product)
"""


def test_small_products_run_on_one_blas_thread() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120,
                         env={"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "PATH": ""})
    assert out.returncode == 0, out.stderr
    outside, small, large, after, product = (eval(x) for x in out.stdout.replace("] [", "]|[").split("|"))
    assert outside == [2] and small == [1] and large == [2] and after == [2]
    assert product == [3.0, 12.0]


def test_measures_under_one_thread_equal_the_plain_product() -> None:
    from labelgraph.graphs.measures import oversmoothing

    rng = np.random.default_rng(0)
    A, E = rng.random((80, 80)), rng.standard_normal((80, 5))
    X = A @ (A @ E)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    cos = U @ U.T
    assert oversmoothing(A, E, ks=(2,))[2] == pytest.approx((cos.sum() - 80) / (80 * 79), abs=1e-12)
