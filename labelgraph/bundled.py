"""Statistics artifacts shipped with the package, so that the CLI works offline on a fresh install."""
from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

__all__ = ["BUNDLED", "bundled_path"]

_DATA = Path(__file__).parent / "data"

#: name → (file in labelgraph/data, what it is)
BUNDLED: dict[str, tuple[str, str]] = {
    "coco2014": ("coco2014_train_statistics.npz",
                 "COCO 2014 train, 82,081 images (ML-GCN's counts; COCO annotations CC BY 4.0)"),
    "voc2007": ("voc2007_trainval_statistics.npz",
                "PASCAL VOC 2007 trainval, 5,011 images"),
}
_ALIASES = {"coco": "coco2014", "voc": "voc2007"}


def bundled_path(name: str) -> Path:
    """Path of a bundled statistics artifact (``coco``/``coco2014``, ``voc``/``voc2007``).

    Examples
    --------
    >>> bundled_path("coco").name
    'coco2014_train_statistics.npz'
    """
    key = _ALIASES.get(name, name)
    if key not in BUNDLED:
        raise ConfigError(f"no bundled statistics for {name!r} (bundled: {', '.join(BUNDLED)})")
    return _DATA / BUNDLED[key][0]
