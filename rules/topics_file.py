"""Load ``[[topics]]`` tables (config.toml shape) from a TOML file into TopicRules.

Used by the ``match`` and ``rules`` commands; errors name the file and the key so a
user can fix the right line without reading a traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from rules.model import TopicRule

_LIST_KEYS = ("places", "sources", "fields")
_KNOWN = {"name", "query", "mode", "min_hits", "channels", *_LIST_KEYS}


class TopicsFileError(ValueError):
    """A rules file that cannot be read, parsed or compiled (message names file and key)."""


def topics_from_tables(tables: Any, where: str) -> list[TopicRule]:
    """Build TopicRules from parsed ``topics`` tables; ``where`` prefixes error messages."""
    if not isinstance(tables, list) or not tables:
        raise TopicsFileError(f"{where}: no [[topics]] tables")
    rules: list[TopicRule] = []
    for i, table in enumerate(tables):
        key = f"{where}: topics[{i}]"
        if not isinstance(table, dict):
            raise TopicsFileError(f"{key}: must be a table")
        unknown = sorted(set(table) - _KNOWN)
        if unknown:
            raise TopicsFileError(f"{key}.{unknown[0]}: unknown key")
        for name in ("name", "query"):
            if not isinstance(table.get(name), str) or not table[name].strip():
                raise TopicsFileError(f"{key}.{name}: required, a non-empty string")
        lists: dict[str, tuple[str, ...]] = {}
        for name in _LIST_KEYS:
            value = table.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TopicsFileError(f"{key}.{name}: must be a list of strings")
            lists[name] = tuple(value)
        min_hits = table.get("min_hits", 1)
        if not isinstance(min_hits, int) or isinstance(min_hits, bool):
            raise TopicsFileError(f"{key}.min_hits: must be an integer")
        rules.append(
            TopicRule(
                name=table["name"],
                query=table["query"],
                mode=table.get("mode", "word"),
                places=lists["places"],
                sources=lists["sources"],
                min_hits=min_hits,
                fields=lists["fields"] or ("title", "text"),
            )
        )
    return rules


def load_topics(path: str | Path) -> list[TopicRule]:
    """Read and validate the ``[[topics]]`` of a TOML file (queries are checked on compile)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise TopicsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_topics(data, str(path))


def parse_topics(data: bytes, where: str) -> list[TopicRule]:
    """The ``[[topics]]`` of a TOML file's bytes; ``where`` names the file in errors."""
    try:
        tables = tomllib.loads(data.decode())
    except UnicodeDecodeError as exc:
        raise TopicsFileError(f"{where}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TopicsFileError(f"{where}: not valid TOML: {exc}") from None
    return topics_from_tables(tables.get("topics"), where)
