"""storage/ is the only package that speaks SQL: a query written anywhere else fails here.

A web console or API reuses storage's named operations; a query hidden in a CLI
command or the notifier would have to be copied instead.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_STORAGE = ("daemon", "watchers", "rules")
# A bare call (not a method such as ``str.text(`` or ``set.update(``, not a definition).
SQL_CALL = re.compile(r"(?<![\w.])(select|update|delete|insert|text)\(")
# Query builders; a session type for a transaction the caller spans is not a query.
SQL_IMPORT = re.compile(
    r"^\s*from\s+(sqlalchemy|sqlmodel)[\w.]*\s+import\s+.*"
    r"\b(select|update|delete|insert|text|col|func|or_|and_)\b"
)
SQL_EXEC = re.compile(r"\bsession\.(exec|execute|scalar|scalars)\(")


def sql_outside_storage(root: Path = ROOT) -> list[str]:
    found = []
    for package in NOT_STORAGE:
        for path in sorted((root / package).rglob("*.py")):
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.match(r"\s*(async\s+)?def\s", code):
                    continue
                if SQL_CALL.search(code) or SQL_IMPORT.search(code) or SQL_EXEC.search(code):
                    found.append(f"{path.relative_to(root)}:{lineno}: {line.strip()}")
    return found


def test_no_sql_outside_storage() -> None:
    assert sql_outside_storage() == []


def test_the_check_sees_a_query(tmp_path: Path) -> None:
    """The grep is only worth something if it catches the shapes a query takes."""
    for package in NOT_STORAGE:
        (tmp_path / package).mkdir()
    (tmp_path / "daemon" / "leak.py").write_text(
        "from sqlmodel import select\n"
        "rows = await session.exec(select(Article))\n"
        "def text(self): ...\n"
        "words.update(x)\n",
        encoding="utf-8",
    )
    assert [line.split(":")[1] for line in sql_outside_storage(tmp_path)] == ["1", "2"]
