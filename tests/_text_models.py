"""Tiny real text encoders built locally for the text-encoder tests (no hub download is possible in CI)."""
from __future__ import annotations

import json
from pathlib import Path

#: A CLIP small enough to build in a second: 2 text layers, width 32, a 16-d joint space.
TINY_CLIP = {"embed_dim": 16,
             "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}}

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "photo", "of", "the", "dog", "cat", "dining",
         "table", "potted", "plant", "tv", "monitor", "person", "riding", "bicycle", "pet", "that", "barks",
         "for", "meals", "."]


def tiny_clip(folder: Path, name: str = "tiny-clip", seed: int = 0, **text_cfg: int) -> tuple[Path, Path]:
    """A model config JSON (its stem is the model name) and a state dict of random weights saved beside it."""
    import open_clip
    import torch

    cfg = json.loads(json.dumps(TINY_CLIP))
    cfg["text_cfg"].update(text_cfg)
    config = folder / f"{name}.json"
    config.write_text(json.dumps(cfg))
    open_clip.add_model_config(config)
    torch.manual_seed(seed)
    model = open_clip.create_model(name, pretrained=None)
    weights = folder / f"{name}.pt"
    torch.save(model.state_dict(), weights)
    return config, weights


def tiny_bert(folder: Path, seed: int = 0) -> Path:
    """A 2-layer BERT (hidden 32) with random weights and a WordPiece tokenizer over :data:`VOCAB`, saved in ``folder``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(VOCAB) + "\n")
    BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True).save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).eval().save_pretrained(folder)
    return folder


def tiny_sentence(folder: Path, bert: Path) -> Path:
    """A SentenceTransformer (the tiny BERT + mean pooling) saved to ``folder``."""
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    word = Transformer(str(bert))
    get_dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pool = Pooling(get_dim(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pool], device="cpu").save(str(folder))
    return folder
