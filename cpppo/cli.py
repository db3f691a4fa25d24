"""What every cpppo command line shares: one-line usage errors, ``[host][:port]``, and logging.

A user who mistypes an option gets one line on stderr and exit status 2, never a usage dump or a
traceback; ``-v`` and ``-l FILE`` mean the same to every command.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import logging.handlers
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

__all__ = ["UsageParser", "console_entry", "logging_to", "split_host_port"]


class UsageParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def split_host_port(text: str | None, default_port: int) -> tuple[str, int]:
    """``[host][:port]`` (an IPv6 host in brackets) as (host, port); ValueError says what is wrong.

    The host may come back empty; what that means (all interfaces, this host) is the caller's.
    """
    text = (text or "").strip()
    host, port = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"address {text!r}: unclosed '['")
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"address {text!r} is not [host]:port")
        port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif text.count(":") > 1:
        raise ValueError(f"address {text!r}: put an IPv6 address in brackets, as [::1]:{default_port}")
    if not port.strip():
        return host.strip(), default_port
    try:
        number = int(port.strip(), 0)
    except ValueError:
        raise ValueError(f"address {text!r}: port {port.strip()!r} is not a number") from None
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"address {text!r}: port {number} is not 0..65535")
    return host.strip(), number


def console_entry(main: Callable[[Sequence[str] | None], int]) -> Callable[[Sequence[str] | None], int]:
    """The ``run`` of a command whose ``main(argv) -> status`` does the work.

    Every cpppo command has the same two entry points: ``main(argv=None)`` returns the exit status
    (for callers and tests), and ``run(argv=None)`` is the console script: without ``argv`` it exits
    the process with that status, with ``argv`` it returns it.
    """

    def run(argv: Sequence[str] | None = None) -> int:
        status = main(argv)
        if argv is None:
            sys.exit(status)
        return status

    run.__doc__ = f"Console-script entry point: {main.__module__}.main, then exit with its status."
    return run


@contextlib.contextmanager
def logging_to(verbose: int, logfile: str | None = None) -> Iterator[None]:
    """Log cpppo's messages to stderr (or a file rotated at 10 MB, 5 kept) while a command runs.

    ``verbose`` 0 shows warnings, 1 adds info, 2 or more debug.  The logger is put back afterwards,
    so a command run from Python (or a test) leaves no handlers behind.
    """
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler: logging.Handler
    if logfile:
        handler = logging.handlers.RotatingFileHandler(logfile, maxBytes=10 * 1024 * 1024, backupCount=5)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)-8s %(name)s %(message)s",
                                           "%m-%d %H:%M:%S"))
    root = logging.getLogger("cpppo")
    saved = root.level, root.handlers[:], root.propagate
    root.setLevel(level)
    root.handlers[:] = [handler]
    root.propagate = False
    try:
        yield
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        root.propagate = saved[2]
        handler.close()
