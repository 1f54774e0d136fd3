"""The process-wide settings a run changes (seeds, cudnn/TF32 flags, deterministic mode), put back after it.

:func:`labelgraph.train.engine.fit` runs inside :func:`run_settings`, so a notebook or a test that
calls it finds numpy's and torch's random streams and torch's backend flags as it left them.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import numpy as np
import torch

from .checkpoint import rng_state, set_rng_state
from .config import TrainConfig

__all__ = ["backend_flags", "set_backend_flags", "run_settings"]


def backend_flags() -> dict[str, Any]:
    """The torch flags a run may change: cudnn benchmark/TF32, matmul TF32, deterministic mode.

    Examples
    --------
    >>> sorted(backend_flags())  # doctest: +NORMALIZE_WHITESPACE
    ['cuda_matmul_allow_tf32', 'cudnn_allow_tf32', 'cudnn_benchmark', 'deterministic',
     'deterministic_warn_only']
    """
    return {"cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
            "cuda_matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "deterministic": torch.are_deterministic_algorithms_enabled(),
            "deterministic_warn_only": torch.is_deterministic_algorithms_warn_only_enabled()}


def set_backend_flags(flags: dict[str, Any]) -> None:
    """Set what :func:`backend_flags` returned.

    Examples
    --------
    >>> before = backend_flags()
    >>> set_backend_flags(dict(before, cudnn_benchmark=not before["cudnn_benchmark"]))
    >>> backend_flags()["cudnn_benchmark"] != before["cudnn_benchmark"]
    True
    >>> set_backend_flags(before); backend_flags() == before
    True
    """
    torch.backends.cudnn.benchmark = flags["cudnn_benchmark"]
    torch.backends.cudnn.allow_tf32 = flags["cudnn_allow_tf32"]
    torch.backends.cuda.matmul.allow_tf32 = flags["cuda_matmul_allow_tf32"]
    torch.use_deterministic_algorithms(flags["deterministic"], warn_only=flags["deterministic_warn_only"])


@contextlib.contextmanager
def run_settings(cfg: TrainConfig, device: torch.device) -> Iterator[None]:
    """Seed numpy and torch with ``cfg.seed`` and set the backend flags for ``cfg`` on ``device``;
    on exit (normal or not) restore the random states, the flags and ``CUBLAS_WORKSPACE_CONFIG``.

    ``cfg.deterministic`` turns deterministic algorithms on (warn only) and cudnn benchmarking off;
    otherwise a CUDA run enables cudnn benchmarking and TF32.

    Examples
    --------
    >>> before, draw = backend_flags(), np.random.get_state()[1][:3].tolist()
    >>> with run_settings(TrainConfig(seed=1, deterministic=True), torch.device("cpu")):
    ...     torch.are_deterministic_algorithms_enabled()
    True
    >>> backend_flags() == before, np.random.get_state()[1][:3].tolist() == draw
    (True, True)
    """
    flags, rng = backend_flags(), rng_state()
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    try:
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % 2**32)
        if cfg.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        elif device.type == "cuda":
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        yield
    finally:
        set_backend_flags(flags)
        set_rng_state(rng)
        if cublas is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = cublas
