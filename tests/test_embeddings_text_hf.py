"""SPEC §3.1 with ``hf:`` and ``sentence:``: a tiny BERT built here, against direct computations.

The BERT (2 layers, hidden 32, random weights) and its WordPiece tokenizer are
saved with ``save_pretrained``; the SentenceTransformer is that BERT plus mean
pooling, saved to a folder.  Expected vectors come from ``BertModel`` run on one
text at a time (no padding at all), so a padded batch that let padding leak into
the mean, or a CLS that was not the first token, would differ.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("transformers")
pytest.importorskip("sentence_transformers")

import labelgraph  # noqa: E402
from labelgraph_cli.main import cli  # noqa: E402

from ._text_models import tiny_bert, tiny_sentence  # noqa: E402

LABELS = ["dog", "diningtable", "person_riding_bicycle"]
WORDS = {"dog": "dog", "diningtable": "dining table", "person_riding_bicycle": "person riding bicycle"}


@pytest.fixture(scope="module", autouse=True)
def _offline() -> None:
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("models")
    bert = tiny_bert(root / "bert")
    return bert, tiny_sentence(root / "sentence", bert)


def direct(bert: Path, texts_of: dict[str, list[str]], pool: str) -> np.ndarray:
    import torch
    from transformers import BertModel, BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(bert)
    model = BertModel.from_pretrained(bert).eval()
    rows = []
    with torch.no_grad():
        for texts in texts_of.values():
            vecs = []
            for text in texts:  # one at a time: no padding anywhere
                hidden = model(**tok(text, return_tensors="pt")).last_hidden_state[0]
                v = hidden[0] if pool == "cls" else hidden.mean(0)
                vecs.append(v / v.norm())
            m = torch.stack(vecs).mean(0)
            rows.append((m / m.norm()).numpy())
    return np.stack(rows)


def embed(tmp_path: Path, encoder: str, *args: object) -> labelgraph.Artifact:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n")
    result = CliRunner().invoke(cli, ["embed", "--labels", str(labels), "--alias", "diningtable=dining table",
                                      "--encoder", encoder, "--out", str(tmp_path), "-q", "--json",
                                      *map(str, args)])
    assert result.exit_code == 0, result.output
    return labelgraph.load(json.loads(result.output)["path"])


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_hf_poolings_equal_bert(models, tmp_path: Path, pool: str) -> None:
    bert, _ = models
    art = embed(tmp_path, f"hf:{bert}", "--pool", pool, "--templates", "photo")
    texts_of = {lab: [f"a photo of a {WORDS[lab]}."] for lab in LABELS}
    np.testing.assert_allclose(art.vectors, direct(bert, texts_of, pool), atol=1e-5)
    assert art.meta["pool"] == pool and art.meta["texts"] == texts_of and art.meta["dimension"] == 32
    weights = bert / "model.safetensors"
    assert art.meta["weights"] == [{"file": "model.safetensors", "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]


def test_hf_mean_ignores_padding(models, tmp_path: Path) -> None:
    """Texts of different lengths in one batch (the short ones padded): the attention mask keeps padding out."""
    bert, _ = models
    desc = tmp_path / "d.json"
    desc.write_text(json.dumps({"dog": ["a pet that barks for the dog of the cat"], "diningtable": ["a table"]}))
    art = embed(tmp_path, f"hf:{bert}", "--pool", "mean", "--templates", "none", "--descriptions", desc)
    texts_of = {"dog": ["dog", "a pet that barks for the dog of the cat"], "diningtable": ["dining table", "a table"],
                "person_riding_bicycle": ["person riding bicycle"]}
    assert art.meta["texts"] == texts_of
    np.testing.assert_allclose(art.vectors, direct(bert, texts_of, "mean"), atol=1e-5)


def test_sentence_transformer_equals_mean_pooled_bert(models, tmp_path: Path) -> None:
    bert, sentence = models
    art = embed(tmp_path, f"sentence:{sentence}", "--templates", "photo")
    texts_of = {lab: [f"a photo of a {WORDS[lab]}."] for lab in LABELS}
    np.testing.assert_allclose(art.vectors, direct(bert, texts_of, "mean"), atol=1e-5)
    assert art.meta["family"] == "sentence" and art.meta["names"] == WORDS


def test_hf_weights_of_another_architecture(models, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A config asking for 3 layers over 2 layers' weights: refused (transformers would only warn)."""
    bert, _ = models
    other = tmp_path / "bert3"
    shutil.copytree(bert, other)
    config = json.loads((other / "config.json").read_text())
    config["num_hidden_layers"] = 3
    (other / "config.json").write_text(json.dumps(config))
    labels = tmp_path / "labels.txt"
    labels.write_text("dog\n")
    result = CliRunner().invoke(cli, ["embed", "--labels", str(labels), "--encoder", f"hf:{other}",
                                      "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "do not fit" in lines[0] and "missing" in lines[0], result.output
    assert "LOAD REPORT" not in capfd.readouterr().err  # transformers' multi-line report is not shown
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_pool_is_for_hf_only(models, tmp_path: Path) -> None:
    _, sentence = models
    result = CliRunner().invoke(cli, ["embed", "--dataset", "voc", "--encoder", f"sentence:{sentence}",
                                      "--pool", "mean", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "--pool is for hf" in result.output
