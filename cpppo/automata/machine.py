"""``dfa``: a machine of states that is itself a state, so machines compose.

``run()`` is a generator yielding ``(machine, state)`` for every transition, so callers can watch
(or interleave I/O with) the parse; ``(machine, None)`` means "no input available now": feed the
source (``chain()``) and resume the same generator, or stop.  A sub-machine runs until it has no
transition for the next symbol, then the enclosing machine looks that symbol up in its own
transitions out of the sub-machine.

Strategy for speed: the hot loop does one ``dict.get`` on the current state's plain transitions
per symbol, appends stored symbols to a container it looked up once per run, and allocates only
the yielded tuple; everything rarer (decisions, ``True``, epsilon, names, waiting for input) goes
through ``state.choose``.  When no caller needs per-symbol yields, ``compile()`` (see
:mod:`.compiled`) flattens the machine into a table and runs whole buffers at C speed.
"""

from __future__ import annotations

import sys
import threading
from array import array
from collections.abc import Iterator
from typing import Any

from ..dotdict import dotdict
from .errors import DefinitionError, NonTerminal, UndefinedTarget
from .sources import chainable, peekable
from .states import DROP, INPUT, MACHINE, MISSING, decide, state

__all__ = ["dfa", "new_container"]

_UNICODE = "w" if sys.version_info >= (3, 13) else "u"
_MAX_DEPTH = 256
_MAX_EPSILON = 10_000
_DIRECT = (peekable, chainable)


def new_container(symbol: Any) -> Any:
    """An empty container for symbols like ``symbol``: array of str chars, bytearray of ints."""
    if isinstance(symbol, str) and len(symbol) == 1:
        return array(_UNICODE)
    if isinstance(symbol, int) and not isinstance(symbol, bool) and 0 <= symbol <= 255:
        return bytearray()
    return []


def _position(source: Any) -> int | None:
    sent = getattr(source, "sent", None)
    return sent if isinstance(sent, int) else None


def _peek(source: Any) -> Any:
    try:
        return source.peek()
    except Exception:  # a position report must never hide the real error
        return None


class dfa(state):
    """A deterministic machine over ``initial``'s states, usable as a state of another machine.

    ``terminal=True`` lets the machine count as terminal (when it ends in a terminal state);
    ``greedy=False`` stops it at the first terminal state it enters instead of consuming as many
    symbols as possible; ``context`` names where its ``state_input`` states store data.
    """

    __slots__ = ("_compiled", "_lock", "_names", "current", "greedy", "initial")
    _kind = MACHINE

    def __init__(
        self,
        name: str | None = None,
        initial: state | None = None,
        *,
        terminal: bool = False,
        greedy: bool = True,
        context: str | None = None,
        extension: str | None = None,
        alphabet: Any = None,
    ) -> None:
        if not isinstance(initial, state):
            raise DefinitionError(f"dfa {name!r}: initial must be a state, not {initial!r}")
        super().__init__(name if name is not None else initial.name, terminal=terminal,
                         alphabet=alphabet, context=context, extension=extension)
        self.initial = initial
        self.greedy = bool(greedy)
        self.current: state | None = None
        self._lock = threading.RLock()
        self._names: dict[str, state] | None = None
        self._compiled: Any = None

    # -- state-like behaviour ---------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        """True iff marked terminal at creation and the last sub-state was terminal."""
        current = self.current
        return self._terminal and current is not None and current.terminal

    def __str__(self) -> str:
        inner = f"{self.name}.{self.current if self.current is not None else self.initial}"
        return f"(({inner}))" if self.terminal else f"( {inner} )"

    def __enter__(self) -> dfa:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def reset(self) -> None:
        """Forget the current sub-state (and recompute names and compiled tables next time)."""
        self.current = None
        self._names = None
        self._compiled = None

    # -- structure --------------------------------------------------------------------------
    def states(self) -> list[state]:
        """Every state reachable from ``initial`` through this machine's transitions, in order."""
        seen: dict[state, None] = {self.initial: None}
        todo = [self.initial]
        while todo:
            for _, target in todo.pop(0).transitions():
                candidate = target.state if isinstance(target, decide) else target
                if isinstance(candidate, state) and candidate is not self and candidate not in seen:
                    seen[candidate] = None
                    todo.append(candidate)
        return list(seen)

    def resolve(self, target: Any, source: Any = None) -> state | None:
        """Turn a transition target (state, name or None) into a state of this machine."""
        if target is None or isinstance(target, state):
            return target
        if isinstance(target, str):
            if self._names is None or target not in self._names:
                self._names = {s.name: s for s in self.states()}
            found = self._names.get(target)
            if found is not None:
                return found
        raise UndefinedTarget(
            f"{self}: transition to undefined target {target!r}",
            machine=self, state=self.current, position=_position(source), symbol=_peek(source),
        )

    # -- running ----------------------------------------------------------------------------
    def run(
        self,
        source: Any,
        machine: Any = None,
        path: str | None = None,
        data: Any = None,
        ending: Any = None,
    ) -> Iterator[tuple[dfa, state | None]]:
        """Run over ``source`` (a ``peekable``; any iterable is wrapped in one), yielding
        ``(machine, state)`` per transition.

        Stored input goes to ``data`` (a ``dotdict``) under ``<path>.<context>...``; during one run
        each storing state appends to the container it found (or created) on its first symbol.
        Raises ``NonTerminal`` if the machine stops in a non-terminal state.  ``machine`` and
        ``ending`` are accepted for compatibility with cpppo 5 callers and not used.
        """
        if data is None:
            data = dotdict()
        if not hasattr(source, "peek"):
            source = peekable(source)
        return self._run(source, self.context(path), data, {})

    def _run(self, source: Any, ctx: str, data: Any, cache: dict[str, dict[state, Any]]
             ) -> Iterator[tuple[dfa, state | None]]:
        # Nested plain machines run in this one loop on an explicit stack of enclosing machines
        # (no generator per sub-machine activation); a machine with its own run() is delegated to.
        peek = source.peek
        take = source.__next__
        direct = type(source) in _DIRECT  # our peekable: read its buffer without method calls
        stack: list[tuple[dfa, str, bool, dict[state, Any]]] = []
        m: dfa = self
        greedy = m.greedy
        boxes = cache.get(ctx)
        if boxes is None:
            boxes = cache[ctx] = {}
        cur: Any = m.resolve(m.initial, source)
        m.current = cur
        consume = False
        enter = True
        eps_moves = 0  # epsilon moves since the last consumed symbol
        yield m, cur
        while True:
            if enter:  # ``cur``'s action on the symbol that led here, or descend into it
                kind = cur._kind
                if kind == INPUT:
                    if consume:
                        eps_moves = 0
                        if direct and (pos := source._pos) < source._end:
                            sym = source._buf[pos]
                            source._pos = pos + 1
                        else:
                            sym = take()
                        box = boxes.get(cur)
                        if box is None:
                            box = boxes[cur] = m._container(cur, ctx, data, sym)
                        box.append(sym)
                elif kind == DROP:
                    if consume:
                        eps_moves = 0
                        take()
                elif kind == MACHINE:
                    if type(cur).run is dfa.run:
                        if len(stack) >= _MAX_DEPTH:
                            raise DefinitionError(f"{self.name!r}: machines nested deeper than {_MAX_DEPTH}")
                        stack.append((m, ctx, greedy, boxes))
                        sub = boxes.get(cur)  # for a sub-machine: its context path, cached
                        if sub is None:
                            sub = boxes[cur] = cur.context(ctx)
                        m, ctx = cur, sub
                        greedy = m.greedy
                        boxes = cache.get(ctx)
                        if boxes is None:
                            boxes = cache[ctx] = {}
                        cur = m.initial  # validated as a state in __init__
                        m.current = cur
                        consume = False
                        yield m, cur
                        continue
                    yield from cur.run(source=source, machine=m, path=ctx, data=data)
                    eps_moves = 0  # it ran its own loop (and normally consumed)
            enter = True
            if greedy or not cur.terminal:
                # Choose the next state: one dict lookup on the hot path.
                if direct and (pos := source._pos) < source._end:
                    sym = source._buf[pos]
                else:
                    sym = peek()
                if sym is not None:
                    nxt = cur._fast.get(sym)
                    if nxt is not None:
                        consume = True
                        m.current = cur = nxt
                        yield m, nxt
                        continue
                    if cur._simple:
                        nxt, consume = cur._eps, False
                    else:
                        nxt, consume = cur.choose(sym, m, source, ctx, data)
                elif cur.needs_input:
                    yield m, None  # no input now: the caller may chain more and resume
                    nxt, consume = cur.choose(peek(), m, source, ctx, data)
                else:
                    nxt, consume = cur.choose(None, m, source, ctx, data)
                if nxt is not MISSING and nxt is not None:
                    if not isinstance(nxt, state):
                        nxt = m.resolve(nxt, source)
                    if nxt is not None:
                        if not consume:  # epsilon: guard against cycles that never consume
                            eps_moves += 1
                            if eps_moves > _MAX_EPSILON:
                                raise DefinitionError(
                                    f"machine {m.name!r}: {_MAX_EPSILON} epsilon transitions in a row "
                                    f"without consuming input (a cycle of None transitions?) at {cur}")
                        m.current = cur = nxt
                        yield m, nxt
                        continue
                if not cur.terminal:
                    raise NonTerminal(
                        f"machine {m.name!r} stopped in non-terminal state {cur}",
                        machine=m, state=cur, position=_position(source), symbol=_peek(source),
                    )
            # Machine ``m`` is done; its parent carries on from "after entering m".
            if not stack:
                return
            cur = m
            m, ctx, greedy, boxes = stack.pop()
            enter = False

    def _container(self, st: state, ctx: str, data: Any, symbol: Any) -> Any:
        path = st.context(ctx, st.extension)
        box = data.get(path)
        if box is None:
            box = new_container(symbol)
            data[path] = box
        elif not hasattr(box, "append"):
            raise DefinitionError(f"{st}: data at {path!r} is a {type(box).__name__}, cannot append input")
        return box

    # -- fast path --------------------------------------------------------------------------
    def compile(self) -> Any:
        """The machine as a flat transition table (cached), for whole-buffer matching."""
        from .compiled import compiled_dfa

        if self._compiled is None:
            self._compiled = compiled_dfa(self)
        return self._compiled

    def match(self, buffer: Any, data: Any = None, path: str | None = None) -> Any:
        """Run over a whole ``buffer`` without per-symbol yields; see ``compiled_dfa.match``."""
        return self.compile().match(buffer, data=data, path=path)
