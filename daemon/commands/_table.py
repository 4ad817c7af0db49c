"""Tables for people: rich on a terminal, plain lines everywhere else.

Chinese characters take two columns on a screen; ``str.ljust`` counts them as one and
the table breaks. Both paths measure display cells (rich's ``cell_len``), so names line
up either way. Plain lines, not boxes, when stdout is a pipe or a file: scripts, tests
and ``grep`` read those.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded to ``width`` display cells (a Chinese character is two)."""
    gap = " " * max(0, width - cell_len(text))
    return gap + text if right else text + gap


def terminal(stream: TextIO | None = None) -> Console | None:
    """A rich console on ``stream`` (default stdout) when it is a terminal, else None."""
    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=False)
    return console if console.is_terminal else None


def print_table(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[str] = (),
) -> None:
    """A table on ``console``; the last column folds, the others keep to one line."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for i, header in enumerate(headers):
        last = i == len(headers) - 1
        table.add_column(
            header,
            justify="right" if header in right else "left",
            no_wrap=not last,
            overflow="fold" if last else "ellipsis",
        )
    for row in rows:
        table.add_row(*row)
    console.print(table)
