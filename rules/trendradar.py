"""Convert a TrendRadar ``frequency_words.txt`` into tingfeng ``[[topics]]``.

TrendRadar matches headlines by case-insensitive substring. In a group (blank-line
separated) plain lines are alternatives, ``+word`` lines are all required, ``!word``
lines exclude; ``/regex/`` lines are alternatives written as regexes, ``=> name``
names the group and ``@N`` caps how many headlines it shows. Words under
``[GLOBAL_FILTER]`` exclude a headline from every group. Converted topics use
``mode = "substring"`` and ``fields = ["title"]`` so they match the same headlines;
the notes returned say where TrendRadar's behaviour is ambiguous or differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rules.query import QuerySyntaxError, parse_query
from rules.regexes import RegexError, compile_regex


@dataclass
class _Group:
    line: int
    words: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    name: str = ""
    limit: int | None = None


def _term(word: str) -> str:
    """A query term matching ``word`` literally: a phrase, or a /regex/ passed through."""
    if len(word) > 2 and word.startswith("/") and word.endswith("/"):
        return word
    if '"' in word:
        import re2

        return "/" + re2.escape(word).replace("/", "\\/") + "/"
    return json.dumps(word, ensure_ascii=False)


def _parse(text: str) -> tuple[list[_Group], list[str], list[str]]:
    groups: list[_Group] = []
    global_filter: list[str] = []
    notes: list[str] = []
    section = "WORD_GROUPS"
    current: _Group | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().upper()
            current = None
            continue
        if not line:
            current = None
            continue
        if section == "GLOBAL_FILTER":
            global_filter.append(line.lstrip("!"))
            continue
        if current is None:
            current = _Group(lineno)
            groups.append(current)
        if line.startswith("=>"):
            current.name = line[2:].strip()
        elif line.startswith("@") and line[1:].strip().isdigit():
            current.limit = int(line[1:].strip())
        elif line.startswith("+") and len(line) > 1:
            current.required.append(line[1:].strip())
        elif line.startswith("!") and len(line) > 1:
            current.excluded.append(line[1:].strip())
        else:
            current.words.append(line)
    return groups, global_filter, notes


def convert(text: str, source: str = "frequency_words.txt") -> tuple[str, list[str]]:
    """Return (TOML with ``[[topics]]``, notes about ambiguities) for a keyword file."""
    groups, global_filter, notes = _parse(text)
    out = [
        f"# converted from {source} by `tingfeng rules import-trendradar`",
        "# headline-only substring topics: they match what TrendRadar matched",
    ]
    if global_filter:
        notes.append(
            f"[GLOBAL_FILTER] ({len(global_filter)} words) is added as exclusions "
            "to every topic; tingfeng has no global filter, exclusions are per topic"
        )
    names: dict[str, int] = {}
    for group in groups:
        where = f"{source}:{group.line}"
        positive = group.words or group.required
        if not positive:
            notes.append(
                f"{where}: group has only ! words; TrendRadar's meaning is unclear "
                "(#394: some versions match nothing, users expect 'everything "
                "except'); skipped — write `* -WORD` yourself if you want the latter"
            )
            continue
        for word in group.words + group.required:
            if word.startswith("/") and word.endswith("/") and len(word) > 2:
                try:
                    compile_regex(word[1:-1])
                except RegexError as exc:
                    notes.append(f"{where}: {word} {exc}; rewrite it without that construct")
        parts = []
        if group.words:
            alts = [_term(w) for w in group.words]
            parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
        parts += [_term(w) for w in group.required]
        parts += ["-" + _term(w) for w in [*group.excluded, *global_filter]]
        query = " ".join(parts)
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            notes.append(f"{where}: cannot convert ({exc.message}); skipped")
            continue
        name = group.name or " ".join(w.strip("/") for w in positive)
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            renamed = f"{name} ({names[name]})"
            notes.append(f'{where}: duplicate group name "{name}", renamed "{renamed}"')
            name = renamed
        if group.excluded:
            notes.append(
                f"{where}: ! words exclude only within this group here; older "
                "TrendRadar versions applied them to every group — move them to "
                "[GLOBAL_FILTER] if you relied on that"
            )
        out.append("")
        if group.limit is not None:
            out.append(
                f"# TrendRadar showed at most {group.limit} headlines (@{group.limit}); "
                "tingfeng alerts on every match"
            )
        out += [
            "[[topics]]",
            f"name = {json.dumps(name, ensure_ascii=False)}",
            f"query = {json.dumps(query, ensure_ascii=False)}",
            'mode = "substring"',
            'fields = ["title"]',
        ]
    if any(w.startswith("/") for g in groups for w in g.words + g.required):
        notes.append(
            "regexes run on RE2 (linear time) over normalised text: full-width "
            "characters are half-width and letters lower-case, unlike TrendRadar"
        )
    notes.append(
        "text is normalised (full-width, case, traditional→simplified), so a few "
        "headlines TrendRadar missed may match too"
    )
    return "\n".join(out) + "\n", notes
