"""Label embeddings (SPEC §3): one word vector per label, read from GloVe, word2vec, gensim or Numberbatch files,
or encoded from the label's text by CLIP, a sentence encoder or a transformers model (:mod:`.text`, SPEC §3.1).

Only the label words are read: a text file is scanned once, a line's numbers are
parsed only when its key is wanted, and the scan stops when every label's key has
been seen.  gensim is never imported (its ``KeyedVectors`` files are read with a
restricted unpickler).

Examples
--------
>>> from labelgraph.embeddings import label_vectors
>>> p = tmp / "tiny.txt.gz"
>>> import gzip
>>> _ = p.write_bytes(gzip.compress(b"hot 1 0\\ndog 0 1\\n"))
>>> vectors, report = label_vectors(["hot dog"], p)
>>> vectors.tolist(), report.labels[0].tokens_found
([[0.5, 0.5]], ('hot', 'dog'))
"""
from __future__ import annotations

from .formats import FORMATS, VectorFormat, detect_format, get_format, open_vectors
from .mlgcn_pickle import import_mlgcn_pickle, read_mlgcn_pickle, restricted_load
from .lookup import (
    DATASET_ALIASES,
    OOV_POLICIES,
    EmbeddingReport,
    LabelReport,
    embed_artifact,
    label_terms,
    label_vectors,
)
from .text import encode_artifact, encode_labels
from .known_vectors import KNOWN_VECTORS, KnownVectors, file_fingerprint, resolve_source

__all__ = [
    "label_vectors",
    "encode_labels",
    "encode_artifact",
    "embed_artifact",
    "label_terms",
    "EmbeddingReport",
    "LabelReport",
    "OOV_POLICIES",
    "DATASET_ALIASES",
    "FORMATS",
    "VectorFormat",
    "get_format",
    "detect_format",
    "open_vectors",
    "KNOWN_VECTORS",
    "KnownVectors",
    "resolve_source",
    "file_fingerprint",
    "import_mlgcn_pickle",
    "read_mlgcn_pickle",
    "restricted_load",
]
