"""Sub-commands, one module each, imported only when used.

Each module exposes ``register(subparsers, common)`` which adds its parser and sets
``handler`` to a function ``(args) -> int``; ``common`` carries ``--config``. The CLI
imports just the module of the command being run, so ``tingfeng sources`` does not
pay for loading the matcher, the deduplicator and every Apprise plugin.
"""

COMMANDS: dict[str, str] = {
    "run": "daemon.commands.run",
    "once": "daemon.commands.once",
    "demo": "daemon.commands.demo",
    "check-config": "daemon.commands.check_config",
    "export": "daemon.commands.export",
    "sources": "daemon.commands.sources",
    "probe": "daemon.commands.probe",
    "outbox": "daemon.commands.outbox",
    "digest": "daemon.commands.digest",
    "segment": "daemon.commands.segment",
    "match": "daemon.commands.match",
    "rules": "daemon.commands.rules_cmd",
}
