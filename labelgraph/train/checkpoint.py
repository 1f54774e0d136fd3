"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)`` only.

A checkpoint is a dict of tensors and plain values: the model, optimizer,
scheduler and gradient-scaler states, the EMA weights, the RNG states, the
epoch count, the best validation mAP, the run's configuration and its labels.
It is written to a temporary file beside the target, fsynced and renamed, so a
run killed while writing leaves the previous checkpoint readable.
"""
from __future__ import annotations

import logging
import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._atomic import atomic_write
from ..errors import ArtifactError

__all__ = ["CHECKPOINT_FORMAT", "save_checkpoint", "load_checkpoint", "rng_state", "set_rng_state",
           "remove_stale_temporaries"]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "labelgraph-train-checkpoint/1"


def save_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename).

    Examples
    --------
    >>> p = tmp / "last.pt"
    >>> _ = save_checkpoint(p, {"epoch": 1, "w": torch.ones(2)})
    >>> load_checkpoint(p)["epoch"]
    1
    """
    path = Path(path)
    state = dict(state, format=CHECKPOINT_FORMAT)
    with atomic_write(path) as handle:
        torch.save(state, handle)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; anything needing full unpickling is refused.

    Raises
    ------
    ArtifactError
        The file is missing, truncated, not a checkpoint, or holds arbitrary Python objects.

    Examples
    --------
    >>> p = save_checkpoint(tmp / "last.pt", {"epoch": 3, "w": torch.arange(3.0)})
    >>> state = load_checkpoint(p)
    >>> state["epoch"], state["w"].tolist(), state["format"]
    (3, [0.0, 1.0, 2.0], 'labelgraph-train-checkpoint/1')
    >>> torch.save({"epoch": 3}, tmp / "plain.pt")   # a torch file, but not a checkpoint of this trainer
    >>> load_checkpoint(tmp / "plain.pt")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ArtifactError: ...plain.pt: not a labelgraph training checkpoint
    """
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ArtifactError(f"{path}: refused: it holds Python objects that only full unpickling "
                            f"(weights_only=False) would run, and labelgraph never does ({first[:160]})") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: not a readable checkpoint ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ArtifactError(f"{path}: not a labelgraph training checkpoint")
    return state


def rng_state() -> dict[str, Any]:
    """The RNG states of torch (CPU and CUDA), numpy and Python, as tensors and plain values.

    The result is what a checkpoint stores (it loads with ``weights_only=True``);
    :func:`set_rng_state` restores it.

    Examples
    --------
    >>> state = rng_state()
    >>> sorted(set(state) - {"cuda"}), state["torch"].dtype
    (['numpy', 'python', 'torch'], torch.uint8)
    """
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned.

    Examples
    --------
    >>> state = rng_state()
    >>> first = (torch.rand(2), np.random.rand(), random.random())
    >>> set_rng_state(state)          # the same draws again
    >>> again = (torch.rand(2), np.random.rand(), random.random())
    >>> torch.equal(first[0], again[0]), first[1:] == again[1:]
    (True, True)
    """
    torch.set_rng_state(state["torch"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> int:
    """Delete temporary checkpoint files left by a killed writer; returns how many.

    Examples
    --------
    >>> _ = (tmp / ".last.pt.1234.tmp").write_bytes(b"half a checkpoint")
    >>> _ = save_checkpoint(tmp / "last.pt", {"epoch": 1})
    >>> remove_stale_temporaries(tmp), sorted(p.name for p in tmp.iterdir())
    (1, ['last.pt'])
    """
    count = 0
    for tmp in Path(folder).glob(".*.pt.*.tmp"):
        try:
            tmp.unlink()
            count += 1
        except OSError:
            pass
    return count
