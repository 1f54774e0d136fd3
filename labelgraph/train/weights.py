"""torchvision's ImageNet (or Kinetics) weights, from the local torch cache only when offline.

``--weights`` names torchvision weights of the backbone (``IMAGENET1K_V1``, the
2019 ResNet weights ML-GCN used; ``IMAGENET1K_V2``; ``DEFAULT``), ``none``, or a
local state_dict file of the torchvision model (its ``fc.*`` may be absent).
The file of named weights must sit where torchvision puts it:
``$TORCH_HOME/hub/checkpoints/<file>`` (``~/.cache/torch/hub/checkpoints`` by
default).  When it is missing and the download fails, or ``LABELGRAPH_OFFLINE=1``
forbids trying, the error is one line naming the file, its URL and the folder to
put it in.  Weights are read with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, NetworkError

__all__ = ["weights_for", "weights_names", "weights_path", "load_pretrained_state", "resolve_weights",
           "load_initial_weights"]

_FILE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")

log = logging.getLogger(__name__)


def weights_names(name: str) -> list[str]:
    """The ``--weights`` names torchvision knows for model ``name`` (``DEFAULT`` last).

    Examples
    --------
    >>> weights_names("resnet101")
    ['IMAGENET1K_V1', 'IMAGENET1K_V2', 'DEFAULT']
    """
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(name)
    except (ValueError, KeyError):
        return []
    return [member.name for member in enum] + ["DEFAULT"]


def weights_for(name: str, weights: str = "DEFAULT") -> Any:
    """torchvision's weights enum member ``weights`` (default: ``DEFAULT``) for model ``name``.

    Raises
    ------
    ConfigError
        torchvision has no pretrained weights for ``name``, or none called ``weights``
        (the message lists the known ones).

    Examples
    --------
    >>> weights_for("resnet18").name, weights_for("r3d_18").name
    ('IMAGENET1K_V1', 'KINETICS400_V1')
    >>> weights_for("resnet_mystery")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: torchvision has no pretrained weights for 'resnet_mystery'
    >>> weights_for("resnet50", "IMAGENET1K_V3")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --weights IMAGENET1K_V3: no such weights for resnet50 (known: IMAGENET1K_V1, IMAGENET1K_V2, DEFAULT, none, or a state_dict file)
    """
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(name)
    except (ValueError, KeyError):
        raise ConfigError(f"torchvision has no pretrained weights for {name!r}") from None
    try:
        return enum.DEFAULT if weights == "DEFAULT" else enum[weights]
    except KeyError:
        raise ConfigError(f"--weights {weights}: no such weights for {name} (known: "
                          f"{', '.join(weights_names(name))}, none, or a state_dict file)") from None


def weights_path(name: str, weights: str = "DEFAULT") -> tuple[Path, str]:
    """Where the weights file of ``name`` (weights ``weights``) lives in the torch cache, and its URL.

    The folder is ``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``).

    Examples
    --------
    >>> path, url = weights_path("resnet18")
    >>> path.name, path.parent.name, url
    ('resnet18-f37072fd.pth', 'checkpoints', 'https://download.pytorch.org/models/resnet18-f37072fd.pth')
    """
    import torch.hub

    member = weights_for(name, weights)
    filename = os.path.basename(member.url)
    return Path(torch.hub.get_dir()) / "checkpoints" / filename, member.url


def load_pretrained_state(name: str, weights: str = "DEFAULT") -> dict:
    """The pretrained ``state_dict`` ``weights`` of torchvision model ``name`` (downloaded only when allowed).

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
    labelgraph.errors.ConfigError: pretrained weights for resnet18 not found: put resnet18-f37072fd.pth (from https://download.pytorch.org/models/resnet18-f37072fd.pth) in .../hub/checkpoints, or train with --weights none (--no-pretrained)
    """
    import torch

    path, url = weights_path(name, weights)
    if not path.is_file():
        hint = (f"pretrained weights for {name} not found: put {path.name} (from {url}) in {path.parent}, "
                "or train with --weights none (--no-pretrained)")
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


def resolve_weights(name: str, value: str | None) -> str | Path | None:
    """What ``--weights value`` means for backbone ``name``: ``None`` (random weights), a torchvision
    weights name, or the :class:`~pathlib.Path` of a state_dict file.

    A value that names no known weights and is not a file is a :class:`ConfigError`
    listing the known names.

    Examples
    --------
    >>> resolve_weights("resnet18", "none") is None, resolve_weights("resnet18", "imagenet1k_v1")
    (True, 'IMAGENET1K_V1')
    >>> resolve_weights("resnet18", "V9")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --weights V9: no such weights for resnet18 (known: IMAGENET1K_V1, DEFAULT, none, or a state_dict file)
    """
    if value is None or str(value).strip().lower() in ("none", ""):
        return None
    text = str(value).strip()
    known = weights_names(name)
    if text.upper() in known:
        return text.upper()
    path = Path(os.path.expanduser(text))
    if path.is_file():
        return path
    if os.sep in text or "/" in text or path.suffix.lower() in _FILE_SUFFIXES:
        raise ConfigError(f"{text}: no such weights file (--weights)")
    if not known:
        raise ConfigError(f"--weights {text}: torchvision has no pretrained weights for {name} (use none or a "
                          "state_dict file)")
    weights_for(name, text)   # raises, listing the known names
    raise AssertionError("unreachable")


def _read_state_file(path: Path) -> Mapping[str, Any]:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"{path}: not a readable state_dict file ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200] if str(exc) else ''})") from None
    if not isinstance(state, Mapping) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                 for k, v in state.items()):
        raise ConfigError(f"{path}: not a state_dict (a mapping of parameter names to tensors)")
    return state


def _first_mismatch(state: Mapping[str, Any], expected: Mapping[str, Any]) -> str | None:
    for key, value in expected.items():
        if key not in state:
            if not key.startswith("fc."):
                return f"{key} is missing"
        elif tuple(state[key].shape) != tuple(value.shape):
            return f"{key} has shape {tuple(state[key].shape)}, expected {tuple(value.shape)}"
    for key in state:
        if key not in expected:
            return f"{key} is not a parameter of it"
    return None


def load_initial_weights(net: Any, name: str, value: str | None) -> str | None:
    """Load ``--weights value`` into torchvision model ``net`` (called ``name``); returns what was
    loaded (a weights name, a file path) or ``None`` for random weights.

    A file must be a state_dict of that model (``fc.*`` may be absent); otherwise the
    :class:`ConfigError` names the file and the first mismatched key.

    Examples
    --------
    >>> import torch, torchvision
    >>> net = torchvision.models.resnet18()
    >>> torch.save({k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}, tmp / "r18.pt")
    >>> load_initial_weights(torchvision.models.resnet18(), "resnet18", str(tmp / "r18.pt")) == str(tmp / "r18.pt")
    True
    >>> load_initial_weights(torchvision.models.resnet34(), "resnet34", str(tmp / "r18.pt"))
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: ...r18.pt: not a state_dict of resnet34: layer1.2.conv1.weight is missing
    """
    source = resolve_weights(name, value)
    if source is None:
        return None
    if isinstance(source, str):
        net.load_state_dict(load_pretrained_state(name, source))
        return source
    state = _read_state_file(source)
    problem = _first_mismatch(state, net.state_dict())
    if problem:
        raise ConfigError(f"{source}: not a state_dict of {name}: {problem}")
    net.load_state_dict(dict(state), strict=False)
    return str(source)
