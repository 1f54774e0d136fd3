"""``labelgraph embed``: label embeddings from a word-vector file, or imported from an ML-GCN pickle."""
from __future__ import annotations

from pathlib import Path

import click

from labelgraph.api.embed import parse_aliases, vectors_stem
from labelgraph.api.labels import file_stem, label_source
from labelgraph.errors import ConfigError

from ._common import RegistryChoice, echo_json, progress_enabled

__all__ = ["embed"]

def _bundled() -> tuple[str, ...]:
    from labelgraph.bundled import bundled_names

    return bundled_names()


@click.command(name="embed")
@click.option("--dataset", type=RegistryChoice(_bundled),
              help="Take the labels (and their order) of a bundled dataset.")
@click.option("--labels", "labels_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A text file with one label a line (the row order).")
@click.option("--from", "from_artifact", type=click.Path(dir_okay=False, path_type=Path),
              help="Take the labels (and their order) of any labelgraph artifact.")
@click.option("--vectors", metavar="PATH_OR_NAME",
              help="A vector file (.txt, .txt.gz, .zip, word2vec .bin, gensim .kv) or a known name: "
                   "glove.6B.{50,100,200,300}d, glove.840B.300d, numberbatch-en-19.08 (downloaded once).")
@click.option("--format", "fmt", metavar="NAME",
              help="glove, word2vec, word2vec-binary, gensim or numberbatch (default: detected).")
@click.option("--member", metavar="NAME", help="The .zip member to read (e.g. glove.6B.300d.txt).")
@click.option("--oov", type=click.Choice(["error", "zeros", "random"]), default="error", show_default=True,
              help="What a label with no known token gets.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --oov random.")
@click.option("--alias", "alias_pairs", multiple=True, metavar="LABEL=TEXT",
              help="Look LABEL up as TEXT (repeatable); --dataset voc sets diningtable, pottedplant, tvmonitor.")
@click.option("--strict", is_flag=True, help="Check every line's field count, not only the lines parsed.")
@click.option("--import-pkl", "import_pkl", type=click.Path(dir_okay=False, path_type=Path),
              help="Import an ML-GCN *_glove_word2vec.pkl instead (rows in the order of the labels given).")
@click.option("--encoder", metavar="FAMILY:MODEL",
              help="Encode the label names with a text encoder instead (SPEC §3.1): clip:ViT-B-16, "
                   "sentence:all-MiniLM-L6-v2, hf:bert-base-uncased, or a local folder/config (labelgraph[text]).")
@click.option("--pretrained", metavar="TAG|PATH", help="clip: an open_clip weights tag (openai, laion2b_s34b_b88k) or a file.")
@click.option("--templates", metavar="none|photo|imagenet|FILE",
              help="Prompt templates, each with {} (default: imagenet for clip, none otherwise).")
@click.option("--descriptions", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON {label: [text, ...]}: more texts in each label's mean.")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda (fp16 on cuda).")
@click.option("--batch-size", type=int, default=256, show_default=True, help="Texts per forward pass.")
@click.option("--pool", type=click.Choice(["cls", "mean"]), help="hf: pooling of the last hidden states (default cls).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("embeddings"),
              show_default=True, help="Output folder.")
@click.option("--name", metavar="STEM", help="File-name stem (default: the dataset's, or the label file's name).")
@click.option("--force", is_flag=True, help="Replace an existing output file whose content would change.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def embed(dataset: str | None, labels_file: Path | None, from_artifact: Path | None, vectors: str | None,
          fmt: str | None, member: str | None, oov: str, seed: int, alias_pairs: tuple[str, ...], strict: bool,
          import_pkl: Path | None, encoder: str | None, pretrained: str | None, templates: str | None,
          descriptions: Path | None, device: str, batch_size: int, pool: str | None,
          out_dir: Path, name: str | None, force: bool, as_json: bool, quiet: bool) -> None:
    """Label embeddings: one word vector per label, read from only the label words of a vector file.

    A label's vector is the file's row for the whole label (hot_dog,
    /c/en/hot_dog), else the mean of its tokens' rows (lower-cased, split on
    space, _ and -).  Writes OUT/<stem>_<vectors>.npz (the stem is the dataset's,
    as `labelgraph build` names its files, or --name) and prints, per label, the
    key or tokens used and the tokens missing.

    \b
    Example:
      labelgraph embed --dataset coco --vectors glove.6B.300d
      labelgraph embed --labels my_labels.txt --vectors glove.6B.50d.txt.gz --oov zeros
      labelgraph embed --import-pkl coco_glove_word2vec.pkl --labels coco_labels.txt
      labelgraph embed --dataset voc --encoder clip:ViT-B-16 --pretrained openai --templates imagenet
    """
    from labelgraph.artifact import save_artifacts
    from labelgraph.files import check_stem, check_writable

    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: is a file; --out needs a folder")
    source = label_source(dataset, labels_file, from_artifact)
    labels, stem = source.labels, check_stem(name) if name is not None else source.stem
    if import_pkl is not None:
        if vectors is not None or encoder is not None:
            raise ConfigError("give one of --vectors, --encoder or --import-pkl")
        from labelgraph.embeddings import import_mlgcn_pickle

        out = check_writable(out_dir / f"{stem}_{file_stem(import_pkl.name)}.npz", force=True)  # folder checks only
        art = import_mlgcn_pickle(import_pkl, labels)
        [(_, status)] = save_artifacts([(art, out)], force=force)
        if as_json:
            echo_json({"path": str(out), "status": status, "num_labels": len(labels), "dimension": art.vectors.shape[1]})
        else:
            click.echo(f"imported {art.vectors.shape[0]} x {art.vectors.shape[1]} vectors from {import_pkl}")
            click.echo(f"wrote {out}" if status != "unchanged" else f"{out} unchanged")
        return
    if encoder is not None:
        if vectors is not None:
            raise ConfigError("give one of --vectors, --encoder or --import-pkl")
        from labelgraph.embeddings.text import encode_artifact, encoder_stem

        out = check_writable(out_dir / f"{stem}_{encoder_stem(encoder, pretrained)}.npz", force=True)
        art = encode_artifact(labels, encoder, pretrained=pretrained, templates=templates, descriptions=descriptions,
                              dataset=dataset, aliases=parse_aliases(dataset, alias_pairs), device=device,
                              batch_size=batch_size, pool=pool, progress=progress_enabled(quiet))
        [(_, status)] = save_artifacts([(art, out)], force=force)
        if as_json:
            echo_json({"path": str(out), "status": status, "num_labels": len(labels), "encoder": encoder,
                       "dimension": art.vectors.shape[1], "names": art.meta["names"]})
        else:
            renamed = {k: v for k, v in art.meta["names"].items() if k != v}
            click.echo(f"{len(labels)} labels x {art.vectors.shape[1]} from {encoder}"
                       + (f"; names: {', '.join(f'{k} -> {v}' for k, v in renamed.items())}" if renamed else ""))
            click.echo(f"wrote {out}" if status != "unchanged" else f"{out} unchanged")
        return
    if any(v is not None for v in (pretrained, templates, descriptions, pool)) or device != "cpu" or batch_size != 256:
        raise ConfigError("--pretrained, --templates, --descriptions, --device, --batch-size and --pool need --encoder")
    if vectors is None:
        raise ConfigError("--vectors PATH_OR_NAME is required (or --encoder FAMILY:MODEL, or --import-pkl FILE)")
    from labelgraph.embeddings import EmbeddingReport, embed_artifact, get_format

    if fmt is not None:
        get_format(fmt)
    out = check_writable(out_dir / f"{stem}_{vectors_stem(vectors, member)}.npz", force=True)  # folder checks only
    art = embed_artifact(labels, vectors, format=fmt, oov=oov, seed=seed, progress=progress_enabled(quiet),
                         member=member, aliases=parse_aliases(dataset, alias_pairs), strict=strict)
    [(_, status)] = save_artifacts([(art, out)], force=force)
    if as_json:
        echo_json({"path": str(out), "status": status, "num_labels": len(labels), **{k: art.meta[k] for k in ("source", "format", "dimension", "oov", "seed")},
                   "report": art.meta["report"]})
        return
    click.echo(EmbeddingReport.from_dict(art.meta["report"]).table())
    click.echo(f"wrote {out}" if status != "unchanged" else f"{out} unchanged")

