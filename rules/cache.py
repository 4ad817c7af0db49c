"""Compiled matchers cached on disk, so a restart or a second ``tingfeng match`` skips compiling.

A rules file's topics are kept too, keyed by the file's bytes: parsing 10,000 topics
of TOML takes longer than matching megabytes of text.

What compiling costs is ordering the automaton's patterns and weighing the rule terms
against jieba's dictionary (which means loading it). A :class:`MatcherPlan` keeps
those results as plain data in a JSON file named by a hash of the rules, the cache
format and jieba's dictionary file; the automaton is rebuilt from its patterns in
milliseconds. Word mode still needs the dictionary itself when it checks a hit: it
is kept too, as words and log probabilities (and the bitmap of adjacent characters
in words that settles most word checks) in a flat file that loads several times
faster than jieba builds it. Nothing is pickled or marshalled: pyahocorasick's pickles
leak, and plain JSON, text and numbers can never run code. The cache is an
optimisation only: an unreadable, stale or unwritable entry just means compiling as
if there were none.
"""

from __future__ import annotations

import array
import hashlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson

from rules.compile import Matcher, MatcherPlan, compile_rules
from rules.model import TopicRule
from rules.topics_file import load_topics, parse_topics
from rules.wordcheck import jieba_dictionary_path

FORMAT = 2
"""Bump when MatcherPlan or what it means changes: old entries are then never read."""


def cache_dir() -> Path | None:
    """``$TINGFENG_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/tingfeng``."""
    configured = os.environ.get("TINGFENG_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tingfeng"


def _dictionary_identity() -> list[object]:
    """jieba's dictionary file: path, size, mtime."""
    path = jieba_dictionary_path()
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


def _write(path: Path, chunks: list[bytes]) -> None:
    """Write atomically (a reader never sees half a file); a failure costs only speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.writelines(chunks)
            os.replace(tmp, path)
        except OSError:
            os.unlink(tmp)
    except OSError:
        return


def save_plan(directory: Path, key: str, plan: MatcherPlan) -> None:
    data = {"patterns": plan.patterns, "order": plan.order, "own_words": plan.own_words}
    _write(_path(directory, key), [orjson.dumps(data)])


def _dictionary_path(directory: Path) -> Path:
    identity = orjson.dumps([FORMAT, sys.byteorder, _dictionary_identity()])
    return directory / f"jieba-{hashlib.sha256(identity).hexdigest()[:24]}.dict"


def save_dictionary(directory: Path, logp: dict[str, float], logtotal: float, pairs: bytes) -> None:
    """Words (one per line), each distinct log probability once, an index per word, the pairs."""
    if any("\n" in word for word in logp):
        return
    values: dict[float, int] = {}
    index = array.array("I", (values.setdefault(v, len(values)) for v in logp.values()))
    header = {"words": len(logp), "values": len(values), "logtotal": logtotal, "pairs": len(pairs)}
    words = "\n".join(logp).encode()
    header["bytes"] = len(words)
    chunks = [orjson.dumps(header) + b"\n", words, array.array("d", values).tobytes()]
    _write(_dictionary_path(directory), [*chunks, index.tobytes(), pairs])


def load_dictionary(directory: Path) -> tuple[dict[str, float], float, bytes] | None:
    """What :func:`save_dictionary` wrote, equal log probabilities sharing one float."""
    try:
        data = _dictionary_path(directory).read_bytes()
        end = data.index(b"\n")
        header = orjson.loads(data[:end])
        start, count = end + 1, header["words"]
        words = data[start : start + header["bytes"]].decode().split("\n")
        start += header["bytes"]
        values = array.array("d")
        values.frombytes(data[start : start + 8 * header["values"]])
        start += 8 * header["values"]
        index = array.array("I")
        index.frombytes(data[start : start + index.itemsize * count])
        pairs = data[start + index.itemsize * count :]
        if len(words) != count or len(index) != count or len(pairs) != header["pairs"]:
            return None
        shared = values.tolist()
        logp = dict(zip(words, map(shared.__getitem__, index), strict=True))
        return logp, header["logtotal"], pairs
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def load_topics_cached(path: str | Path, directory: Path | None = None) -> list[TopicRule]:
    """:func:`rules.topics_file.load_topics`, read back from the cache when the file is unchanged.

    Only topics that parsed and validated are stored, so a cached copy raises no error
    the file itself would not; anything wrong with the cache means parsing the file.
    """
    directory = directory if directory is not None else cache_dir()
    try:
        data = Path(path).read_bytes()
    except OSError:
        return load_topics(path)  # which says why it cannot be read
    if directory is None:
        return parse_topics(data, str(path))
    entry = directory / "topics" / f"{hashlib.sha256(b'%d:' % FORMAT + data).hexdigest()}.json"
    try:
        return [
            TopicRule(name, query, mode, tuple(places), tuple(sources), min_hits, tuple(fields))
            for name, query, mode, places, sources, min_hits, fields in orjson.loads(
                entry.read_bytes()
            )
        ]
    except (OSError, ValueError, TypeError):
        pass
    rules = parse_topics(data, str(path))
    rows = [[r.name, r.query, r.mode, r.places, r.sources, r.min_hits, r.fields] for r in rules]
    _write(entry, [orjson.dumps(rows)])
    return rules


def compile_cached(
    rules: Sequence[TopicRule], directory: Path | None = None, *, defer_dictionary: bool = False
) -> Matcher:
    """:func:`compile_rules`, reusing and refreshing the plan cached for these rules."""
    directory = directory if directory is not None else cache_dir()
    if directory is None:
        return compile_rules(rules)
    key = rules_key(rules)
    plan = load_plan(directory, key)
    matcher = compile_rules(rules, plan, defer_dictionary=defer_dictionary)
    if matcher.plan != plan:
        save_plan(directory, key, matcher.plan)
    return matcher
