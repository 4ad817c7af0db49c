"""Config mistakes become one line naming file, line and key — never a traceback or a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import parse_config
from daemon.errors import UserError
from tests.cli_runner import cli

GOOD = """\
[storage]
url = "sqlite:///data/t.db"

[[sources]]
name = "a"
kind = "feed"
url = "http://127.0.0.1/feed.xml"
every = "30m"

[[sources]]
name = "b"
kind = "html"
url = "http://127.0.0.1/list.html"
cron = "0 6-22 * * *"

[[topics]]
name = "燃气"
query = "液化石油气 OR 液化气"
channels = ["chat"]

[[channels]]
name = "chat"
url = "json://127.0.0.1:9999/hook?token=SECRET123456"
"""


def error_for(text: str, name: str = "config.toml") -> str:
    with pytest.raises(UserError) as info:
        parse_config(text, Path(name))
    message = str(info.value)
    assert "\n" not in message.split("\n")[0]
    return message


def test_good_config_loads_with_units_and_defaults() -> None:
    config = parse_config(GOOD, Path("config.toml"))
    assert [s.name for s in config.sources] == ["a", "b"]
    assert config.sources[0].every == 1800
    assert config.fetch.per_host_delay == 1.0 and config.fetch.max_bytes == 10_000_000
    assert config.daemon.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('every = "30m"', 'every = "30x"'),
            'config.toml:8 sources[0].every: "30x" is not a duration',
        ),
        (('kind = "html"', 'kind = "rss"'), "config.toml:12 sources[1].kind: must be"),
        (
            ('every = "30m"', 'every = "30m"\ncolour = "red"'),
            "config.toml:9 sources[0].colour: unknown key",
        ),
        (('name = "b"', 'name = "a"'), 'config.toml:11 sources[1].name: duplicate name "a"'),
        (
            ('channels = ["chat"]', 'channels = ["nope"]'),
            'config.toml:19 topics[0].channels[0]: unknown channel "nope"',
        ),
        (('cron = "0 6-22 * * *"', 'cron = "61 * * * *"'), "config.toml:14 sources[1].cron:"),
        (
            ('url = "http://127.0.0.1/feed.xml"\n', ""),
            "config.toml:4 sources[0].url: required key is missing",
        ),
        (('kind = "html"\n', ""), "config.toml:10 sources[1].kind: required key is missing"),
        # Each kind's own keys exist only on that kind.
        (
            ('every = "30m"', 'every = "30m"\nselectors = { item = "li a" }'),
            "config.toml:9 sources[0].selectors: unknown key",
        ),
        (
            ('cron = "0 6-22 * * *"', 'cron = "0 6-22 * * *"\ncatchup_days = 3'),
            "config.toml:15 sources[1].catchup_days: unknown key",
        ),
        (
            ('cron = "0 6-22 * * *"', 'cron = "0 6-22 * * *"\nselectors = { colour = "red" }'),
            "config.toml:15 sources[1].selectors.colour: unknown key",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(change: tuple[str, str], expected: str) -> None:
    assert error_for(GOOD.replace(*change, 1)).startswith(expected)


def test_each_kind_gets_its_own_settings() -> None:
    text = GOOD.replace('cron = "0 6-22 * * *"', 'selectors = { item = "li a" }')
    text += '[[sources]]\nname = "p"\nkind = "epaper"\nurl = "http://127.0.0.1/"\n'
    text += "catchup_days = 3\n"
    feed, html, paper = parse_config(text, Path("config.toml")).sources
    assert type(feed).__name__ == "FeedSource" and not hasattr(feed, "selectors")
    assert html.selectors.item == "li a"  # type: ignore[attr-defined]
    assert paper.catchup_days == 3  # type: ignore[attr-defined]


def test_malformed_toml_names_the_line() -> None:
    assert error_for(GOOD.replace('name = "b"', 'name = "b'), "x.toml").startswith(
        "x.toml:11: invalid TOML"
    )


def test_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_TEST_HOOK", raising=False)
    text = GOOD.replace(
        'url = "json://127.0.0.1:9999/hook?token=SECRET123456"', 'url = "${TF_TEST_HOOK}"'
    )
    assert error_for(text) == (
        "config.toml:23 channels[0].url: environment variable TF_TEST_HOOK is not set"
    )
    monkeypatch.setenv("TF_TEST_HOOK", "json://127.0.0.1:1/x")
    assert (
        parse_config(text, Path("c.toml")).channels[0].url.get_secret_value()
        == "json://127.0.0.1:1/x"
    )


def test_invalid_apprise_url_names_channel_not_secret() -> None:
    text = GOOD.replace(
        "json://127.0.0.1:9999/hook?token=SECRET123456", "nosuchservice://SECRET123456@x"
    )
    message = error_for(text)
    assert message.startswith('config.toml:23 channels[0].url: channel "chat"')
    assert "SECRET123456" not in message


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:9/hook",
        "json://",
        "mailtos://user:pass@example.com?to=a@example.com,b@example.com",
        "mailto://",
        "wecombot://abcdef123456",
        "wecombot://",
        "dingtalk://token123456",
        "tgram://bad",
        "tgram://123456789:abcdefg_hijklmnopqrstuvwxyz123456/12345",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef123456",
        "nosuchservice://SECRET123456@x",
    ],
)
def test_channel_check_agrees_with_apprise(url: str) -> None:
    """check-config reads only the plugin of the URL's scheme, yet accepts exactly what
    Apprise itself can build a notifier from."""
    import apprise

    from daemon.notify.apprise_urls import check_apprise_url

    built = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    assert (check_apprise_url(url) is None) == (built is not None)


def test_secret_never_in_repr() -> None:
    config = parse_config(GOOD, Path("config.toml"))
    assert "SECRET123456" not in repr(config) and "SECRET123456" not in str(config.channels)


def test_check_config_cli_prints_one_line_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace('every = "30m"', 'every = "5s"'), encoding="utf-8")
    result = cli("check-config", "--config", str(path))
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert f"{path}:8 sources[0].every: every must be at least 10s" in result.err
    assert "Traceback" not in result.err


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    result = cli("once", "--config", str(tmp_path / "no.toml"))
    assert result.code == 2
    assert "no such config file" in result.err and "Traceback" not in result.err


def test_check_config_accepts_the_shipped_example() -> None:
    root = Path(__file__).resolve().parent.parent
    result = cli(
        "check-config",
        "--config",
        str(root / "config.toml"),
        env={"PATH": "", "DINGTALK_URL": "json://127.0.0.1/x", "SMTP_USER": "u", "SMTP_PASS": "p"},
        inherit_env=False,
        cwd=root,
    )
    assert result.code == 0, result.err


def test_headline_only_topics_match_titles_only() -> None:
    from daemon.pipeline import topic_rules
    from rules import Document, compile_rules

    text = GOOD.replace('channels = ["chat"]', 'fields = ["title"]\nchannels = ["chat"]')
    matcher = compile_rules(topic_rules(parse_config(text, Path("config.toml"))))
    assert matcher.match(Document("1", "液化气站检查", "")) != []
    assert matcher.match(Document("2", "安全检查", "检查液化气站")) == []
    assert error_for(GOOD.replace('channels = ["chat"]', 'fields = ["body"]')).startswith(
        "config.toml:19 topics[0].fields[0]: must be"
    )
