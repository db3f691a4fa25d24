"""Exceptions of the state-machine library, split by blame.

``DefinitionError`` means the caller built a machine wrongly (bad symbol for an alphabet, a
regular expression greenery cannot parse).  ``RunError`` means the machine met input it cannot
accept; it carries the position in the input (symbols consumed so far) and the next symbol.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AutomataError", "DefinitionError", "NonTerminal", "RegexError", "RunError", "UndefinedTarget"]


class AutomataError(Exception):
    """Base of every error raised by :mod:`cpppo.automata`."""


class DefinitionError(AutomataError, ValueError):
    """A machine, state or transition was defined wrongly (the caller's mistake)."""


class RegexError(DefinitionError):
    """greenery could not parse a regular expression; ``position`` is the offset in the pattern."""

    def __init__(self, pattern: str, position: int | None, reason: str) -> None:
        where = "" if position is None else f" at offset {position}"
        super().__init__(f"cannot parse regular expression {pattern!r}{where}: {reason}")
        self.pattern = pattern
        self.position = position


class RunError(AutomataError):
    """Input the machine cannot accept.  ``position`` counts symbols consumed from the source."""

    def __init__(self, message: str, *, machine: Any, state: Any, position: int | None, symbol: Any) -> None:
        where = "" if position is None else f" at input position {position}"
        nxt = "end of input" if symbol is None else f"next symbol {symbol!r}"
        super().__init__(f"{message}{where} ({nxt})")
        self.machine = machine
        self.state = state
        self.position = position
        self.symbol = symbol


class NonTerminal(RunError):
    """A machine stopped (no transition, or input ended) in a state that is not terminal."""


class UndefinedTarget(RunError):
    """A transition led to something that is not a state of the machine (e.g. an unknown name)."""
