"""``clip:MODEL``: the text tower of an open_clip model (SPEC §3.1); weights from ``--pretrained TAG|PATH``.

A tag (``openai``, ``laion2b_s34b_b88k``, ...) is looked up in open_clip's table and
its file taken from open_clip's cache (the Hugging Face cache, or ``~/.cache/clip``
for URL downloads), downloading it when allowed; a PATH is a state dict
(``.safetensors``, or a torch file read with ``weights_only=True``: no pickle code runs).
No ``--pretrained``: ``openai`` when the model has it, else its first tag.
MODEL may also be an open_clip model-config JSON file (``my-clip.json``: the model ``my-clip``).
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError, DataError
from ._torch import precision, sha256_file, torch_device
from .registry import TextEncoder

__all__ = ["load", "from_model"]


def _fetch_hint(model: str, tag: str, cfg: dict[str, Any]) -> str:
    hub = (cfg.get("hf_hub") or "").strip("/")
    if hub:
        how = f"`huggingface-cli download {hub}` (into the Hugging Face cache)"
    elif cfg.get("url"):
        how = f"{cfg['url']} (then --pretrained PATH)"
    else:
        how = "open_clip (no download location is known for it)"
    return (f"clip:{model} --pretrained {tag}: the weights are not in the local cache and could not be "
            f"downloaded; fetch them with {how}, or give --pretrained PATH")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def load(model: str, *, pretrained: str | None, device: str) -> TextEncoder:
    """Load ``clip:model`` (see the module docstring) on ``device``; fp16 on CUDA.

    Examples
    --------
    >>> load("ViT-B-61", pretrained=None, device="cpu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --encoder clip:ViT-B-61: open_clip has no model 'ViT-B-61' (close: ...ViT-B-16...)
    """
    import open_clip

    if model.endswith(".json") and Path(model).is_file():
        open_clip.add_model_config(model)  # a model config of one's own: its file stem is the model name
        model = Path(model).stem
    names = open_clip.list_models()
    if model not in names:
        close = difflib.get_close_matches(model, names, n=4, cutoff=0.5)
        hint = f" (close: {', '.join(close)})" if close else " (open_clip.list_models() lists them)"
        raise ConfigError(f"--encoder clip:{model}: open_clip has no model {model!r}{hint}")
    torch_device(device)  # a cuda device without a GPU is refused before any weights are read
    tags = list(open_clip.list_pretrained_tags_by_model(model))
    if pretrained is None:
        if not tags:
            raise ConfigError(f"clip:{model}: open_clip has no pretrained weights for it; give --pretrained PATH")
        pretrained = "openai" if "openai" in tags else tags[0]
    path = Path(pretrained)
    if path.is_file():
        try:
            net = open_clip.create_model(model, pretrained=str(path), weights_only=True)
        except Exception as exc:  # open_clip's loader raises RuntimeError/KeyError/pickle errors on bad weights
            raise DataError(f"{path}: these weights do not fit clip:{model} ({_first_line(exc)})") from None
        weights = [{"file": path.name, "sha256": sha256_file(path)}]
    elif pretrained in tags:
        cfg = open_clip.get_pretrained_cfg(model, pretrained)
        try:
            file = open_clip.pretrained.download_pretrained(cfg)
            net = open_clip.create_model(model, pretrained=pretrained, weights_only=True)
        except Exception:  # hub/URL clients raise many kinds of errors when offline
            raise ConfigError(_fetch_hint(model, pretrained, cfg)) from None
        weights = [{"file": Path(file).name, "sha256": sha256_file(file)}]
    else:
        shown = ", ".join(tags) if tags else "none"
        raise ConfigError(f"--pretrained {pretrained!r}: neither a file nor a tag of clip:{model} (tags: {shown})")
    try:
        tokenizer = open_clip.get_tokenizer(model)
    except Exception as exc:
        raise ConfigError(f"clip:{model}: its tokenizer could not be loaded ({_first_line(exc)})") from None
    dim = int(open_clip.get_model_config(model)["embed_dim"])
    info = {"family": "clip", "model": model, "pretrained": pretrained if not path.is_file() else str(path),
            "weights": weights}
    return from_model(net, tokenizer, dim, device=device, info=info)


def from_model(net: Any, tokenizer: Any, dim: int, *, device: str = "cpu",
               info: dict[str, Any] | None = None) -> TextEncoder:
    """A :class:`TextEncoder` around an open_clip model already built (``encode_text``) and its tokenizer.

    Examples
    --------
    >>> from_model(None, None, 512, device="tpu")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --device tpu: expected cpu or cuda
    """
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"--device {device}: expected cpu or cuda")
    import torch

    dev = torch_device(device)
    prec = precision(dev)
    net = net.to(dev).eval()
    if prec == "fp16":
        net = net.half()

    def encode(texts: list[str]) -> np.ndarray:
        tokens = tokenizer(texts).to(dev)
        with torch.inference_mode():
            out = net.encode_text(tokens)
        return out.float().cpu().numpy()

    info = {"family": "clip", **(info or {}), "device": str(dev), "precision": prec}
    return TextEncoder(spec=f"clip:{info.get('model', '?')}", dim=int(dim), encode=encode, info=info)
