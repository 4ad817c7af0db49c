"""Sub-commands, one module each, imported only when used.

Each module exposes ``register(subparsers, common)`` which adds its parser and sets
``handler`` to a function ``(args) -> int``; ``common`` carries ``--config``. The CLI
imports just the module of the command being run, so ``tingfeng sources`` does not
pay for loading the matcher, the deduplicator and every Apprise plugin, and
``tingfeng --help`` lists the commands from this table without importing any of them.
"""

from typing import NamedTuple


class Command(NamedTuple):
    module: str
    summary: str
    example: str


COMMANDS: dict[str, Command] = {
    "run": Command(
        "daemon.commands.run", "run the daemon until stopped", "tingfeng run --config config.toml"
    ),
    "once": Command(
        "daemon.commands.once",
        "fetch every source once, match and alert",
        "tingfeng once --config config.toml",
    ),
    "demo": Command(
        "daemon.commands.demo",
        "run the pipeline on a bundled site",
        "tingfeng demo --keep /tmp/demo",
    ),
    "check-config": Command(
        "daemon.commands.check_config",
        "validate the config file, warn about topics and channels that do nothing",
        "tingfeng check-config --config config.toml",
    ),
    "export": Command(
        "daemon.commands.export",
        "export stored articles (JSON lines, CSV or an Excel workbook)",
        "tingfeng export --since 7d --format xlsx --out articles.xlsx",
    ),
    "sources": Command("daemon.commands.sources", "show each source's health", "tingfeng sources"),
    "probe": Command(
        "daemon.commands.probe",
        "fetch one URL as a source would: family, entry URL, first articles",
        "tingfeng probe http://epaper.example.cn/ --config",
    ),
    "outbox": Command(
        "daemon.commands.outbox",
        "list or retry owed deliveries",
        "tingfeng outbox --status dead; tingfeng outbox retry --all-dead",
    ),
    "digest": Command(
        "daemon.commands.digest",
        "build and send digests now",
        "tingfeng digest --dry-run --out /tmp/digest.html",
    ),
    "segment": Command(
        "daemon.commands.segment",
        "split newspaper page text or a page PDF into articles",
        "tingfeng segment page02.pdf --format text",
    ),
    "match": Command(
        "daemon.commands.match",
        "match articles (JSONL or stored) against topic rules",
        "tingfeng match --stored --since 3d --format summary",
    ),
    "users": Command(
        "daemon.commands.users",
        "add, list, disable console users; set passwords",
        "tingfeng users add admin --admin",
    ),
    "web": Command(
        "daemon.commands.web",
        "serve the web console alone (tingfeng run serves it too when [web] listen is set)",
        "tingfeng web --listen 127.0.0.1:8750",
    ),
    "rules": Command(
        "daemon.commands.rules_cmd",
        "test queries, import keyword files",
        'tingfeng rules test "燃气 AND 安全" --text "燃气安全检查"',
    ),
}
