"""Protocol grammars as composable state machines (``cpppo.dfa`` and friends).

States are data (transition tables); a ``dfa`` is a machine over states and is itself a state,
so grammars compose; ``regex`` builds machines from regular expressions with greenery;
``run()`` yields every transition, ``match()`` runs a compiled table over a whole buffer.
"""

from __future__ import annotations

from .compiled import Match
from .errors import AutomataError, DefinitionError, NonTerminal, RegexError, RunError, UndefinedTarget
from .machine import dfa
from .regex import integer, regex, regex_bytes, string
from .render import to_dot, to_text
from .sources import chainable, peekable
from .states import decide, state, state_drop, state_input

__all__ = [
    "AutomataError",
    "DefinitionError",
    "Match",
    "NonTerminal",
    "RegexError",
    "RunError",
    "UndefinedTarget",
    "chainable",
    "decide",
    "dfa",
    "integer",
    "peekable",
    "regex",
    "regex_bytes",
    "state",
    "state_drop",
    "state_input",
    "string",
    "to_dot",
    "to_text",
]
