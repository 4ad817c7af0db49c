"""``tingfeng users``: accounts made, changed and disabled from the shell, with one-line
errors; the password never appears in output and logs the user in afterwards."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import cli, run_cli
from tests.web_support import console_server, log_in


def config_in(tmp_path: Path) -> str:
    # Not config.toml: console_server writes that one for the server.
    path = tmp_path / "cli.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/console.db"\n', encoding="utf-8")
    return str(path)


def test_add_list_disable_enable(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    added = cli("users", "add", "admin", "--admin", "--config", config, stdin="s3cret-pass\n")
    assert added.code == 0, added.err
    assert added.out == "added admin admin\n"
    assert "s3cret-pass" not in added.out + added.err
    assert cli("users", "add", "张三", "--config", config, stdin="pw-of-zhang\n").code == 0

    listed = cli("users", "list", "--config", config)
    lines = listed.out.splitlines()
    assert lines[0].split() == ["name", "role", "state", "added"]
    assert lines[1].split()[:3] == ["admin", "admin", "active"]
    assert lines[2].split()[:3] == ["张三", "staff", "active"]

    assert cli("users", "disable", "张三", "--config", config).out.startswith("disabled 张三")
    assert "disabled" in cli("users", "list", "--config", config).out.splitlines()[2]
    assert cli("users", "enable", "张三", "--config", config).out == "enabled 张三\n"


def test_mistakes_are_one_line(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    assert cli("users", "add", "a", "--config", config, stdin="pw1234\n").code == 0
    cases = [
        (("add", "a"), "pw\n", 'user "a" already exists'),
        (("add", "b"), "\n", "empty password; nothing changed"),
        (("add", "b"), "", "empty password; nothing changed"),
        (("add", "x" * 65), "pw\n", "user name is too long (65 characters, at most 64)"),
        (("add", "  "), "pw\n", "user name is empty"),
        (("passwd", "nobody"), "pw\n", 'no user "nobody"'),
        (("disable", "nobody"), "", 'no user "nobody"'),
    ]
    for args, stdin, message in cases:
        result = cli("users", *args, "--config", config, stdin=stdin)
        assert result.code == 2, (args, result)
        assert result.err.startswith(f"tingfeng: {message}"), (args, result.err)
        assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert cli("users", "add", "x" * 64, "--config", config, stdin="pw\n").code == 0


def test_empty_list_says_how_to_add(tmp_path: Path) -> None:
    result = cli("users", "list", "--config", config_in(tmp_path))
    assert result.code == 0 and result.out == ""
    assert "tingfeng users add NAME --admin" in result.err


async def test_passwd_and_disable_end_sessions_and_take_effect(tmp_path: Path) -> None:
    config = config_in(tmp_path)
    assert (await run_cli("users", "add", "li", "--config", config, stdin="old-pass\n")).code == 0
    # The console opens the same SQLite file the CLI writes.
    async with console_server(tmp_path) as client:
        await log_in(client, "li", "old-pass")
        assert (await client.get("/", allow_redirects=False)).status == 200

        changed = await run_cli("users", "passwd", "li", "--config", config, stdin="new-pass\n")
        assert changed.out == "password of li changed; its sessions ended\n", changed.err
        assert (await client.get("/", allow_redirects=False)).status == 302
        await log_in(client, "li", "new-pass")

        assert (await run_cli("users", "disable", "li", "--config", config)).code == 0
        assert (await client.get("/", allow_redirects=False)).status == 302
