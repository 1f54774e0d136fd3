"""``hf:MODEL``: a transformers ``AutoModel`` and its tokenizer, pooled ``cls`` or ``mean`` (SPEC §3.1).

MODEL is a local folder (``save_pretrained``) or a hub name looked up in the Hugging
Face cache (``HF_HUB_OFFLINE=1`` is honoured).  ``mean`` averages the last hidden
states over the attention mask (padding never counts); ``cls`` takes the first token's.
Weights that leave any of the model's parameters unset are refused (transformers
would fill them with random values and only warn).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError, DataError
from ._torch import precision, torch_device, weight_files
from .registry import TextEncoder

__all__ = ["load", "POOLS", "model_folder", "fetch_hint"]

#: The poolings of ``--pool``.
POOLS = ("cls", "mean")


def fetch_hint(spec: str, model: str) -> str:
    """The one line for a hub model that is neither local nor downloadable.

    Examples
    --------
    >>> fetch_hint("hf:bert-base-uncased", "bert-base-uncased").split("; ")[1]
    'fetch it with `huggingface-cli download bert-base-uncased` or give a local folder'
    """
    return (f"{spec}: {model!r} is not a local folder and not in the Hugging Face cache, and could not be "
            f"downloaded; fetch it with `huggingface-cli download {model}` or give a local folder")


def model_folder(model: str) -> Path | None:
    """The local folder of a model: the path itself, or its snapshot in the Hugging Face cache (``None``: neither).

    Examples
    --------
    >>> folder = str(tmp)
    >>> model_folder(folder).is_dir()
    True
    """
    if Path(model).is_dir():
        return Path(model)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception:
        return None


def load(model: str, *, device: str, pool: str) -> TextEncoder:
    """Load ``hf:model`` with ``pool`` pooling on ``device``; fp16 on CUDA.

    Examples
    --------
    >>> load("bert-base-uncased", device="cpu", pool="max")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --pool 'max': expected one of cls, mean
    """
    if pool not in POOLS:
        raise ConfigError(f"--pool {pool!r}: expected one of {', '.join(POOLS)}")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # labelgraph's own bar covers the encoding; loading a folder needs none

    dev = torch_device(device)
    local = Path(model).is_dir()
    if not local and Path(model).exists():
        raise ConfigError(f"hf:{model}: is a file; give the model's folder (save_pretrained) or a hub name")
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its load report of missing weights becomes the one-line error below
    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
        net, loading = AutoModel.from_pretrained(model, output_loading_info=True)
    except Exception as exc:  # hub clients raise many kinds of errors offline
        if local:
            text = str(exc).strip().splitlines()
            raise DataError(f"{model}: not a transformers model folder ({text[0][:300] if text else type(exc).__name__})") from None
        raise ConfigError(fetch_hint(f"hf:{model}", model)) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    missing = [k for k in loading.get("missing_keys", ()) if not k.endswith("position_ids")]
    mismatched = list(loading.get("mismatched_keys", ()))
    if missing or mismatched:
        bad = (missing + [str(m[0]) if isinstance(m, tuple) else str(m) for m in mismatched])[:3]
        raise DataError(f"hf:{model}: the weights do not fit the model's architecture ({len(missing)} parameter(s) "
                        f"missing, {len(mismatched)} of another shape: {', '.join(bad)})")
    prec = precision(dev)
    net = net.to(dev).eval()
    if prec == "fp16":
        net = net.half()

    def encode(texts: list[str]) -> np.ndarray:
        batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(dev)
        with torch.inference_mode():
            hidden = net(**batch).last_hidden_state.float()
        if pool == "cls":
            out = hidden[:, 0]
        else:
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return out.cpu().numpy()

    folder = model_folder(model)
    info = {"family": "hf", "model": model, "pool": pool,
            "weights": weight_files(folder) if folder is not None else [], "device": str(dev), "precision": prec}
    return TextEncoder(spec=f"hf:{model}", dim=int(net.config.hidden_size), encode=encode, info=info)
