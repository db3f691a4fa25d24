"""cpppo: communication protocols for industrial control systems.

EtherNet/IP CIP (a simulated Logix controller and its client), Modbus remote I/O, and the
state-machine library the documents describe.  The wire codecs live in :mod:`cpppo.cip` and
:mod:`cpppo.enip`; the documented entry points (``cpppo.server.enip``, ``cpppo.remote``) are thin
modules over them.
"""

from __future__ import annotations

from time import perf_counter as timer
from typing import TYPE_CHECKING, Any

from .dotdict import dotdict

__version__ = "6.0.0.dev0"

# The state-machine names the documents use as ``cpppo.<name>``; loaded on first use (PEP 562)
# so that ``import cpppo.enip`` does not pay for greenery.
_AUTOMATA = frozenset({
    "NonTerminal", "chainable", "decide", "dfa", "integer", "peekable", "regex", "regex_bytes",
    "state", "state_drop", "state_input", "string",
})

__all__ = [
    "NonTerminal",
    "__version__",
    "chainable",
    "decide",
    "dfa",
    "dotdict",
    "integer",
    "peekable",
    "regex",
    "regex_bytes",
    "state",
    "state_drop",
    "state_input",
    "string",
    "timer",
]

if TYPE_CHECKING:
    from .automata import NonTerminal as NonTerminal
    from .automata import chainable as chainable
    from .automata import decide as decide
    from .automata import dfa as dfa
    from .automata import integer as integer
    from .automata import peekable as peekable
    from .automata import regex as regex
    from .automata import regex_bytes as regex_bytes
    from .automata import state as state
    from .automata import state_drop as state_drop
    from .automata import state_input as state_input
    from .automata import string as string


def __getattr__(name: str) -> Any:
    if name in _AUTOMATA:
        from . import automata

        value = getattr(automata, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cpppo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _AUTOMATA)
