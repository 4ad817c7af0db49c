"""Sub-commands. Each module exposes ``register(subparsers, common)`` which adds its parser
and sets ``handler`` to a function ``(args) -> int``; ``common`` carries ``--config``."""

from types import ModuleType

from daemon.commands import (
    check_config,
    demo,
    digest,
    export,
    match,
    once,
    outbox,
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
    outbox,
    digest,
    segment,
    match,
    rules_cmd,
]
