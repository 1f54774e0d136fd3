"""The text-encoder families of ``--encoder FAMILY:MODEL``; adding a family is one entry in :data:`ENCODERS`.

A family is a module with ``load(model, *, pretrained, device, pool) -> TextEncoder``;
it is imported only when used, so ``import labelgraph`` never imports torch,
open_clip, sentence-transformers or transformers.

Examples
--------
>>> parse_encoder("clip:ViT-B-16")
('clip', 'ViT-B-16')
>>> sorted(ENCODERS)
['clip', 'hf', 'sentence']
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ...errors import ConfigError, missing_dependency

__all__ = ["EncoderFamily", "TextEncoder", "ENCODERS", "parse_encoder", "load_encoder"]


@dataclass
class TextEncoder:
    """A loaded text encoder: ``encode(texts)`` gives one float32 row per text (not yet normalized).

    Attributes
    ----------
    spec : str
        ``family:model`` as given.
    dim : int
        The vectors' dimension.
    encode : callable
        ``list of str → (n, dim) float32 array``.
    info : dict
        What meta records: model, weights (file names and sha256), pooling, device, precision.
    """

    spec: str
    dim: int
    encode: Callable[[list[str]], np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EncoderFamily:
    """One ``--encoder`` family: its module, the pip package it needs, and which options it takes."""

    name: str
    module: str
    package: str
    import_name: str
    pretrained: bool = False
    pool: bool = False
    example: str = ""


#: The families, by the prefix of ``--encoder``.
ENCODERS: Mapping[str, EncoderFamily] = {
    "clip": EncoderFamily("clip", "labelgraph.embeddings.text.clip", "open_clip_torch", "open_clip",
                          pretrained=True, example="clip:ViT-B-16"),
    "sentence": EncoderFamily("sentence", "labelgraph.embeddings.text.sentence", "sentence-transformers",
                              "sentence_transformers", example="sentence:all-MiniLM-L6-v2"),
    "hf": EncoderFamily("hf", "labelgraph.embeddings.text.hf", "transformers", "transformers", pool=True,
                        example="hf:bert-base-uncased"),
}


def parse_encoder(spec: str) -> tuple[str, str]:
    """Split ``FAMILY:MODEL``; an unknown family or an empty model is a :class:`ConfigError` listing the families.

    Examples
    --------
    >>> parse_encoder("hf:/models/my bert")
    ('hf', '/models/my bert')
    """
    family, sep, model = spec.partition(":")
    if not sep or family not in ENCODERS or not model.strip():
        known = ", ".join(f"{f.name} (e.g. {f.example})" for f in ENCODERS.values())
        what = f"unknown encoder family {family!r}" if sep and family not in ENCODERS else "expected FAMILY:MODEL"
        raise ConfigError(f"--encoder {spec!r}: {what}; families: {known}")
    return family, model.strip()


def load_encoder(spec: str, *, pretrained: str | None = None, device: str = "cpu",
                 pool: str | None = None) -> TextEncoder:
    """Load the encoder ``FAMILY:MODEL`` (its library imported here) on ``device``.

    Raises
    ------
    ConfigError
        Unknown family or model, an option the family does not take, ``cuda`` with no GPU,
        weights neither local nor downloadable (the line says how to fetch them).
    MissingDependencyError
        The family's library is not installed (``pip install 'labelgraph[text]'``).

    Examples
    --------
    >>> load_encoder("glove:6B")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --encoder 'glove:6B': unknown encoder family 'glove'; families: clip (e.g. clip:ViT-B-16), sentence (e.g. sentence:all-MiniLM-L6-v2), hf (e.g. hf:bert-base-uncased)
    """
    family_name, model = parse_encoder(spec)
    family = ENCODERS[family_name]
    if pretrained is not None and not family.pretrained:
        raise ConfigError(f"--pretrained is for clip encoders; {family_name}: takes the weights from MODEL "
                          "(a local folder or a hub name)")
    if pool is not None and not family.pool:
        raise ConfigError(f"--pool is for hf encoders; {family_name}: pools as the model was saved")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"--device {device!r}: expected cpu or cuda")
    try:
        importlib.import_module(family.import_name)
    except ImportError:
        raise missing_dependency(family.package, "text") from None
    module = importlib.import_module(family.module)
    kwargs: dict[str, Any] = {"device": device}
    if family.pretrained:
        kwargs["pretrained"] = pretrained
    if family.pool:
        kwargs["pool"] = pool or "cls"
    encoder: TextEncoder = module.load(model, **kwargs)
    encoder.spec = spec
    return encoder
