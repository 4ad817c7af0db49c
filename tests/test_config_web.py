"""The ``[web]`` section: mistakes are one line naming file, line and key; the SMTP URL
stays secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import parse_config
from daemon.errors import UserError
from daemon.redaction import scrub

WEB = """\
[daemon]
timezone = "Asia/Shanghai"

[web]
listen = "127.0.0.1:8750"
public_url = "https://tingfeng.example.cn/"
email_url = "mailtos://bot:SMTPpass789@smtp.example.cn?from=tingfeng@example.cn"
session_days = 7
"""


def error_for(text: str) -> str:
    with pytest.raises(UserError) as info:
        parse_config(text, Path("config.toml"))
    return str(info.value)


def test_web_section_loads() -> None:
    web = parse_config(WEB, Path("config.toml")).web
    assert web.host_port() == ("127.0.0.1", 8750)
    assert web.public_url == "https://tingfeng.example.cn"
    assert web.session_days == 7


def test_without_web_section_there_is_no_console() -> None:
    web = parse_config("", Path("config.toml")).web
    assert web.listen is None and web.email_url is None
    # ``tingfeng web`` without a listen address uses the documented default.
    assert web.host_port() == ("127.0.0.1", 8750)


def test_ipv6_listen_address() -> None:
    web = parse_config(WEB.replace("127.0.0.1:8750", "[::1]:9000"), Path("config.toml")).web
    assert web.host_port() == ("::1", 9000)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('listen = "127.0.0.1:8750"', 'listen = "127.0.0.1"'),
            'config.toml:5 web.listen: "127.0.0.1" is not host:port (try "127.0.0.1:8750")',
        ),
        (
            ('listen = "127.0.0.1:8750"', 'listen = "127.0.0.1:99999"'),
            'config.toml:5 web.listen: "127.0.0.1:99999" is not host:port',
        ),
        (
            ('public_url = "https://tingfeng.example.cn/"', 'public_url = "tingfeng.example.cn"'),
            'config.toml:6 web.public_url: "tingfeng.example.cn" is not an http(s) URL',
        ),
        (
            ("session_days = 7", "session_days = 0"),
            "config.toml:8 web.session_days:",
        ),
        (
            ("session_days = 7", 'session_days = 7\ncolour = "red"'),
            "config.toml:9 web.colour: unknown key",
        ),
        (
            (
                "mailtos://bot:SMTPpass789@smtp.example.cn?from=tingfeng@example.cn",
                "json://bot:SMTPpass789@hooks.example.cn",
            ),
            "config.toml:7 web.email_url: must be an Apprise mailto:// or mailtos:// URL",
        ),
    ],
)
def test_web_mistakes_name_file_line_and_key(change: tuple[str, str], expected: str) -> None:
    message = error_for(WEB.replace(*change, 1))
    assert message.startswith(expected), message
    assert "SMTPpass789" not in message


def test_email_url_is_secret() -> None:
    config = parse_config(WEB, Path("config.toml"))
    assert "SMTPpass789" not in repr(config)
    assert any("SMTPpass789" in s for s in config.secrets())
    # A send error quoting the URL or just its password shows neither.
    assert "SMTPpass789" not in scrub("smtp login failed for bot:SMTPpass789@smtp.example.cn")
