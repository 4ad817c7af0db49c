"""Sub-commands. Each module exposes ``register(subparsers, common)`` which adds its parser
and sets ``handler`` to a function ``(args) -> int``; ``common`` carries ``--config``."""

from types import ModuleType

from daemon.commands import (
    check_config,
    demo,
    export,
    match,
    once,
    rules_cmd,
    run,
    segment,
    sources,
)

COMMANDS: list[ModuleType] = [
    run,
    once,
    demo,
    check_config,
    export,
    sources,
    segment,
    match,
    rules_cmd,
]
