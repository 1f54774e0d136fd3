"""``sentence:MODEL``: a sentence-transformers model (its own pooling and layers), SPEC §3.1.

MODEL is a local folder (``SentenceTransformer.save``) or a hub name looked up in
the Hugging Face cache (``HF_HUB_OFFLINE=1`` is honoured).  Its remote code is never run.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError, DataError
from ._torch import precision, torch_device, weight_files
from .hf import fetch_hint, model_folder
from .registry import TextEncoder

__all__ = ["load"]


def load(model: str, *, device: str) -> TextEncoder:
    """Load ``sentence:model`` on ``device``; fp16 on CUDA.

    Examples
    --------
    >>> _ = (tmp / "weights.bin").write_bytes(b"")
    >>> load(str(tmp / "weights.bin"), device="cpu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: sentence:/...bin: is a file; give the model's folder or a hub name
    """
    local = Path(model).is_dir()
    if not local and Path(model).exists():
        raise ConfigError(f"sentence:{model}: is a file; give the model's folder or a hub name")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # labelgraph's own bar covers the encoding; loading a folder needs none

    dev = torch_device(device)
    try:
        net = SentenceTransformer(model, device=str(dev), trust_remote_code=False)
    except Exception as exc:  # hub clients raise many kinds of errors offline
        if local:
            text = str(exc).strip().splitlines()
            raise DataError(f"{model}: not a sentence-transformers folder ({text[0][:300] if text else type(exc).__name__})") from None
        raise ConfigError(fetch_hint(f"sentence:{model}", model)) from None
    prec = precision(dev)
    net.eval()
    if prec == "fp16":
        net = net.half()

    def encode(texts: list[str]) -> np.ndarray:
        out = net.encode(texts, batch_size=len(texts), convert_to_numpy=True, normalize_embeddings=False,
                         show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)

    folder = model_folder(model)
    get_dim = getattr(net, "get_embedding_dimension", None) or getattr(net, "get_sentence_embedding_dimension")
    dim = get_dim()
    if dim is None:
        dim = int(encode(["x"]).shape[1])
    info = {"family": "sentence", "model": model,
            "weights": weight_files(folder) if folder is not None else [], "device": str(dev), "precision": prec}
    return TextEncoder(spec=f"sentence:{model}", dim=int(dim), encode=encode, info=info)
