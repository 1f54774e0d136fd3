"""``labelgraph show`` (summary of any artifact) and ``labelgraph datasets`` (the reader registry): :mod:`labelgraph.api.show`."""
from __future__ import annotations

from typing import Any

import click

from ._common import echo_json, format_table


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def show(file: str, as_json: bool) -> None:
    """Summarize any labelgraph artifact: kind, size, parameters, provenance.

    \b
    Example:
      labelgraph show graphs/coco2014_reweighted_t0.4_p0.2.npz
    """
    from labelgraph.api.show import summarize

    info = summarize(file)
    if as_json:
        echo_json(info)
        return
    click.echo(f"{file}")
    for key, value in info.items():
        if key == "meta":
            continue
        if isinstance(value, list):
            value = ", ".join(f"{a} ({b})" for a, b in value)
        click.echo(f"  {key:<22} {value}")
    for key, value in info["meta"].items():
        if isinstance(value, (dict, list)):
            value = _short(value)
        click.echo(f"  meta.{key:<17} {value}")


def _short(value: Any, width: int = 90) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
def datasets(as_json: bool) -> None:
    """List the dataset readers: format, licence, download source and bundled statistics.

    \b
    Example:
      labelgraph datasets
    """
    from labelgraph.api.show import dataset_rows

    rows = dataset_rows()
    if as_json:
        echo_json(rows)
        return
    headers = ["name", "format", "download", "bundled", "licence"]
    click.echo(format_table(headers, [[r[h] for h in headers] for r in rows]))
