"""What every command shares: one-line errors, JSON output, tables, the progress switch."""
from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable, Iterable, Sequence, TypeVar

import click

from labelgraph.errors import LabelGraphError

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """A library error shown as one line; the exit code comes from the error class."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def handle_errors(func: F) -> F:
    """Turn :class:`LabelGraphError` (and a missing file) into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LabelGraphError as exc:
            raise CommandError(str(exc), getattr(exc, "exit_code", 1)) from None
        except FileNotFoundError as exc:
            raise CommandError(f"{exc.filename}: no such file", 2) from None
        except KeyboardInterrupt:
            raise CommandError("interrupted", 130) from None

    return wrapper  # type: ignore[return-value]


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain aligned text table (numbers right-aligned).

    Examples
    --------
    >>> print(format_table(["a", "b"], [[1, "x"], [22, "yy"]]))
     a  b
    --  --
     1  x
    22  yy
    """
    rows = [["" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in rows) and bool(rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def progress_enabled(quiet: bool) -> bool:
    """Progress bars go to stderr when it is a terminal and ``--quiet`` is off."""
    return not quiet and sys.stderr.isatty()
