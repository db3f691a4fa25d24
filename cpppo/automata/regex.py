"""Machines from regular expressions, through greenery (4.x).

greenery parses the pattern and builds a minimal FSM whose alphabet is a partition of Unicode
into character classes.  We keep only live states (those from which acceptance is still
possible), make each a ``state_input`` (terminal if greenery's state is final), expand each
character class into plain symbol transitions, and map greenery's "anything else" class to the
``True`` transition.  A symbol that leads only to greenery's dead state becomes an explicit stop,
so the machine ends there; it is then terminal only if the input so far was accepted.

``regex`` works on ``str`` symbols (Unicode included); ``regex_bytes`` on the ``int`` symbols
you get by iterating ``bytes``.  ``integer`` and ``string`` wrap a regex and store the converted
field (an ``int``, a ``str``) instead of the raw symbols.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import greenery
from greenery.parse import NoMatch

from .errors import DefinitionError, RegexError
from .machine import dfa
from .states import state, state_input

__all__ = ["integer", "regex", "regex_bytes", "string"]

_EXPAND_LIMIT = 1 << 16  # characters we are willing to enumerate for one non-negated class


def _fsm(pattern: str) -> Any:
    try:
        return greenery.parse(pattern).to_fsm().reduce()
    except NoMatch as exc:
        found = re.search(r"beyond index (\d+)", str(exc))
        raise RegexError(pattern, int(found.group(1)) if found else None, str(exc)) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise RegexError(pattern, None, str(exc)) from None


def _chars(charclass: Any, universe: range | None) -> Iterator[str]:
    """The characters of a (non-negated) greenery Charclass, or of a negated one within ``universe``."""
    if universe is None:
        if sum(hi - lo + 1 for lo, hi in charclass.ord_ranges) > _EXPAND_LIMIT:
            raise DefinitionError(f"character class {charclass} is too large to expand into transitions")
        for lo, hi in charclass.ord_ranges:
            for code in range(lo, hi + 1):
                yield chr(code)
        return
    for code in universe:
        if charclass.accepts(chr(code)):
            yield chr(code)


def build_states(pattern: str, *, as_bytes: bool = False, context: str | None = None) -> state:
    """Build the states for ``pattern``; returns the initial state."""
    fsm = _fsm(pattern)
    live = {q for q in fsm.states if fsm.islive(q)}
    if fsm.initial not in live:
        raise RegexError(pattern, None, "the expression matches nothing")
    order = sorted(live, key=lambda q: (q != fsm.initial, str(q)))
    states = {q: state_input(str(q), terminal=q in fsm.finals, context=context) for q in order}
    universe = range(256) if as_bytes else None
    for q in order:
        src = states[q]
        moves = fsm.map[q]
        negated_live = any(cc.negated and moves[cc] in live for cc in moves)
        for cc, target in sorted(moves.items(), key=lambda kv: str(kv[0])):
            dest = states.get(target)
            if cc.negated and not as_bytes:
                src[True] = dest  # anything else: a state, or None to stop
                continue
            if dest is None and (as_bytes or not negated_live):
                continue  # covered by True -> None
            for ch in _chars(cc, universe):
                src[ord(ch) if as_bytes else ch] = dest
        if as_bytes:
            src[True] = None  # ints outside 0..255
    return states[fsm.initial]


class regex(dfa):
    """A ``dfa`` recognising the regular expression ``initial`` (a pattern string).

    The default name is the pattern itself and the default context ``'input'``, so the symbols
    are stored at ``<path>.input.input``.  With ``terminal=True`` the machine's ``.terminal``
    tells whether the sentence was accepted.
    """

    __slots__ = ("pattern",)
    _as_bytes = False

    def __init__(self, name: str | None = None, initial: str | bytes | None = None, *, terminal: bool = False,
                 greedy: bool = True, context: str | None = None, **kwds: Any) -> None:
        if initial is None:
            raise DefinitionError("regex needs a pattern: regex(initial='...')")
        pattern = initial.decode("latin-1") if isinstance(initial, (bytes, bytearray)) else str(initial)
        self.pattern = pattern
        first = build_states(pattern, as_bytes=self._as_bytes)
        super().__init__(name if name is not None else pattern, initial=first, terminal=terminal,
                         greedy=greedy, context="input" if context is None else context, **kwds)


class regex_bytes(regex):
    """A ``regex`` over bytes: symbols are the ``int`` values iterating ``bytes`` yields."""

    __slots__ = ()
    _as_bytes = True


class _converting(dfa):
    """A machine around a regex that stores ``convert(matched text)`` at ``<path>.<context>``."""

    __slots__ = ("_convert",)

    def __init__(self, name: str, pattern: str, convert: Any, *, context: str, as_bytes: bool,
                 terminal: bool = True, greedy: bool = True) -> None:
        initial = build_states(pattern, as_bytes=as_bytes, context="_raw")
        super().__init__(name, initial=initial, terminal=terminal, greedy=greedy, context=context)
        self._convert = convert

    def run(self, source: Any, machine: Any = None, path: str | None = None, data: Any = None,
            ending: Any = None) -> Iterator[tuple[dfa, state | None]]:
        from ..dotdict import dotdict

        if data is None:
            data = dotdict()
        target = self.context(path)
        raw_path = target + "._raw.input"
        try:
            yield from super().run(source, machine=machine, path=path, data=data, ending=ending)
        finally:
            raw = data.pop(raw_path, None)
            if data.get(target + "._raw") == {}:
                del data[target + "._raw"]
        if raw is not None and self.terminal:
            text = raw.tounicode() if hasattr(raw, "tounicode") else bytes(raw).decode("latin-1")
            data[target] = self._convert(text)


def integer(name: str = "int", context: str = "integer", pattern: str = r"[+\-]?[0-9]+", **kwds: Any) -> dfa:
    """A machine parsing a decimal integer; stores an ``int`` at ``<path>.<context>``."""
    return _converting(name, pattern, int, context=context, as_bytes=kwds.pop("as_bytes", False), **kwds)


def string(name: str = "string", context: str = "string", pattern: str = r"[^\s,;]+", **kwds: Any) -> dfa:
    """A machine parsing a text field (no spaces, commas or semicolons by default); stores a ``str``."""
    return _converting(name, pattern, str, context=context, as_bytes=kwds.pop("as_bytes", False), **kwds)
