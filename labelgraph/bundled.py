"""Statistics artifacts shipped with the package, so that the CLI works offline on a fresh install."""
from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

__all__ = ["BUNDLED", "bundled_names", "bundled_path"]

_DATA = Path(__file__).parent / "data"

#: name → (file in labelgraph/data, what it is)
BUNDLED: dict[str, tuple[str, str]] = {
    "coco2014": ("coco2014_train_statistics.npz",
                 "COCO 2014 train, 82,081 images (ML-GCN's counts; COCO annotations CC BY 4.0)"),
    "voc2007": ("voc2007_trainval_statistics.npz",
                "PASCAL VOC 2007 trainval, 5,011 images"),
}


def bundled_names() -> tuple[str, ...]:
    """Every name :func:`bundled_path` takes: a bundled file's name and its dataset's registry name.

    Examples
    --------
    >>> bundled_names()
    ('coco', 'coco2014', 'voc', 'voc2007')
    """
    from .datasets.registry import DATASETS  # the registry says which dataset each file belongs to

    return tuple(name for r in DATASETS.values() if r.bundled for name in (r.name, r.bundled))


def bundled_path(name: str) -> Path:
    """Path of a bundled statistics artifact (``coco``/``coco2014``, ``voc``/``voc2007``).

    Examples
    --------
    >>> bundled_path("coco").name
    'coco2014_train_statistics.npz'
    """
    from .datasets.registry import DATASETS

    key = name if name in BUNDLED else (DATASETS[name].bundled if name in DATASETS else None)
    if key not in BUNDLED:
        raise ConfigError(f"no bundled statistics for {name!r} (bundled: {', '.join(BUNDLED)})")
    return _DATA / BUNDLED[key][0]
