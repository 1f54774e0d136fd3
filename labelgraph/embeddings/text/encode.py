"""SPEC §3.1: ``e = normalize(mean_k normalize(enc(text_k)))`` over a label's texts, for any encoder family."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from ...datasets.names import display_names
from ...errors import ConfigError, DataError
from .registry import TextEncoder, load_encoder, parse_encoder
from .templates import TEMPLATE_SETS, label_texts, load_descriptions, load_templates

if TYPE_CHECKING:
    from ...artifact import Artifact

__all__ = ["DEFAULT_TEMPLATES", "encode_labels", "encode_artifact", "encoder_stem", "mean_of_normalized"]

#: Templates when none are given: CLIP's zero-shot recipe for ``clip``, the bare name for sentence encoders.
DEFAULT_TEMPLATES = {"clip": "imagenet", "sentence": "none", "hf": "none"}


def encoder_stem(encoder: str, pretrained: str | None = None) -> str:
    """The file-name part of an encoder: ``clip-ViT-B-16-openai``, ``hf-bert-base-uncased`` (a path: its last name).

    Examples
    --------
    >>> encoder_stem("clip:ViT-B-16", "openai"), encoder_stem("sentence:/models/mini/"), encoder_stem("hf:org/bert")
    ('clip-ViT-B-16-openai', 'sentence-mini', 'hf-bert')
    >>> encoder_stem("clip:/cfg/tiny.json", "/w/tiny.pt")
    'clip-tiny-tiny'
    """
    family, model = parse_encoder(encoder)
    parts = [family, Path(model.rstrip("/\\")).name]
    if parts[1].endswith(".json"):
        parts[1] = parts[1][: -len(".json")]
    if pretrained:
        parts.append(Path(pretrained).stem if Path(pretrained).suffix else Path(pretrained).name)
    return "-".join(p for p in parts if p)


def mean_of_normalized(rows: np.ndarray, owner: np.ndarray, count: int) -> np.ndarray:
    """Per owner: the L2-normalized mean of its L2-normalized rows (float64 inside, float32 out).

    Examples
    --------
    >>> mean_of_normalized(np.array([[3.0, 0], [0, 2.0], [0, 5.0]]), np.array([0, 0, 1]), 2).astype(float).round(4).tolist()
    [[0.7071, 0.7071], [0.0, 1.0]]
    """
    rows = np.asarray(rows, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(norms)):
        raise DataError("the encoder gave a zero or non-finite vector for a text")
    sums = np.zeros((count, rows.shape[1]))
    np.add.at(sums, owner, rows / norms)
    out = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    return out.astype(np.float32)


def _descriptions(descriptions: Any, labels: Sequence[str]) -> tuple[dict[str, list[str]], dict[str, Any] | None]:
    if descriptions is None:
        return {}, None
    if isinstance(descriptions, (str, os.PathLike)):
        from ._torch import sha256_file

        path = Path(descriptions)
        return load_descriptions(path, labels), {"path": str(path), "sha256": sha256_file(path)}
    unknown = [k for k in descriptions if k not in set(labels)]
    if unknown:
        raise DataError(f"descriptions: {len(unknown)} label(s) not in the labels: {', '.join(map(repr, unknown[:10]))}")
    out = {}
    for label, texts in descriptions.items():
        if not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise DataError(f"descriptions: label {label!r}: expected a list of non-empty strings")
        out[label] = [t.strip() for t in texts]
    canonical = json.dumps(out, sort_keys=True, ensure_ascii=False).encode()
    return out, {"path": None, "sha256": hashlib.sha256(canonical).hexdigest()}


def encode_labels(labels: Sequence[str], encoder: str | TextEncoder = "clip:ViT-B-16", *,
                  pretrained: str | None = None, templates: str | os.PathLike[str] | Sequence[str] | None = None,
                  descriptions: str | os.PathLike[str] | Mapping[str, Sequence[str]] | None = None,
                  dataset: str | None = None, aliases: Mapping[str, str] | None = None, device: str = "cpu",
                  batch_size: int = 256, pool: str | None = None,
                  progress: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """Text-encoder label embeddings (SPEC §3.1): C × d float32 rows of unit norm, and what meta records.

    Parameters
    ----------
    labels : sequence of str
        The labels, in row order.
    encoder : str or TextEncoder
        ``clip:MODEL``, ``sentence:MODEL`` or ``hf:MODEL`` (:data:`~labelgraph.embeddings.text.ENCODERS`),
        or an encoder already loaded with :func:`~labelgraph.embeddings.text.load_encoder`.
    pretrained : str, optional
        clip only: an open_clip tag or a weights file.
    templates : str, path or sequence of str, optional
        ``none``, ``photo``, ``imagenet``, a file, or the templates; default
        :data:`DEFAULT_TEMPLATES` of the family.
    descriptions : path or mapping, optional
        ``{label: [text, ...]}`` (JSON file or dict): more texts in each label's mean.
    dataset, aliases
        The labels' display names (:func:`labelgraph.datasets.names.display_name`).
    device : str
        ``cpu`` or ``cuda`` (fp16 there).
    batch_size : int
        Texts per forward pass.
    pool : str, optional
        hf only: ``cls`` (default) or ``mean``.
    progress : bool
        A progress bar over the texts.

    Returns
    -------
    vectors : ndarray
        (C, d) float32.
    meta : dict
        encoder, model, weights (sha256), templates, descriptions (sha256), display names, the texts.

    Raises
    ------
    ConfigError, DataError, MissingDependencyError
        See :func:`~labelgraph.embeddings.text.load_encoder` and :func:`load_templates`.

    Examples
    --------
    >>> encode_labels(["dog"], "clip:ViT-B-16", templates="photo", batch_size=0)
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --batch-size 0: must be at least 1
    """
    if batch_size < 1:
        raise ConfigError(f"--batch-size {batch_size}: must be at least 1")
    labels = list(labels)
    if not labels:
        raise DataError("no labels to encode")
    if len(set(labels)) != len(labels):
        dup = sorted({lab for lab in labels if labels.count(lab) > 1})
        raise DataError(f"labels given twice: {', '.join(map(repr, dup[:10]))}")
    family = encoder.info["family"] if isinstance(encoder, TextEncoder) else parse_encoder(encoder)[0]
    template_spec = templates if templates is not None else DEFAULT_TEMPLATES[family]
    tpl = load_templates(template_spec)
    desc, desc_info = _descriptions(descriptions, labels)
    names = display_names(labels, dataset, aliases)
    texts_of = {lab: label_texts(names[lab], tpl, desc.get(lab, ())) for lab in labels}
    enc = encoder if isinstance(encoder, TextEncoder) else load_encoder(encoder, pretrained=pretrained,
                                                                         device=device, pool=pool)
    flat = [t for lab in labels for t in texts_of[lab]]
    owner = np.repeat(np.arange(len(labels)), [len(texts_of[lab]) for lab in labels])
    rows = np.empty((len(flat), enc.dim), dtype=np.float32)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(flat), unit="text", desc=f"encoding with {enc.spec}")
    for start in range(0, len(flat), batch_size):
        chunk = flat[start:start + batch_size]
        rows[start:start + len(chunk)] = enc.encode(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    vectors = mean_of_normalized(rows, owner, len(labels))
    if isinstance(template_spec, (str, os.PathLike)) and os.fspath(template_spec) in TEMPLATE_SETS:
        tpl_info: dict[str, Any] = {"name": os.fspath(template_spec)}
    elif isinstance(template_spec, (str, os.PathLike)):
        from ._torch import sha256_file

        tpl_info = {"path": os.fspath(template_spec), "sha256": sha256_file(template_spec)}
    else:
        tpl_info = {"name": "given"}
    meta = {
        "encoder": enc.spec,
        **enc.info,
        "dimension": int(enc.dim),
        "recipe": "normalize(mean_k normalize(enc(text_k)))",
        "templates": {**tpl_info, "templates": list(tpl)},
        "descriptions": desc_info,
        "names": names,
        "texts": texts_of,
    }
    return vectors, meta


def encode_artifact(labels: Sequence[str], encoder: str | TextEncoder = "clip:ViT-B-16", *,
                    meta: Mapping[str, Any] | None = None, **kwargs: Any) -> "Artifact":
    """:func:`encode_labels` as an embeddings :class:`~labelgraph.artifact.Artifact` (SPEC §4); ``meta=`` adds entries.

    Examples
    --------
    >>> encode_artifact(["dog"], "word2vec:x")
    Traceback (most recent call last):
    ...
    labelgraph.errors.ConfigError: --encoder 'word2vec:x': unknown encoder family 'word2vec'; families: clip (e.g. clip:ViT-B-16), sentence (e.g. sentence:all-MiniLM-L6-v2), hf (e.g. hf:bert-base-uncased)
    """
    from ...artifact import Artifact

    vectors, info = encode_labels(labels, encoder, **kwargs)
    return Artifact.embeddings(list(labels), vectors, {**info, **dict(meta or {})})
