"""The ``labelgraph`` entry point: a lazy click group, so ``--help`` imports no command's modules."""
from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from labelgraph import __version__

#: command name → (module in labelgraph_cli, attribute, one-line help shown by ``labelgraph --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "build": ("build", "build", "Build label statistics and graphs of every registered kind (--kind)."),
    "stats": ("build", "stats", "Compute label statistics only."),
    "show": ("show", "show", "Summarize any labelgraph artifact (.npz)."),
    "datasets": ("show", "datasets", "List the dataset readers: format, licence, download source."),
    "conceptnet": ("conceptnet", "conceptnet", "Fetch, ingest and query ConceptNet edges in a local store."),
    "embed": ("embed", "embed", "Label embeddings from GloVe, word2vec, gensim or Numberbatch files."),
    "sweep": ("sweep", "sweep", "Graph measures over a grid of parameters."),
    "inspect": ("inspect", "inspect", "Inspect a graph: neighbours, isolated labels, degrees."),
    "compare": ("inspect", "compare", "Compare two graphs over the same labels."),
    "export": ("inspect", "export", "Export an artifact for other tools: GraphML, GEXF, CSV, PyG, ML-GCN, SSGRL … (--to)."),
    "plot": ("inspect", "plot", "Plot a graph as a clustered heatmap and a network drawing."),
    "train": ("train", "train", "Train ML-GCN or KSSNet from labelgraph's files (needs labelgraph[train])."),
    "evaluate": ("train", "evaluate", "Evaluate a trained checkpoint (needs labelgraph[train])."),
    "ablate": ("ablate", "ablate", "Does the graph help? Graphs x seeds vs a no-GCN baseline (needs labelgraph[train])."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(f"labelgraph_cli.{module}"), attr)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; every error that reaches here becomes one line and an exit code.

        ``--debug`` (or ``LABELGRAPH_DEBUG=1``) lets the original exception and its
        traceback through instead.
        """
        from ._common import CommandError, debug_requested, error_line  # not at import: --help stays light

        try:
            result = super().invoke(ctx)
            _flush_stdout()
            return result
        except BaseException as exc:
            found = error_line(exc)
            if found is None or debug_requested(bool(ctx.params.get("debug"))):
                raise
            message, exit_code = found
            raise CommandError(message, exit_code) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _flush_stdout() -> None:
    """Write buffered output now, so that a full disk behind ``> file`` is reported like any error."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        if exc.filename is None:
            exc.filename = "<stdout>"
        raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="labelgraph")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (also: LABELGRAPH_DEBUG=1).")
def cli(verbose: int, debug: bool) -> None:
    """labelgraph: label-correlation graphs for multi-label recognition (ML-GCN, KSSNet).

    \b
    Example:
      labelgraph build --dataset coco --tau 0.4

    \b
    Exit codes: 0 success; 1 other error; 2 bad input file or option; 3 network;
    4 missing optional dependency; 5 refused by the operating system (permission,
    folder/file confusion, disk full, locked database); 6 out of memory; 130 interrupted.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")


if __name__ == "__main__":  # pragma: no cover
    cli()
