"""Convert a TrendRadar ``frequency_words.txt`` into tingfeng ``[[topics]]``.

People move to tingfeng with a keyword file they have tuned for months, so the
import has to mean what TrendRadar (6.x) means, construct by construct:

* groups are separated by an empty line (the text is split on ``"\\n\\n"``: a line
  holding only spaces does *not* separate groups); lines starting with ``#`` are
  comments;
* in a group, plain lines are alternatives, ``+word`` lines are all required,
  ``!word`` lines exclude a headline from **every** group (a group of ``!`` lines
  only is a global filter), ``@N`` caps how many headlines the group shows;
* a word may be ``/regex/flags`` (always case-insensitive) and may carry a display
  name, ``word => 名字``; ``[别名]`` as a group's first line names the group;
* ``[GLOBAL_FILTER]`` / ``[WORD_GROUPS]`` at the start of a block switch sections;
  global-filter lines are literal text (``!``/``+``/``@`` lines there are ignored).

TrendRadar compares lower-cased headlines by substring, so every topic is
``mode = "substring"`` over ``fields = ["title"]``. What cannot be carried over
(display limits, first-group-only filing, regexes RE2 refuses, ...) comes back as
notes — comments in the TOML and lines on stderr — never silently dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from rules.query import QuerySyntaxError, parse_query
from rules.regexes import RegexError, compile_regex

_SECTIONS = ("GLOBAL_FILTER", "WORD_GROUPS")
_REGEX_LINE = re.compile(r"^/(.+)/[a-z]*$")
_DISPLAY_SPLIT = re.compile(r"\s*=>\s*")
_UNICODE_CLASSES = re.compile(r"\\[bBwW]")
_ALL_HEADLINES = "全部新闻"
"""The name TrendRadar gives its stand-in group when a file has no word groups."""


@dataclass(frozen=True)
class _Word:
    """One keyword as TrendRadar reads it: literal text or a regex, maybe a display name."""

    text: str  # the literal (as written) or the regex pattern (without slashes and flags)
    regex: bool
    display: str | None
    line: int

    @property
    def shown(self) -> str:
        """How TrendRadar shows the word in a group's name."""
        return self.display or self.text


@dataclass
class _Group:
    line: int
    alias: str = ""
    normal: list[_Word] = field(default_factory=list)
    required: list[_Word] = field(default_factory=list)
    limit: int = 0
    limit_line: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """TrendRadar's heading: the alias, else each word's display name or text."""
        return self.alias or " / ".join(w.shown for w in [*self.normal, *self.required])


@dataclass
class _File:
    groups: list[_Group] = field(default_factory=list)
    filters: list[_Word] = field(default_factory=list)  # ! words, from every group
    global_filters: list[_Word] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _parse_word(raw: str, line: int, where: str, notes: list[str]) -> _Word:
    """``word``, ``/re/flags``, either with ``=> display name``, as TrendRadar splits them."""
    display = None
    config = raw.strip()
    if "=>" in raw:
        left, right = _DISPLAY_SPLIT.split(raw, maxsplit=1)
        config = left.strip()
        display = right.strip() or None
    found = _REGEX_LINE.match(config)
    if found:
        pattern = found.group(1)
        try:
            re.compile(pattern)
        except re.error as exc:
            notes.append(
                f"{where}: /{pattern}/ is not a valid regex ({exc}); TrendRadar then looks "
                f"for the literal text {config!r}, and so does this topic"
            )
        else:
            return _Word(pattern, True, display, line)
    return _Word(config, False, display, line)


def _split_blocks(text: str, source: str, notes: list[str]) -> list[list[tuple[int, str]]]:
    """Blocks as TrendRadar cuts them: on ``"\\n\\n"``, then stripped non-comment lines.

    Each block is [(line number, stripped line)]; blocks with no such line are left out.
    """
    blocks = []
    lineno = 1
    for chunk in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        lines = []
        for offset, raw in enumerate(chunk.split("\n")):
            line = raw.strip()
            if line and not line.startswith("#"):
                lines.append((lineno + offset, line))
            elif raw and not line and lines:
                notes.append(
                    f"{source}:{lineno + offset}: this line holds only spaces, which does "
                    "not end a group in TrendRadar (only an empty line does): the lines "
                    "around it stay one group, here too"
                )
        if lines:
            blocks.append(lines)
        lineno += chunk.count("\n") + 2
    return blocks


def _bracketed(line: str) -> bool:
    return line.startswith("[") and line.endswith("]")


def _parse(text: str, source: str) -> _File:
    out = _File()
    section = "WORD_GROUPS"
    for lines in _split_blocks(text, source, out.notes):
        head = lines[0][1]
        if _bracketed(head) and head[1:-1].upper() in _SECTIONS:
            section = head[1:-1].upper()
            lines = lines[1:]
        for lineno, line in lines:
            if _bracketed(line) and line[1:-1].strip().upper() in _SECTIONS:
                out.notes.append(
                    f"{source}:{lineno}: {line} is not read as a section: TrendRadar only "
                    "takes [GLOBAL_FILTER]/[WORD_GROUPS] as the first line of a block (an "
                    "empty line before it), so it is a keyword there, and here"
                )
        if section == "GLOBAL_FILTER":
            _global_filter(lines, source, out)
        elif lines:
            _word_group(lines, source, out)
    return out


def _global_filter(lines: list[tuple[int, str]], source: str, out: _File) -> None:
    for lineno, line in lines:
        where = f"{source}:{lineno}"
        if line.startswith(("!", "+", "@")):
            out.notes.append(
                f"{where}: {line!r} ignored: TrendRadar ignores lines starting with "
                "!, + or @ under [GLOBAL_FILTER] (write the word without the prefix)"
            )
            continue
        if _REGEX_LINE.match(line) or "=>" in line:
            out.notes.append(
                f"{where}: {line!r} under [GLOBAL_FILTER] is literal text in TrendRadar "
                "6.10 (no regex, no display name), and so it is here; put it in a group "
                "as !/…/ to exclude by regex"
            )
        out.global_filters.append(_Word(line, False, None, lineno))


def _word_group(lines: list[tuple[int, str]], source: str, out: _File) -> None:
    group = _Group(lines[0][0])
    head = lines[0][1]
    if _bracketed(head) and head[1:-1].strip().upper() not in _SECTIONS:
        group.alias = head[1:-1].strip()
        lines = lines[1:]
    own_exclusions = 0
    for lineno, line in lines:
        where = f"{source}:{lineno}"
        if line.startswith("@"):
            try:
                limit = int(line[1:])
            except ValueError:
                limit = 0
            if limit > 0:
                group.limit, group.limit_line = limit, lineno
            else:
                group.notes.append(
                    f"{where}: {line!r} ignored: TrendRadar only reads @ followed by a "
                    "positive whole number (a display limit), nothing else"
                )
        elif line.startswith("!"):
            out.filters.append(_parse_word(line[1:], lineno, where, group.notes))
            own_exclusions += 1
        elif line.startswith("+"):
            group.required.append(_parse_word(line[1:], lineno, where, group.notes))
        else:
            group.normal.append(_parse_word(line, lineno, where, group.notes))
    if group.normal or group.required:
        out.groups.append(group)
        return
    out.notes += group.notes
    if own_exclusions:
        out.notes.append(
            f"{source}:{group.line}: a group of ! words only is a global filter in "
            "TrendRadar 6.x; its words exclude headlines from every topic here"
        )
    else:
        out.notes.append(
            f"{source}:{group.line}: a group with no words to look for; TrendRadar "
            "ignores it, and so does this import"
        )


def _phrase(text: str) -> str:
    """A query term for literal ``text`` (quoted; a regex when it holds both quote forms)."""
    if '"' not in text:
        return json.dumps(text, ensure_ascii=False).replace('\\"', '"')
    if "”" not in text:
        return f"“{text}”"
    return "/" + _slashes(re.escape(text)) + "/"


def _slashes(pattern: str) -> str:
    """``pattern`` with unescaped ``/`` escaped, so the query tokenizer finds its end."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append("\\/" if ch == "/" else ch)
        i += 1
    return "".join(out)


def _term(word: _Word) -> str:
    return "/" + _slashes(word.text) + "/" if word.regex else _phrase(word.text)


def _carried(word: _Word, where: str, notes: list[str]) -> bool:
    """False for a regex RE2 cannot run (look-around, back-references): it is refused."""
    if not word.regex:
        return True
    try:
        compile_regex(word.text)
    except RegexError as exc:
        notes.append(f"{where}: /{word.text}/ cannot be carried over: {exc}")
        return False
    if _UNICODE_CLASSES.search(word.text):
        notes.append(
            f"{where}: /{word.text}/ uses \\b or \\w, which RE2 reads as ASCII-only: "
            "next to a Chinese character it finds a word boundary where TrendRadar "
            "(Python) does not, so this topic can match a few more headlines"
        )
    return True


def _exclusion_terms(words: list[_Word], source: str, notes: list[str]) -> list[str]:
    """``-term`` for each word, in file order, without repeats."""
    terms: list[str] = []
    for word in words:
        where = f"{source}:{word.line}"
        if not word.text:
            notes.append(
                f"{where}: an empty ! word is in every headline, so TrendRadar shows "
                "nothing at all; not carried over"
            )
            continue
        if _carried(word, where, notes):
            terms.append("-" + _term(word))
        else:
            notes.append(f"{where}: headlines only it excluded will match every topic")
    return list(dict.fromkeys(terms))


def _query(group: _Group, exclusions: list[str], source: str) -> str | None:
    """The group's query, or None when a required regex cannot be carried (group skipped)."""
    parts: list[str] = []
    alternatives: list[str] = []
    anything = False  # an empty plain word: TrendRadar finds "" in every headline
    for word in group.normal:
        where = f"{source}:{word.line}"
        if not word.text:
            anything = True
        elif _carried(word, where, group.notes):
            alternatives.append(_term(word))
        else:
            group.notes.append(f"{where}: headlines only it would catch are missed")
    if group.normal and not anything:
        if not alternatives:
            return None
        parts.append(
            alternatives[0] if len(alternatives) == 1 else f"({' OR '.join(alternatives)})"
        )
    for word in group.required:
        where = f"{source}:{word.line}"
        if not word.text:
            continue
        if not _carried(word, where, group.notes):
            return None
        parts.append(_term(word))
    if anything:
        group.notes.append(
            f"{source}:{group.line}: the group has a plain line with no word (e.g. "
            "`=> 名字` alone), which every headline contains in TrendRadar, so it needs "
            "only its + words" + (" — here it matches every headline" if not parts else "")
        )
    return " ".join([*(parts or ["*"]), *exclusions])


def _toml_string(value: str) -> str:
    """A TOML literal string when possible: queries full of double quotes stay readable."""
    if "'" not in value and value.isprintable():
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


def _header(source: str) -> list[str]:
    return [
        f"# converted from {source} by `tingfeng rules import-trendradar`",
        "# One topic per TrendRadar word group, in file order, named as TrendRadar shows",
        '# the group. Topics look at headlines only, by substring (mode = "substring",',
        '# fields = ["title"]), like TrendRadar.',
        "# Differences: TrendRadar files each headline under its FIRST matching group only;",
        "# tingfeng alerts every topic a headline matches. `!` words and [GLOBAL_FILTER]",
        "# words exclude a headline from every group in TrendRadar 6.x: here each topic",
        "# carries them as exclusions. Text is normalised (full-width, case, traditional",
        "# -> simplified), so a few headlines TrendRadar missed may match.",
    ]


def convert(text: str, source: str = "frequency_words.txt") -> tuple[str, list[str]]:
    """Return (TOML with ``[[topics]]``, notes on what was not carried over as-is)."""
    file = _parse(text, source)
    notes = file.notes
    out = _header(source)
    groups = file.groups
    if groups:
        exclusions = _exclusion_terms([*file.global_filters, *file.filters], source, notes)
    else:
        notes.append(
            f"{source}: no word groups: TrendRadar then shows every headline except "
            f'[GLOBAL_FILTER] ones (! words are dropped) as "{_ALL_HEADLINES}"; '
            "converted to one topic `*`"
        )
        groups = [_Group(1, alias=_ALL_HEADLINES)]
        exclusions = _exclusion_terms(file.global_filters, source, notes)
    names: dict[str, int] = {}
    for group in groups:
        where = f"{source}:{group.line}"
        query = _query(group, exclusions, source)
        if query is None:
            group.notes.append(f"{where}: group skipped: a word it needs cannot be carried over")
        else:
            try:
                parse_query(query)
            except QuerySyntaxError as exc:
                group.notes.append(f"{where}: cannot convert ({exc.message}); skipped")
                query = None
        name = group.name or f"group at line {group.line}"
        if query is not None:
            names[name] = names.get(name, 0) + 1
            if names[name] > 1:
                renamed = f"{name} ({names[name]})"
                group.notes.append(
                    f'{where}: another group is also named "{name}"; renamed "{renamed}" '
                    "(topic names must be unique)"
                )
                name = renamed
        if group.limit:
            group.notes.append(
                f"{source}:{group.limit_line}: @{group.limit}: TrendRadar shows at most "
                f"{group.limit} headlines of this group; tingfeng alerts on every match "
                "(no display limit)"
            )
        notes += group.notes
        out.append("")
        out += [f"# {note}" for note in group.notes]
        if query is None:
            continue
        out += [
            "[[topics]]",
            f"name = {_toml_string(name)}",
            f"query = {_toml_string(query)}",
            'mode = "substring"',
            'fields = ["title"]',
        ]
    return "\n".join(out) + "\n", notes
