"""Sub-commands. Each module exposes ``register(subparsers, common)`` which adds its parser
and sets ``handler`` to a function ``(args) -> int``; ``common`` carries ``--config``."""

from types import ModuleType

from daemon.commands import match, rules_cmd

COMMANDS: list[ModuleType] = [match, rules_cmd]
