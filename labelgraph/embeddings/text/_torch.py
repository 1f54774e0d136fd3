"""What the encoder families share: the device check, the precision, weights' sha256."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ...errors import ConfigError

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".npz")


def torch_device(device: str) -> Any:
    """``torch.device`` for ``cpu``/``cuda[:n]``; ``cuda`` with no GPU is one line."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: no CUDA GPU is available here (torch {torch.__version__}); "
                          "use --device cpu")
    return torch.device(device)


def precision(device: Any) -> str:
    """fp16 on CUDA (half the memory, the tensor cores), fp32 on the CPU (fp16 matmuls there are slow and inexact)."""
    return "fp16" if device.type == "cuda" else "fp32"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The full sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def weight_files(folder: str | os.PathLike[str]) -> list[dict[str, str]]:
    """``[{file, sha256}]`` for the weight files of a model folder, sorted by name."""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(_WEIGHT_SUFFIXES))
    return [{"file": str(p.relative_to(root)), "sha256": sha256_file(p)} for p in files]
