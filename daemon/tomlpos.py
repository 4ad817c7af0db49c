"""Line numbers for keys in a TOML file.

``tomllib`` gives values but no positions, and a config error that does not say
where it is wastes the user's time. This scanner maps key paths such as
``("sources", 2, "every")`` to the line that defines them; it understands the
subset of TOML config files use (tables, arrays of tables, ``key = value``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")

Path = tuple[str | int, ...]


def _split_dotted(name: str) -> list[str]:
    return [part.strip().strip("\"'") for part in name.split(".")]


def key_lines(source: str) -> dict[Path, int]:
    """Map each table, array element and key path to its 1-based line number."""
    lines: dict[Path, int] = {}
    counts: dict[Path, int] = {}
    current: Path = ()
    in_multiline: str | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        if in_multiline:
            if in_multiline in line:
                in_multiline = None
            continue
        if match := _ARRAY_TABLE.match(line):
            base = tuple(_split_dotted(match.group(1)))
            index = counts.get(base, 0)
            counts[base] = index + 1
            current = (*base, index)
            lines.setdefault(current, number)
            lines.setdefault(base, number)
        elif match := _TABLE.match(line):
            current = tuple(_split_dotted(match.group(1)))
            lines.setdefault(current, number)
        elif match := _KEY.match(line):
            path = (*current, *_split_dotted(match.group(1)))
            lines.setdefault(path, number)
            rest = line[match.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
    return lines


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return None


def format_path(path: Sequence[str | int]) -> str:
    """``("sources", 2, "every")`` → ``sources[2].every``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
