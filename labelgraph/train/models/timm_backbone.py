"""timm backbones (``--backbone timm:tresnet_m``, ``timm:convnext_base`` …), with ``pip install 'labelgraph[timm]'``.

The model is built as ``timm.create_model(name, num_classes=0, global_pool='')`` and its
``forward_features`` feature map (B × C × h × w) is what ML-GCN pools; ``C`` is the model's
``num_features``, so the GCN's output width follows it.  Pretrained weights are read from the
local Hugging Face cache only (``$HF_HOME/hub``, or timm's torch-hub file for the older
models); nothing is downloaded during a run.  KSSNet needs the res2–res4 stages of a
torchvision ResNet for its lateral connections, so timm backbones are for ``mlgcn``.
"""
from __future__ import annotations

import os
from pathlib import Path

import timm
import torch
from torch import nn

from ...errors import ConfigError

__all__ = ["TIMM_PREFIX", "TimmBackbone", "build_timm_backbone", "timm_weights_file"]

TIMM_PREFIX = "timm:"


class TimmBackbone(nn.Module):
    """A timm model without pooling and classifier; ``forward`` is its feature map.

    Attributes
    ----------
    channels : ``(num_features,)``, the width of the feature map
    spatial_dims : 2

    Examples
    --------
    >>> b = TimmBackbone("timm:test_resnet", timm.create_model("test_resnet", num_classes=0, global_pool=""))
    >>> b.feature_dim, tuple(b(torch.zeros(1, 3, 64, 64)).shape)
    (96, (1, 96, 2, 2))
    """

    spatial_dims = 2

    def __init__(self, name: str, model: nn.Module) -> None:
        super().__init__()
        self.name = name
        self.model = model
        self.channels: tuple[int, ...] = (int(model.num_features),)

    @property
    def feature_dim(self) -> int:
        return self.channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model.forward_features(x)
        if out.dim() != 4:
            raise ConfigError(f"--backbone {self.name}: gives {out.dim()}-D features {tuple(out.shape)}, not a "
                              "B × C × h × w feature map; use a convolutional timm model")
        return out


def timm_weights_file(name: str) -> Path | None:
    """The cached pretrained weights file of timm model ``name`` (``None`` when not cached); no network.

    Looks in the Hugging Face hub cache for the model's ``hf_hub_id`` (``model.safetensors``,
    then ``pytorch_model.bin``), then in the torch hub cache for its ``url``.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"HF_HUB_CACHE": str(tmp), "TORCH_HOME": str(tmp)}):
    ...     timm_weights_file("resnet10t") is None
    True
    """
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    if cfg is None:
        return None
    if cfg.hf_hub_id:
        cache = os.environ.get("HF_HUB_CACHE") or os.path.join(
            os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "hub")
        folder = Path(cache) / f"models--{cfg.hf_hub_id.replace('/', '--')}"
        ref = folder / "refs" / (getattr(cfg, "hf_hub_revision", None) or "main")
        if ref.is_file():
            snapshot = folder / "snapshots" / ref.read_text().strip()
            for filename in (cfg.hf_hub_filename, "model.safetensors", "pytorch_model.bin"):
                if filename and (snapshot / filename).is_file():
                    return snapshot / filename
    if cfg.url:
        path = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(cfg.url)
        if path.is_file():
            return path
    return None


def build_timm_backbone(name: str, *, pretrained: bool = False) -> TimmBackbone:
    """Build ``timm:<model>``; ``pretrained`` loads its weights from the local cache.

    Raises
    ------
    ConfigError
        timm knows no such model, or its pretrained weights are not cached.

    Examples
    --------
    >>> build_timm_backbone("timm:test_resnet").feature_dim
    96
    >>> build_timm_backbone("timm:no_such_net")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --backbone timm:no_such_net: timm has no model 'no_such_net' (timm.list_models('*name*') lists them)
    """
    model_name = name[len(TIMM_PREFIX):] if name.startswith(TIMM_PREFIX) else name
    if not model_name or not timm.is_model(model_name):
        raise ConfigError(f"--backbone {TIMM_PREFIX}{model_name}: timm has no model {model_name!r} "
                          "(timm.list_models('*name*') lists them)")
    options: dict = {"num_classes": 0, "global_pool": ""}
    if pretrained:
        path = timm_weights_file(model_name)
        if path is None:
            raise ConfigError(f"pretrained weights for {TIMM_PREFIX}{model_name} are not in the local cache: fetch "
                              f"them once with python -c \"import timm; timm.create_model('{model_name}', "
                              "pretrained=True)\" where there is network, or train with --no-pretrained")
        options.update(pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    try:
        model = timm.create_model(model_name, **options)
    except (RuntimeError, ValueError, KeyError, OSError) as exc:
        raise ConfigError(f"--backbone {TIMM_PREFIX}{model_name}: cannot build it "
                          f"({type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]})") from None
    return TimmBackbone(f"{TIMM_PREFIX}{model_name}", model)
