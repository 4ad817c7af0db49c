"""Run the real ``tingfeng`` entry point inside the test process.

Why: every ``python -m daemon`` pays seconds importing jieba, Apprise and SQLAlchemy
(and loading the jieba dictionary again), and most CLI tests only look at what a user
sees: the exit code, stdout and stderr. Those run :func:`daemon.cli.main` here instead,
with its argument parsing, error handling and exit codes; a handful of tests keep a real
process for what only a process shows (signals, SIGKILL, ``python -m daemon``, the
console script, a closed pipe).

Each run gets a worker thread of its own (commands call ``asyncio.run``), so the test's
event loop keeps serving the local sites meanwhile. ``sys.stdin/stdout/stderr`` are
routed by a context variable set in that thread: the run's code, its tasks and the
worker threads it starts with a copied context (``asyncio.to_thread``, Apprise's pool)
write to the run's own buffers, everything else to the streams pytest installed.
The process-wide state a command reads (environment, working directory, structlog and
logging set-up) is applied for the run and put back afterwards, one run at a time.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import structlog

from daemon.cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@dataclass
class _Streams:
    stdin: io.TextIOWrapper
    stdout: io.TextIOWrapper
    stderr: io.TextIOWrapper


_CURRENT: contextvars.ContextVar[_Streams | None] = contextvars.ContextVar(
    "tingfeng_cli_streams", default=None
)
# Environment, cwd and sys.std* are process-wide: one run at a time.
_RUNNING = threading.Lock()


@contextmanager
def _turn() -> Iterator[None]:
    if not _RUNNING.acquire(blocking=False):
        raise RuntimeError("one tingfeng run at a time: await the first before starting another")
    try:
        yield
    finally:
        _RUNNING.release()


class _Routed:
    """A ``sys.stdout``-like object that writes to the current run's stream, if any."""

    def __init__(self, name: str, fallback: TextIO) -> None:
        self._name = name
        self._fallback = fallback

    def _target(self) -> Any:
        streams = _CURRENT.get()
        return self._fallback if streams is None else getattr(streams, self._name)

    def write(self, text: str) -> int:
        return int(self._target().write(text))

    def flush(self) -> None:
        self._target().flush()

    def __iter__(self) -> Iterator[str]:
        return iter(self._target())

    def __enter__(self) -> Any:
        return self._target().__enter__()

    def __exit__(self, *exc: object) -> None:
        self._target().__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)


class _RunLogHandler(logging.Handler):
    """What ``logging.basicConfig`` gives the real process: WARNING and up on stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter(logging.BASIC_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        streams = _CURRENT.get()
        if streams is not None:
            streams.stderr.write(self.format(record) + "\n")


def _text_stream(data: bytes = b"") -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", write_through=True)


def _value(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8", "replace")


@contextmanager
def _process_state(
    env: Mapping[str, str] | None, inherit_env: bool, cwd: Path | None
) -> Iterator[None]:
    """Environment and working directory as a fresh ``python -m daemon`` would see them."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_std = sys.stdin, sys.stdout, sys.stderr
    was_configured, saved_structlog = structlog.is_configured(), structlog.get_config()
    handler = _RunLogHandler()
    try:
        if not inherit_env:
            os.environ.clear()
        os.environ.update(env or {})
        time.tzset()
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = _Routed("stdin", sys.stdin)  # type: ignore[assignment]
        sys.stdout = _Routed("stdout", sys.stdout)  # type: ignore[assignment]
        sys.stderr = _Routed("stderr", sys.stderr)  # type: ignore[assignment]
        logging.getLogger().addHandler(handler)
        yield
    finally:
        logging.getLogger().removeHandler(handler)
        sys.stdin, sys.stdout, sys.stderr = saved_std
        if was_configured:
            structlog.configure(**saved_structlog)
        else:
            structlog.reset_defaults()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        time.tzset()


def _exit_code(args: list[str], streams: _Streams) -> int:
    """``sys.exit(main())`` as the interpreter would end it, traceback included."""
    _CURRENT.set(streams)
    try:
        return main(args)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=streams.stderr)
        return 1
    except BaseException:
        traceback.print_exc(file=streams.stderr)
        return 1


def _start(
    args: tuple[str, ...],
    stdin: str | bytes,
    done: Any,
) -> tuple[threading.Thread, _Streams]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    streams = _Streams(_text_stream(data), _text_stream(), _text_stream())
    context = contextvars.copy_context()

    def work() -> None:
        code = context.run(_exit_code, list(args), streams)
        done(code)

    # A daemon thread: a run that hangs must not keep pytest from exiting after its timeout.
    thread = threading.Thread(target=work, name=f"tingfeng {' '.join(args[:1])}", daemon=True)
    thread.start()
    return thread, streams


def cli(
    *args: str,
    stdin: str | bytes = b"",
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    cwd: Path | None = None,
) -> CliResult:
    """``tingfeng ARGS`` for a test with no event loop of its own."""
    codes: list[int] = []
    with _turn(), _process_state(env, inherit_env, cwd):
        thread, streams = _start(args, stdin, codes.append)
        thread.join()
    return CliResult(codes[0], _value(streams.stdout), _value(streams.stderr))


async def run_cli(
    *args: str,
    stdin: str | bytes = b"",
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    cwd: Path | None = None,
) -> CliResult:
    """``tingfeng ARGS`` while the calling loop goes on serving the test's local sites."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[int] = loop.create_future()

    def done(code: int) -> None:
        if not loop.is_closed():  # closed: the test already failed on its timeout
            loop.call_soon_threadsafe(finished.set_result, code)

    with _turn(), _process_state(env, inherit_env, cwd):
        _, streams = _start(args, stdin, done)
        code = await finished
    return CliResult(code, _value(streams.stdout), _value(streams.stderr))
