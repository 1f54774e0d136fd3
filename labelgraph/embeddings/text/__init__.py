"""Label embeddings from text encoders (SPEC §3.1): CLIP (open_clip), sentence-transformers, transformers.

Each label's display name fills the templates; its descriptions are added; each
text is encoded and L2-normalized, the label's vectors averaged and normalized
again.  The libraries are imported only when an encoder is loaded
(``pip install 'labelgraph[text]'``).

Examples
--------
>>> from labelgraph.embeddings.text import label_texts, load_templates
>>> label_texts("potted plant", load_templates("photo"))
['a photo of a potted plant.']
"""
from __future__ import annotations

from .encode import DEFAULT_TEMPLATES, encode_artifact, encode_labels, encoder_stem, mean_of_normalized
from .registry import ENCODERS, EncoderFamily, TextEncoder, load_encoder, parse_encoder
from .templates import IMAGENET_TEMPLATES, TEMPLATE_SETS, label_texts, load_descriptions, load_templates

__all__ = [
    "encode_labels",
    "encode_artifact",
    "encoder_stem",
    "mean_of_normalized",
    "DEFAULT_TEMPLATES",
    "ENCODERS",
    "EncoderFamily",
    "TextEncoder",
    "load_encoder",
    "parse_encoder",
    "TEMPLATE_SETS",
    "IMAGENET_TEMPLATES",
    "label_texts",
    "load_templates",
    "load_descriptions",
]
