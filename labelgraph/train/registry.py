"""Trainer architectures by name (``--model``), in the manner of timm's ``register_model``/``get_model``.

No torch here: the CLI's ``--model`` choices and :meth:`TrainConfig.validate` read the names, and a
model's class is imported only when :func:`model_class` (or ``models.build_model``) needs it.
The presets (``--preset``) are the other registry, :data:`labelgraph.train.config.PRESETS`.

Examples
--------
>>> model_names()
('mlgcn', 'kssnet', 'kssnet3d', 'linear', 'learned')
>>> get_model("mlgcn").target
'labelgraph.train.models.mlgcn:MLGCN'
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import ConfigError

__all__ = ["ModelSpec", "MODELS", "register_model", "get_model", "model_names", "model_class"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture: its class (or ``"module:Class"``, imported on use) and one line."""

    name: str
    target: str | Callable[..., Any]
    summary: str


#: Architectures by name (``--model``), in registration order.
MODELS: dict[str, ModelSpec] = {}


def register_model(name: str, target: str | Callable[..., Any], summary: str) -> ModelSpec:
    """Add an architecture to :data:`MODELS`; ``target`` is its class or ``"module:Class"``.

    The class is called as ``cls(backbone, adjacency, embeddings, **options)``.

    Examples
    --------
    >>> spec = register_model("toy-doc", "collections:OrderedDict", "a doctest entry")
    >>> "toy-doc" in model_names(), model_class("toy-doc").__name__
    (True, 'OrderedDict')
    >>> _ = MODELS.pop("toy-doc")
    """
    MODELS[name] = spec = ModelSpec(name, target, summary)
    return spec


def get_model(name: str) -> ModelSpec:
    """The architecture called ``name``; a :class:`ConfigError` listing the names otherwise.

    Examples
    --------
    >>> get_model("resnet")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: unknown model 'resnet' (models: mlgcn, kssnet, kssnet3d, linear, learned)
    """
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r} (models: {', '.join(MODELS)})") from None


def model_names() -> tuple[str, ...]:
    """The registered names, in registration order.

    Examples
    --------
    >>> "kssnet" in model_names()
    True
    """
    return tuple(MODELS)


def model_class(name: str) -> Callable[..., Any]:
    """The class of architecture ``name``, imported now if registered as ``"module:Class"``.

    Examples
    --------
    >>> register_model("toy-doc", dict, "a doctest entry") and model_class("toy-doc") is dict
    True
    >>> _ = MODELS.pop("toy-doc")
    """
    target = get_model(name).target
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)
    return target


register_model("mlgcn", "labelgraph.train.models.mlgcn:MLGCN",
               "ML-GCN: 2-layer GCN classifier over a CNN's max-pooled feature (CVPR 2019)")
register_model("kssnet", "labelgraph.train.models.kssnet:KSSNet",
               "KSSNet: 4-layer GCN with lateral connections into res2-res4 (AAAI 2020)")
register_model("kssnet3d", "labelgraph.train.models.kssnet3d:KSSNet3D",
               "KSSNet-3D: KSSNet on a torchvision video ResNet (Charades)")
register_model("linear", "labelgraph.train.models.linear:LinearHead",
               "baseline without a GCN: a linear classifier on the pooled feature (ML-GCN's GMP row)")
register_model("learned", "labelgraph.train.models.learned:LearnedGraphMLGCN",
               "ML-GCN over a trainable C x C graph initialised from --graph (ADD-GCN's static graph)")
