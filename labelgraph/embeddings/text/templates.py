"""Templates and descriptions: the texts encoded for a label (SPEC §3.1).

A label's texts are its templates filled with its display name, then its
descriptions (RAM++'s recipe), in that order; duplicates are kept (each text
counts once per occurrence in the mean).

Template sets: ``none`` (``{}``: the name alone), ``photo`` (``a photo of a {}.``),
``imagenet`` (CLIP's 80 ImageNet zero-shot templates), or a UTF-8 file with one
template a line (blank lines and lines starting with ``#`` skipped), each holding
``{}`` exactly once.

Examples
--------
>>> templates = load_templates("photo")
>>> label_texts("dining table", templates, ["a table for meals"])
['a photo of a dining table.', 'a table for meals']
>>> len(load_templates("imagenet"))
80
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Sequence

from ...errors import ConfigError, DataError

__all__ = ["TEMPLATE_SETS", "IMAGENET_TEMPLATES", "load_templates", "load_descriptions", "label_texts"]

# CLIP's 80 ImageNet prompt templates (Radford et al. 2021, the notebook's list; open_clip's OPENAI_IMAGENET_TEMPLATES).
IMAGENET_TEMPLATES: tuple[str, ...] = (
    'a bad photo of a {}.', 'a photo of many {}.', 'a sculpture of a {}.', 'a photo of the hard to see {}.',
    'a low resolution photo of the {}.', 'a rendering of a {}.', 'graffiti of a {}.', 'a bad photo of the {}.',
    'a cropped photo of the {}.', 'a tattoo of a {}.', 'the embroidered {}.', 'a photo of a hard to see {}.',
    'a bright photo of a {}.', 'a photo of a clean {}.', 'a photo of a dirty {}.', 'a dark photo of the {}.',
    'a drawing of a {}.', 'a photo of my {}.', 'the plastic {}.', 'a photo of the cool {}.',
    'a close-up photo of a {}.', 'a black and white photo of the {}.', 'a painting of the {}.',
    'a painting of a {}.', 'a pixelated photo of the {}.', 'a sculpture of the {}.',
    'a bright photo of the {}.', 'a cropped photo of a {}.', 'a plastic {}.', 'a photo of the dirty {}.',
    'a jpeg corrupted photo of a {}.', 'a blurry photo of the {}.', 'a photo of the {}.',
    'a good photo of the {}.', 'a rendering of the {}.', 'a {} in a video game.', 'a photo of one {}.',
    'a doodle of a {}.', 'a close-up photo of the {}.', 'a photo of a {}.', 'the origami {}.',
    'the {} in a video game.', 'a sketch of a {}.', 'a doodle of the {}.', 'a origami {}.',
    'a low resolution photo of a {}.', 'the toy {}.', 'a rendition of the {}.', 'a photo of the clean {}.',
    'a photo of a large {}.', 'a rendition of a {}.', 'a photo of a nice {}.', 'a photo of a weird {}.',
    'a blurry photo of a {}.', 'a cartoon {}.', 'art of a {}.', 'a sketch of the {}.', 'a embroidered {}.',
    'a pixelated photo of a {}.', 'itap of the {}.', 'a jpeg corrupted photo of the {}.',
    'a good photo of a {}.', 'a plushie {}.', 'a photo of the nice {}.', 'a photo of the small {}.',
    'a photo of the weird {}.', 'the cartoon {}.', 'art of the {}.', 'a drawing of the {}.',
    'a photo of the large {}.', 'a black and white photo of a {}.', 'the plushie {}.', 'a dark photo of a {}.',
    'itap of a {}.', 'graffiti of the {}.', 'a toy {}.', 'itap of my {}.', 'a photo of a cool {}.',
    'a photo of a small {}.', 'a tattoo of the {}.',
)

#: The named template sets of ``--templates``.
TEMPLATE_SETS: Mapping[str, tuple[str, ...]] = {
    "none": ("{}",),
    "photo": ("a photo of a {}.",),
    "imagenet": IMAGENET_TEMPLATES,
}


def _check_template(template: str, where: str) -> str:
    if template.count("{}") != 1 or template.replace("{}", "").count("{") or template.replace("{}", "").count("}"):
        raise DataError(f"{where}: template {template!r} must hold '{{}}' exactly once (where the label's name goes)"
                        " and no other braces")
    return template


def load_templates(spec: str | os.PathLike[str] | Sequence[str]) -> tuple[str, ...]:
    """The templates of a set name (:data:`TEMPLATE_SETS`), a template file, or a list of templates.

    Raises
    ------
    ConfigError
        An unknown set name that is not a file.
    DataError
        A file that cannot be read, is empty, or has a line without ``{}``.

    Examples
    --------
    >>> load_templates("none")
    ('{}',)
    >>> load_templates(["a {} in the wild"])
    ('a {} in the wild',)
    """
    if isinstance(spec, (list, tuple)):
        return tuple(_check_template(str(t), "templates") for t in spec)
    name = os.fspath(spec)
    if name in TEMPLATE_SETS:
        return TEMPLATE_SETS[name]
    path = Path(name)
    if not path.is_file():
        raise ConfigError(f"--templates {name!r}: neither a template set ({', '.join(TEMPLATE_SETS)}) nor a file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    out = [_check_template(line.strip(), f"{path}:{n}") for n, line in enumerate(lines, 1)
           if line.strip() and not line.lstrip().startswith("#")]
    if not out:
        raise DataError(f"{path}: no templates (one a line, each holding '{{}}')")
    return tuple(out)


def load_descriptions(path: str | os.PathLike[str], labels: Sequence[str]) -> dict[str, list[str]]:
    """Read ``{label: [text, ...]}`` JSON; every key must be one of ``labels`` and every text a non-empty string.

    A label absent from the file has no descriptions (its templates alone).

    Raises
    ------
    DataError
        Unreadable or invalid JSON, not an object, labels not in ``labels`` (all named),
        a value that is not a list of strings.

    Examples
    --------
    >>> p = tmp / "d.json"
    >>> _ = p.write_text('{"dog": ["a pet that barks"]}')
    >>> load_descriptions(p, ["cat", "dog"])
    {'dog': ['a pet that barks']}
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object {{label: [text, ...]}}, got {type(data).__name__}")
    known = set(labels)
    unknown = [k for k in data if k not in known]
    if unknown:
        shown = ", ".join(repr(k) for k in unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise DataError(f"{path}: {len(unknown)} label(s) not in the dataset: {shown}")
    out: dict[str, list[str]] = {}
    for label in labels:
        if label not in data:
            continue
        texts = data[label]
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise DataError(f"{path}: label {label!r}: expected a list of non-empty strings, got {json.dumps(texts)[:80]}")
        out[label] = [t.strip() for t in texts]
    return out


def label_texts(name: str, templates: Sequence[str], descriptions: Sequence[str] = ()) -> list[str]:
    """The texts encoded for one label: each template filled with ``name``, then the descriptions.

    Examples
    --------
    >>> label_texts("cat", ["{}", "a photo of a {}."])
    ['cat', 'a photo of a cat.']
    """
    return [t.replace("{}", name) for t in templates] + list(descriptions)
