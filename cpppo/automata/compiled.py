"""Whole-buffer fast path: a machine flattened into one transition table.

``run()`` must yield at every transition; many callers only want "how much of this buffer does
the machine accept, and what did it store".  ``compiled_dfa`` answers that without generators:

1. Flatten.  A node is the stack of (machine, current state) frames of nested machines plus the
   store action of the symbol that led there.  ``_step`` replays exactly what ``dfa.run`` does
   for one input symbol (epsilon moves, entering sub-machines, a sub-machine ending and the
   enclosing one taking its turn, non-greedy machines finishing early) until one symbol is
   consumed or the machine ends; a breadth-first walk over the symbols the states mention (plus
   one stand-in for "any other symbol") gives a table ``node -> {symbol: next node}``.
2. Table loop: one ``dict.get`` per symbol, exact for every compilable machine.
3. C-speed path: when every symbol is stored the same way wherever it occurs, the table is turned
   into regular expressions (:mod:`.to_re`, then Python's ``re``) for "longest prefix the
   machine survives" and "stops in an accepting way"; matching those and filtering the accepted
   text with ``translate`` (or ``re.sub``) gives the same answer as the table loop, checked
   cheaply, falling back to the table loop when the check fails.

Machines using ``decide`` predicates or a custom ``run`` cannot be tabled; ``match`` then drives
``run()`` itself, so it always works and always agrees with ``run()``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..dotdict import dotdict
from .errors import DefinitionError, NonTerminal, UndefinedTarget
from .machine import dfa, new_container
from .sources import peekable
from .states import DROP, INPUT, MISSING, decide, state
from .to_re import PatternTooLarge, dfa_to_pattern

__all__ = ["Match", "compiled_dfa"]

END, ERROR = -1, -2
_MAX_NODES = 4096
_MAX_REGEX_NODES = 1024
_REGEX_MIN = 32  # shorter buffers go through the table loop: not worth a regex pass
_MICRO_STEPS = 10_000


class _Other:
    """Stands for any symbol no state mentions explicitly."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OTHER"


OTHER: Any = _Other()


class _NotCompilable(Exception):
    pass


@dataclass(slots=True)
class Match:
    """Outcome of ``dfa.match``: symbols accepted, whether the machine counts as terminal, data."""

    length: int
    terminal: bool
    data: Any


Frames = tuple[tuple[Any, Any, bool], ...]


def _check_machine(m: Any) -> None:
    if type(m).run is not dfa.run:
        raise _NotCompilable(f"{m} has its own run()")


def _check_state(st: state) -> None:
    for entries in st._dec.values():
        if any(isinstance(e, decide) for e in entries):
            raise _NotCompilable(f"{st} decides by predicate")


def _rel_path(frames: list[tuple[Any, Any, bool]], leaf: state) -> str:
    ctx: str | None = None
    for m, _, _ in frames:
        ctx = m.context(ctx) or None
    return leaf.context(ctx, leaf.extension)


def _enter(frames: list[tuple[Any, Any, bool]], target: state, consume: bool) -> tuple[int, str] | None:
    """Enter ``target`` in the innermost frame's machine; return the store action if it consumed."""
    m = frames[-1][0]
    if isinstance(target, dfa):
        _check_machine(target)
        frames[-1] = (m, target, False)
        frames.append((target, None, False))
        return _enter(frames, target.initial, False)
    _check_state(target)
    frames[-1] = (m, target, target._terminal)
    if consume and target._kind in (INPUT, DROP):
        return (target._kind, _rel_path(frames, target) if target._kind == INPUT else "")
    return None


def _settle(frames: list[tuple[Any, Any, bool]]) -> bool:
    """Finish non-greedy machines that reached a terminal state; True if the top one finished."""
    while frames:
        m, _, term = frames[-1]
        if m.greedy or not term:
            return False
        frames.pop()
        if not frames:
            return True
        pm, pcur, _ = frames[-1]
        frames[-1] = (pm, pcur, m._terminal and term)
    return True


def _step(node: Frames, symbol: Any) -> tuple[int, Any, Any]:
    """One symbol (``None``: end of input) from ``node``, as ``dfa.run`` would process it.

    Returns ``(kind, frames, action)``: kind 0 with the new frames (and store action) when the
    symbol was consumed, ``END`` when the machine stops accepting, ``ERROR`` with (machine,
    state) when it stops in a non-terminal state.
    """
    frames = list(node)
    for _ in range(_MICRO_STEPS):
        if not frames:
            return END, None, None
        m, cur, term = frames[-1]
        target, consume = cur.choose(symbol)
        if isinstance(target, str):
            target = m.resolve(target)
        if target is MISSING or target is None:
            if not term:
                return ERROR, (m, cur), None
            frames.pop()
            if not frames:
                return END, None, None
            pm, pcur, _ = frames[-1]
            frames[-1] = (pm, pcur, m._terminal and term)
            if _settle(frames):
                return END, None, None
            continue
        action = _enter(frames, target, consume and symbol is not None)
        finished = _settle(frames)
        if action is not None:
            return 0, tuple(frames), action
        if finished:
            return END, None, None
    raise DefinitionError(f"{node[0][0]}: epsilon transitions loop without consuming input")


class compiled_dfa:
    """A machine's flattened table, with ``match(buffer)`` (see the module docstring)."""

    def __init__(self, machine: dfa) -> None:
        self.machine = machine
        self.reason: str | None = None
        self.nodes: list[Frames] = []
        self.rows: list[dict[Any, int]] = []
        self.other: list[int] = []
        self.eof: list[int] = []
        self.acts: list[tuple[int, str] | None] = []
        self.errors: dict[tuple[int, Any], tuple[Any, Any]] = {}
        self.alphabet: list[Any] = []
        self._regex: dict[str, Any] = {}
        try:
            self._build()
        except (_NotCompilable, DefinitionError, UndefinedTarget) as exc:
            # e.g. a predicate, an unresolvable name or an epsilon cycle somewhere in the
            # table: match() then runs the machine, which reports it only if the input gets there
            self.reason = str(exc)

    # -- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        top = self.machine
        _check_machine(top)
        symbols: dict[Any, None] = {}
        machines, todo = {top: None}, [top]
        while todo:
            for st in todo.pop().states():
                _check_state(st)
                for key, _ in st.transitions():
                    if key is not None and key is not True:
                        symbols[key] = None
                if isinstance(st, dfa) and st not in machines:
                    _check_machine(st)
                    machines[st] = None
                    todo.append(st)
        self.alphabet = list(symbols)
        frames: list[tuple[Any, Any, bool]] = [(top, None, False)]
        _enter(frames, top.initial, False)
        start: Any = ("END",) if _settle(frames) else tuple(frames)
        index: dict[Any, int] = {}
        queue: deque[int] = deque()

        def intern(key: Any, action: Any) -> int:
            full = (key, action)
            found = index.get(full)
            if found is None:
                if len(self.nodes) >= _MAX_NODES:
                    raise _NotCompilable("too many flattened states")
                found = index[full] = len(self.nodes)
                self.nodes.append(key)
                self.acts.append(action)
                queue.append(found)
            return found

        intern(start, None)
        while queue:
            i = queue.popleft()
            key = self.nodes[i]
            row: dict[Any, int] = {}
            for sym in [*self.alphabet, OTHER]:
                code = self._code(i, key, sym, intern)
                if sym is OTHER:
                    self.other.append(code)
                else:
                    row[sym] = code
            self.rows.append(row)
            self.eof.append(self._code(i, key, None, intern))
        # rows/other/eof were appended in queue order, which is node order (FIFO from 0)

    def _code(self, i: int, key: Any, sym: Any, intern: Any) -> int:
        if key == ("END",):
            return END
        kind, frames, action = _step(key, sym)
        if kind == END:
            return END
        if kind == ERROR:
            self.errors[(i, sym)] = frames
            return ERROR
        if not frames:
            return intern(("END",), action)
        return intern(frames, action)

    # -- matching ---------------------------------------------------------------------------
    def match(self, buffer: Any, data: Any = None, path: str | None = None) -> Match:
        """Run the machine over all of ``buffer``; store input in ``data`` like ``run()`` does.

        Returns ``Match(length, terminal, data)``; raises ``NonTerminal`` (with the position)
        exactly when ``run()`` would.
        """
        if data is None:
            data = dotdict()
        if isinstance(buffer, memoryview):
            buffer = buffer.tobytes()
        if self.reason is not None:
            return self._by_run(buffer, data, path)
        kind = "str" if isinstance(buffer, str) else "bytes" if isinstance(buffer, (bytes, bytearray)) else ""
        fast = self._regex_for(kind) if kind and len(buffer) > _REGEX_MIN else None
        if fast is not None:
            done = fast.match(self, buffer, data, path)
            if done is not None:
                return done
        return self._by_table(buffer, data, path)

    def _by_run(self, buffer: Any, data: Any, path: str | None) -> Match:
        source = peekable(buffer)
        m = self.machine
        with m:
            for _ in m.run(source=source, data=data, path=path):
                pass
            return Match(source.sent, m.terminal, data)

    def _full(self, path: str | None, rel: str) -> str:
        return f"{path}.{rel}" if path and rel else (path or rel)

    def _by_table(self, buffer: Sequence[Any], data: Any, path: str | None) -> Match:
        rows, other, acts = self.rows, self.other, self.acts
        boxes: dict[str, Any] = {}
        stores: list[Any] = [None] * len(acts)
        i, pos, n = 0, 0, len(buffer)
        row, oth = rows[0], other[0]
        code = 0
        while pos < n:
            sym = buffer[pos]
            code = row.get(sym, oth)
            if code < 0:
                break
            act = acts[code]
            if act is not None and act[0] == INPUT:
                box = stores[code]
                if box is None:
                    full = self._full(path, act[1])
                    box = boxes.get(full)
                    if box is None:
                        box = boxes[full] = self._container(data, full, sym)
                    stores[code] = box
                box.append(sym)
            i, pos = code, pos + 1
            row, oth = rows[code], other[code]
        if pos >= n:
            code = self.eof[i]
            sym = None
        else:
            sym = buffer[pos]
        if code == ERROR:
            key = sym if sym is None or sym in row else OTHER
            m, st = self.errors[(i, key)]
            raise NonTerminal(f"machine {m.name!r} stopped in non-terminal state {st}", machine=m, state=st,
                              position=pos, symbol=sym)
        return Match(pos, self.machine._terminal, data)

    @staticmethod
    def _container(data: Any, full: str, sym: Any) -> Any:
        box = data.get(full)
        if box is None:
            box = data[full] = new_container(sym)
        return box

    def _regex_for(self, kind: str) -> Any:
        if kind not in self._regex:
            try:
                self._regex[kind] = _RegexPath(self, kind)
            except _NotCompilable:
                self._regex[kind] = None
        return self._regex[kind]


class _RegexPath:
    """The table as Python regular expressions, for one kind of buffer (``str`` or ``bytes``)."""

    def __init__(self, table: compiled_dfa, kind: str) -> None:
        if len(table.nodes) > _MAX_REGEX_NODES:
            raise _NotCompilable("table too large for the regex path")
        as_bytes = kind == "bytes"
        chars: dict[Any, str] = {}
        for sym in table.alphabet:
            if as_bytes and isinstance(sym, int) and not isinstance(sym, bool) and 0 <= sym <= 255:
                chars[sym] = chr(sym)
            elif not as_bytes and isinstance(sym, str) and len(sym) == 1:
                chars[sym] = sym
            else:
                raise _NotCompilable(f"symbol {sym!r} does not fit a {kind} regex")
        # Each symbol (and "other") must be stored the same way wherever it is consumed.
        how: dict[Any, Any] = {}
        for i, row in enumerate(table.rows):
            for sym, code in [*row.items(), (OTHER, table.other[i])]:
                if code >= 0:
                    act = table.acts[code]
                    if how.setdefault(sym, act) != act:
                        raise _NotCompilable(f"symbol {sym!r} is stored in more than one way")
        self.as_bytes = as_bytes
        self.paths: dict[str, Any] = {}
        stored = {act[1] for act in how.values() if act is not None and act[0] == INPUT}
        for rel in stored:
            keep = [chars[s] for s, act in how.items() if s is not OTHER and act == (INPUT, rel)]
            drop = [c for s, c in chars.items() if how.get(s) != (INPUT, rel)]
            # "other" symbols reach the accepted text only if some node consumes them
            keep_other = how.get(OTHER) == (INPUT, rel) or OTHER not in how
            self.paths[rel] = self._filter(keep, drop, keep_other)
        flags = re.DOTALL if as_bytes else re.DOTALL | re.ASCII
        explicit = frozenset(chars)
        escape = (lambda c: f"\\x{ord(c):02x}") if as_bytes else re.escape

        def render(symbols: frozenset[Any]) -> str:
            if OTHER in symbols:
                excluded = explicit - symbols
                if not excluded:
                    return "(?s:.)"
                return "[^" + "".join(sorted(escape(chars[s]) for s in excluded)) + "]"
            if len(symbols) == 1:
                return escape(chars[next(iter(symbols))])
            return "[" + "".join(sorted(escape(chars[s]) for s in symbols)) + "]"

        n = len(table.nodes)
        alive: dict[int, dict[int, list[Any]]] = {i: {} for i in range(n)}
        ending: dict[int, dict[int, list[Any]]] = {i: {} for i in range(n)}
        for i in range(n):
            for sym, code in [*table.rows[i].items(), (OTHER, table.other[i])]:
                if code >= 0:
                    alive[i].setdefault(code, []).append(sym)
                    ending[i].setdefault(code, []).append(sym)
                elif code == END:
                    ending[i].setdefault(n, []).append(sym)
        try:
            self.alive = self._compile(dfa_to_pattern(n, alive, range(n), render), flags)
            self.ok_sym = self._compile(dfa_to_pattern(n + 1, ending, [n], render), flags)
            self.ok_eof = self._compile(
                dfa_to_pattern(n, alive, [i for i in range(n) if table.eof[i] == END], render), flags)
        except PatternTooLarge as exc:
            raise _NotCompilable(str(exc)) from None

    def _filter(self, keep: list[str], drop: list[str], keep_other: bool) -> Any:
        if self.as_bytes:
            if keep_other:
                delete = bytes(ord(c) for c in drop)
            else:
                wanted = {ord(c) for c in keep}
                delete = bytes(b for b in range(256) if b not in wanted)
            return ("bytes", delete)
        if keep_other:
            table = {ord(c): None for c in drop}
            return ("translate", table)
        cls = "".join(re.escape(c) for c in keep)
        return ("sub", re.compile(f"[^{cls}]+" if cls else "(?s:.)+", re.DOTALL))

    def _compile(self, text: str | None, flags: int) -> Any:
        if text is None:
            text = "(?!)"  # the empty language
        try:
            pattern: Any = text.encode("latin-1") if self.as_bytes else text
            return re.compile(pattern, flags)
        except (re.error, UnicodeEncodeError) as exc:
            raise _NotCompilable(f"python re rejects {text!r}: {exc}") from None

    def match(self, table: compiled_dfa, buffer: Any, data: Any, path: str | None) -> Match | None:
        n = len(buffer)
        found = self.alive.match(buffer)
        if found is None:
            return None
        end = found.end()
        if end < n:
            if self.alive.fullmatch(buffer, 0, end + 1) is not None:
                return None  # not the longest surviving prefix: let the table loop decide
            if self.ok_sym.fullmatch(buffer, 0, end + 1) is None:
                return None  # an error: the table loop reports it precisely
        elif self.ok_eof.fullmatch(buffer) is None:
            return None
        accepted = buffer[:end]
        for rel, (how, arg) in self.paths.items():
            if how == "bytes":
                text: Any = bytes(accepted).translate(None, arg)
            elif how == "translate":
                text = accepted.translate(arg)
            else:
                text = arg.sub("", accepted)
            if not text:
                continue
            full = table._full(path, rel)
            box = data.get(full)
            if box is None:
                box = data[full] = new_container(text[0])
            if isinstance(box, bytearray) or not isinstance(text, str):
                box.extend(text)
            elif hasattr(box, "fromunicode"):
                box.fromunicode(text)
            else:
                box.extend(text)
        return Match(end, table.machine._terminal, data)
