"""Compiled matchers cached on disk, so a restart or a second ``tingfeng match`` skips compiling.

What compiling costs is ordering the automaton's patterns and weighing the rule terms
against jieba's dictionary (which means loading it). A :class:`MatcherPlan` keeps
those results as plain data in a JSON file named by a hash of the rules, the cache
format and jieba's dictionary file; the automaton is rebuilt from its patterns in
milliseconds. Nothing is pickled: pyahocorasick's pickles leak, and a JSON file in a
cache directory can never run code. The cache is an optimisation only: an unreadable,
stale or unwritable entry just means compiling as if there were none.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

from rules.compile import Matcher, MatcherPlan, compile_rules
from rules.model import TopicRule

FORMAT = 1
"""Bump when MatcherPlan or what it means changes: old entries are then never read."""


def cache_dir() -> Path | None:
    """``$TINGFENG_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/tingfeng``."""
    configured = os.environ.get("TINGFENG_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tingfeng"


def _dictionary_identity() -> list[object]:
    """jieba's dictionary file (found without importing jieba): path, size, mtime."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return []
    path = os.path.join(os.path.dirname(spec.origin), "dict.txt")
    try:
        st = os.stat(path)
    except OSError:
        return [path]
    return [path, st.st_size, st.st_mtime_ns]


def rules_key(rules: Sequence[TopicRule]) -> str:
    """A hash of everything a compiled matcher depends on."""
    payload = orjson.dumps(
        [
            FORMAT,
            _dictionary_identity(),
            [[r.name, r.query, r.mode, r.places, r.sources, r.min_hits, r.fields] for r in rules],
        ]
    )
    return hashlib.sha256(payload).hexdigest()


def _path(directory: Path, key: str) -> Path:
    return directory / "rules" / f"{key}.json"


def load_plan(directory: Path, key: str) -> MatcherPlan | None:
    try:
        data = orjson.loads(_path(directory, key).read_bytes())
        return MatcherPlan(
            tuple(data["patterns"]),
            tuple(data["order"]),
            tuple((term, lp) for term, lp in data["own_words"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_plan(directory: Path, key: str, plan: MatcherPlan) -> None:
    """Write atomically (a reader never sees half a file); a failure costs only speed."""
    path = _path(directory, key)
    data = {"patterns": plan.patterns, "order": plan.order, "own_words": plan.own_words}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(data))
        os.replace(tmp, path)
    except OSError:
        return


def compile_cached(rules: Sequence[TopicRule], directory: Path | None = None) -> Matcher:
    """:func:`compile_rules`, reusing and refreshing the plan cached for these rules."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return compile_rules(rules)
    key = rules_key(rules)
    plan = load_plan(directory, key)
    matcher = compile_rules(rules, plan)
    if matcher.plan != plan:
        save_plan(directory, key, matcher.plan)
    return matcher
