"""torchvision's ImageNet (or Kinetics) weights, from the local torch cache only when offline.

The file must sit where torchvision puts it: ``$TORCH_HOME/hub/checkpoints/<file>``
(``~/.cache/torch/hub/checkpoints`` by default).  When it is missing and the
download fails, or ``LABELGRAPH_OFFLINE=1`` forbids trying, the error is one line
naming the file, its URL and the folder to put it in.  Weights are read with
``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, NetworkError

__all__ = ["weights_for", "weights_path", "load_pretrained_state"]

log = logging.getLogger(__name__)


def weights_for(name: str) -> Any:
    """torchvision's default weights enum member for model ``name``.

    Raises
    ------
    ConfigError
        torchvision has no pretrained weights for ``name``.

    Examples
    --------
    >>> weights_for("resnet18").name, weights_for("r3d_18").name
    ('IMAGENET1K_V1', 'KINETICS400_V1')
    >>> weights_for("resnet_mystery")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: torchvision has no pretrained weights for 'resnet_mystery'
    """
    from torchvision.models import get_model_weights

    try:
        return get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise ConfigError(f"torchvision has no pretrained weights for {name!r}") from None


def weights_path(name: str) -> tuple[Path, str]:
    """Where the weights file of ``name`` lives in the torch cache, and its URL.

    The folder is ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``).

    Examples
    --------
    >>> path, url = weights_path("resnet18")
    >>> path.name, path.parent.name, url
    ('resnet18-f37072fd.pth', 'checkpoints', 'https://download.pytorch.org/models/resnet18-f37072fd.pth')
    """
    import torch.hub

    weights = weights_for(name)
    filename = os.path.basename(weights.url)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename, weights.url


def load_pretrained_state(name: str) -> dict:
    """The pretrained ``state_dict`` of torchvision model ``name`` (downloaded only when allowed).

    Raises
    ------
    ConfigError
        The file is missing and ``LABELGRAPH_OFFLINE=1`` forbids the download, or it is unreadable.
    NetworkError
        The file is missing and the download failed.

    Examples
    --------
    An empty torch cache, offline: the error names the file, its URL and the folder to put it in.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"TORCH_HOME": str(tmp), "LABELGRAPH_OFFLINE": "1"}):
    ...     load_pretrained_state("resnet18")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: pretrained weights for resnet18 not found: put resnet18-f37072fd.pth (from https://download.pytorch.org/models/resnet18-f37072fd.pth) in .../hub/checkpoints, or train with --no-pretrained
    """
    import torch

    path, url = weights_path(name)
    if not path.is_file():
        hint = (f"pretrained weights for {name} not found: put {path.name} (from {url}) in {path.parent}, "
                "or train with --no-pretrained")
        if os.environ.get("LABELGRAPH_OFFLINE", "") not in ("", "0"):
            raise ConfigError(hint)
        try:
            torch.hub.download_url_to_file(url, str(path), progress=False)
        except Exception as exc:  # URLError, socket timeouts, HTTP errors
            raise NetworkError(f"{hint} (download failed: {type(exc).__name__})") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"{path}: not a readable weights file ({type(exc).__name__}: {exc})") from None
