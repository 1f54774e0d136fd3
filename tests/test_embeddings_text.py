"""SPEC §3.1 with CLIP: ``labelgraph embed --encoder clip:...`` against a direct open_clip computation.

A tiny open_clip model is built here from a model config with random weights (its
state dict saved to a file, given as ``--pretrained PATH``); the expected vectors
are computed with open_clip directly: tokenize, encode_text, normalize, mean,
normalize.  Display names and the 80 ImageNet templates come from the SPEC and
open_clip's own template list, not from labelgraph.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("open_clip")

import labelgraph  # noqa: E402
from labelgraph_cli.main import cli  # noqa: E402

from ._text_models import tiny_clip  # noqa: E402

VOC_WORDS = {"diningtable": "dining table", "pottedplant": "potted plant", "tvmonitor": "tv monitor"}  # SPEC §3.1


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_clip(tmp_path_factory.mktemp("clip"))


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def direct(config: Path, weights: Path, texts_of: dict[str, list[str]]) -> np.ndarray:
    """normalize(mean(normalize(encode_text(tokenize(texts))))) per label, with open_clip alone."""
    import open_clip
    import torch

    name = config.stem
    model = open_clip.create_model(name, pretrained=None)
    model.load_state_dict(torch.load(weights, weights_only=True))
    tokenizer = open_clip.get_tokenizer(name)
    rows = []
    with torch.no_grad():
        for texts in texts_of.values():
            e = model.eval().encode_text(tokenizer(texts))
            e = e / e.norm(dim=-1, keepdim=True)
            m = e.mean(0)
            rows.append((m / m.norm()).numpy())
    return np.stack(rows)


def imagenet_templates() -> list:
    from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

    return list(OPENAI_IMAGENET_TEMPLATES)


@pytest.mark.parametrize("templates", ["none", "photo", "imagenet", "file"])
def test_clip_vectors_equal_open_clip(clip_files, tmp_path: Path, templates: str) -> None:
    config, weights = clip_files
    voc = list(labelgraph.load(labelgraph.bundled_path("voc")).labels)
    names = {lab: VOC_WORDS.get(lab, lab) for lab in voc}
    fill = {"none": [lambda c: c], "photo": [lambda c: f"a photo of a {c}."], "imagenet": imagenet_templates(),
            "file": [lambda c: f"a {c} in the wild", lambda c: f"art of the {c}"]}[templates]
    spec = templates
    if templates == "file":
        spec = tmp_path / "templates.txt"
        spec.write_text("# mine\na {} in the wild\n\nart of the {}\n")
    result = run("embed", "--dataset", "voc", "--encoder", f"clip:{config}", "--pretrained", weights,
                 "--templates", spec, "--out", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    art = labelgraph.load(tmp_path / "out" / "voc2007_clip-tiny-clip-tiny-clip.npz")
    texts_of = {lab: [f(names[lab]) for f in fill] for lab in voc}
    assert list(art.labels) == voc
    np.testing.assert_allclose(art.vectors, direct(config, weights, texts_of), atol=1e-5)
    assert art.meta["texts"] == texts_of
    assert art.meta["names"]["diningtable"] == "dining table" and art.meta["names"]["tvmonitor"] == "tv monitor"


def test_clip_descriptions_join_the_mean(clip_files, tmp_path: Path) -> None:
    config, weights = clip_files
    labels = tmp_path / "labels.txt"
    labels.write_text("dog\ncat\nperson_riding_bicycle\n")
    desc = tmp_path / "desc.json"
    desc.write_text(json.dumps({"dog": ["a pet that barks", "a loyal animal"], "person_riding_bicycle": ["a cyclist"]}))
    result = run("embed", "--labels", labels, "--encoder", f"clip:{config}", "--pretrained", weights,
                 "--templates", "photo", "--descriptions", desc, "--out", tmp_path, "-q", "--json")
    assert result.exit_code == 0, result.output
    art = labelgraph.load(json.loads(result.output)["path"])
    texts_of = {"dog": ["a photo of a dog.", "a pet that barks", "a loyal animal"], "cat": ["a photo of a cat."],
                "person_riding_bicycle": ["a photo of a person riding bicycle.", "a cyclist"]}
    np.testing.assert_allclose(art.vectors, direct(config, weights, texts_of), atol=1e-5)
    assert art.meta["texts"] == texts_of
    assert art.meta["descriptions"]["sha256"] == hashlib.sha256(desc.read_bytes()).hexdigest()
    assert art.meta["weights"] == [{"file": weights.name, "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]
    assert art.meta["encoder"] == f"clip:{config}" and art.meta["model"] == "tiny-clip"
    assert art.meta["templates"]["templates"] == ["a photo of a {}."] and art.meta["dimension"] == 16


def test_library_call_and_batching(clip_files) -> None:
    """encode_labels in Python; a batch size of 7 (batches split a label's texts) gives the same rows."""
    from labelgraph.embeddings import encode_labels

    config, weights = clip_files
    big, meta = encode_labels(["dog", "cat"], f"clip:{config}", pretrained=str(weights), templates="imagenet")
    small, _ = encode_labels(["dog", "cat"], f"clip:{config}", pretrained=str(weights), templates="imagenet",
                             batch_size=7)
    np.testing.assert_allclose(big, small, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(big, axis=1), 1.0, atol=1e-6)
    assert big.dtype == np.float32 and len(meta["texts"]["dog"]) == 80


def test_two_runs_write_identical_files(clip_files, tmp_path: Path) -> None:
    config, weights = clip_files
    for out in ("a", "b"):
        result = run("embed", "--dataset", "voc", "--encoder", f"clip:{config}", "--pretrained", weights,
                     "--templates", "photo", "--out", tmp_path / out, "-q")
        assert result.exit_code == 0, result.output
    name = "voc2007_clip-tiny-clip-tiny-clip.npz"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    again = run("embed", "--dataset", "voc", "--encoder", f"clip:{config}", "--pretrained", weights,
                "--templates", "photo", "--out", tmp_path / "a")
    assert again.exit_code == 0 and "unchanged" in again.output


def test_text_embeddings_feed_the_cosine_kind(clip_files, tmp_path: Path) -> None:
    """A 16-d CLIP artifact is just another embeddings artifact: the ``cosine`` kind takes it (SPEC §2.7)."""
    from labelgraph import build_graph

    config, weights = clip_files
    assert run("embed", "--dataset", "voc", "--encoder", f"clip:{config}", "--pretrained", weights,
               "--templates", "none", "--out", tmp_path, "-q").exit_code == 0
    art = labelgraph.load(tmp_path / "voc2007_clip-tiny-clip-tiny-clip.npz")
    stats = labelgraph.load(labelgraph.bundled_path("voc"))
    graph = build_graph(stats, "cosine", raw=True, embeddings=art)
    e = art.vectors.astype(np.float64)
    expected = np.maximum(e @ e.T, 0)  # unit rows: the dot product is the cosine
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(graph.to_dense(), expected, atol=1e-5)


# -- bad input: one line, non-zero exit, nothing written ---------------------------------------------------------

def one_line_error(result, *needles: str) -> str:
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_unknown_family_lists_the_families(tmp_path: Path) -> None:
    line = one_line_error(run("embed", "--dataset", "voc", "--encoder", "glove:6B", "--out", tmp_path),
                          "glove", "clip", "sentence", "hf")
    assert not any(tmp_path.iterdir()), line


def test_unknown_clip_model(tmp_path: Path) -> None:
    one_line_error(run("embed", "--dataset", "voc", "--encoder", "clip:ViT-B-61", "--out", tmp_path),
                   "ViT-B-61", "ViT-B-16")


def test_template_line_without_braces(clip_files, tmp_path: Path) -> None:
    config, weights = clip_files
    bad = tmp_path / "t.txt"
    bad.write_text("a photo of a {}.\na photo of something\n")
    one_line_error(run("embed", "--dataset", "voc", "--encoder", f"clip:{config}", "--pretrained", weights,
                       "--templates", bad, "--out", tmp_path / "o"), f"{bad}:2", "{}")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("content, needles", [
    ({"dog": ["x"], "unicorn": ["y"], "dragon": ["z"]}, ["'unicorn'", "'dragon'", "not in the dataset"]),
    ({"dog": ["fine", 3]}, ["'dog'", "list of non-empty strings"]),
])
def test_bad_descriptions(clip_files, tmp_path: Path, content, needles) -> None:
    config, weights = clip_files
    desc = tmp_path / "d.json"
    desc.write_text(json.dumps(content))
    labels = tmp_path / "labels.txt"
    labels.write_text("dog\ncat\n")
    one_line_error(run("embed", "--labels", labels, "--encoder", f"clip:{config}", "--pretrained", weights,
                       "--descriptions", desc, "--out", tmp_path / "o"), str(desc), *needles)


def test_weights_of_another_architecture(clip_files, tmp_path: Path) -> None:
    _, weights = clip_files
    wide, _ = tiny_clip(tmp_path, name="tiny-clip-wide", width=64, heads=4)
    one_line_error(run("embed", "--dataset", "voc", "--encoder", f"clip:{wide}", "--pretrained", weights,
                       "--out", tmp_path / "o"), str(weights), "do not fit", "tiny-clip-wide")


def test_unknown_tag(clip_files, tmp_path: Path) -> None:
    one_line_error(run("embed", "--dataset", "voc", "--encoder", "clip:ViT-B-16", "--pretrained", "laion9z",
                       "--out", tmp_path), "laion9z", "openai")


def test_cuda_without_gpu(clip_files, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    config, weights = clip_files
    one_line_error(run("embed", "--dataset", "voc", "--encoder", f"clip:{config}", "--pretrained", weights,
                       "--device", "cuda", "--out", tmp_path), "--device cuda", "no CUDA GPU")


def test_cuda_runs_fp16_close_to_cpu(clip_files) -> None:
    """Where a GPU is lent: fp16 on CUDA, rows within fp16 rounding of the CPU's fp32 ones, recorded in meta."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here")
    from labelgraph.embeddings import encode_labels

    config, weights = clip_files
    cpu, _ = encode_labels(["dog", "cat", "dining table"], f"clip:{config}", pretrained=str(weights), templates="photo")
    gpu, meta = encode_labels(["dog", "cat", "dining table"], f"clip:{config}", pretrained=str(weights),
                              templates="photo", device="cuda")
    assert meta["precision"] == "fp16" and meta["device"].startswith("cuda")
    np.testing.assert_allclose(gpu, cpu, atol=5e-3)


def test_text_options_need_an_encoder(tmp_path: Path) -> None:
    one_line_error(run("embed", "--dataset", "voc", "--vectors", "x.txt", "--templates", "photo"), "need --encoder")


@pytest.mark.parametrize("encoder, args, needle", [
    ("clip:ViT-B-16", ["--pretrained", "laion2b_s34b_b88k"], "huggingface-cli download laion/CLIP-ViT-B-16-laion2B-s34B-b88K"),
    ("hf:bert-base-uncased", [], "huggingface-cli download bert-base-uncased"),
    ("sentence:sentence-transformers/all-MiniLM-L6-v2", [], "huggingface-cli download sentence-transformers/all-MiniLM-L6-v2"),
])
def test_offline_name_says_how_to_fetch(tmp_path: Path, encoder: str, args: list[str], needle: str) -> None:
    """Nothing local, no network (HF_HUB_OFFLINE=1, an empty HF_HOME): one line naming the model and the command."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "XDG_CACHE_HOME": str(tmp_path / "c")}
    env.pop("HF_HUB_CACHE", None)
    env.pop("HUGGINGFACE_HUB_CACHE", None)
    labelgraph_bin = Path(sys.executable).with_name("labelgraph")
    proc = subprocess.run([str(labelgraph_bin), "embed", "--dataset", "voc", "--encoder", encoder, *args,
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=240)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
