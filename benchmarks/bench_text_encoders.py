"""Texts per second of the text encoders (SPEC §3.1), and what a RAM-size vocabulary would take.

1. The tiny test models (tests/_text_models.py: a 2-layer width-32 CLIP text tower, a 2-layer hidden-32 BERT
   through ``hf:`` and ``sentence:``), encoding VOC's 20 labels × 80 ImageNet templates (1,600 texts) through
   ``encode_labels`` — the whole path: texts, tokenizing, batches, normalize, mean.
2. A model of real size with random weights: open_clip's ViT-B-16 (``pretrained=None``; its text tower is what
   runs), on a sample of ``--sample`` texts from 4,585 generated label names × the 80 templates, extrapolated to
   all 4,585 × 80 = 366,800 texts (RAM++'s tag list size).  The load time is not counted in texts/s.

    .venv/bin/python benchmarks/bench_text_encoders.py [--sample 512] [--batch-size 256] [--device cpu]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RAM_LABELS, TEMPLATES = 4585, 80


def rate(encoder, labels: list[str], templates: str, batch_size: int) -> tuple[float, float, int]:
    """Texts per wall second, texts per CPU second of this process (all threads), and the count.

    The machine is shared: the CPU-second rate is what the process would get with its threads' cores to itself."""
    from labelgraph.embeddings.text import encode_labels

    start, cpu = time.perf_counter(), time.process_time()
    _, meta = encode_labels(labels, encoder, templates=templates, batch_size=batch_size)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    count = sum(len(t) for t in meta["texts"].values())
    return count / seconds, count / cpu_seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=512, help="texts encoded by the ViT-B-16 text tower")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import open_clip
    import torch

    import labelgraph
    from labelgraph.embeddings.text import load_encoder
    from labelgraph.embeddings.text.clip import from_model
    from tests._text_models import tiny_bert, tiny_clip, tiny_sentence

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    voc = list(labelgraph.load(labelgraph.bundled_path("voc")).labels)
    figures: dict[str, object] = {"device": args.device, "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config, weights = tiny_clip(work)
        bert = tiny_bert(work / "bert")
        sentence = tiny_sentence(work / "sentence", bert)
        for spec, kw in ((f"clip:{config}", {"pretrained": str(weights)}), (f"hf:{bert}", {"pool": "mean"}),
                         (f"sentence:{sentence}", {})):
            encoder = load_encoder(spec, device=args.device, **kw)
            per_s, per_cpu_s, count = rate(encoder, voc, "imagenet", args.batch_size)
            figures[f"tiny_{spec.split(':')[0]}"] = {"texts": count, "per_s": per_s, "per_cpu_s": per_cpu_s}
            print(f"tiny {spec.split(':')[0]:8s}  {count:6d} texts  {per_s:10,.0f} texts/s wall  "
                  f"{per_cpu_s:10,.0f} texts per CPU-second")

    torch.manual_seed(0)
    start = time.perf_counter()
    net = open_clip.create_model("ViT-B-16", pretrained=None)
    encoder = from_model(net, open_clip.get_tokenizer("ViT-B-16"), 512, device=args.device,
                         info={"model": "ViT-B-16", "pretrained": None})
    load_s = time.perf_counter() - start
    names = [f"tag {i} object" for i in range(RAM_LABELS)]
    per_label = max(1, args.sample // TEMPLATES)
    rate(encoder, names[:1], "imagenet", args.batch_size)  # warm-up: first-call allocations
    per_s, per_cpu_s, count = rate(encoder, names[:per_label], "imagenet", args.batch_size)
    total = RAM_LABELS * TEMPLATES
    threads = torch.get_num_threads()
    print(f"ViT-B-16 text tower (random weights, built in {load_s:.1f} s): {count} texts, {per_s:,.1f} texts/s wall, "
          f"{per_cpu_s:,.1f} texts per CPU-second")
    print(f"RAM-size vocabulary, {RAM_LABELS} labels x {TEMPLATES} templates = {total:,} texts: "
          f"{total / per_s / 3600:,.1f} h at the wall rate; {total / (per_cpu_s * threads) / 3600:,.1f} h with "
          f"{threads} cores to itself")
    figures["vit_b_16_text"] = {"texts": count, "per_s": per_s, "per_cpu_s": per_cpu_s,
                                "ram_texts": total, "ram_hours_wall": total / per_s / 3600,
                                "ram_hours_free_cores": total / (per_cpu_s * threads) / 3600}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
