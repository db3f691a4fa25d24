"""States and transitions: the nodes of a ``cpppo.dfa``.

A state is data: a table from input symbol to the next state.  Transitions are made by item
assignment: ``E['a'] = A`` (on symbol ``'a'``), ``E[True] = X`` (any other symbol) and
``E[None] = Y`` (epsilon: taken without consuming input when nothing else matches, or at the end
of input).  A target may be a state, ``None`` (stop here: the machine ends in this state), a state
name (resolved when the machine runs, for forward references), or a ``decide`` that picks the
target with a predicate over the parsed data.

Entering a state by a symbol runs its action: ``state`` does nothing (the symbol stays for the
next transition), ``state_input`` consumes the symbol and appends it to the data at
``<path>.<context>.input``, ``state_drop`` consumes and discards it.  Plain symbol transitions live
in one dict (``_fast``) holding only states, so the running machine does one ``dict.get`` per
symbol; everything else (decisions, stop, names, ``True``, ``None``) is looked up only on a miss.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from typing import Any

from .errors import DefinitionError

__all__ = ["MISSING", "decide", "state", "state_drop", "state_input"]

MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING", "__slots__": ()})()

# Entry actions, kept as small ints so the run loop branches cheaply.
PLAIN, INPUT, DROP, MACHINE = 0, 1, 2, 3

Target = Any  # state | None | str | decide


class decide:
    """A conditional transition: go to ``state`` if ``predicate(...)`` holds, else no decision.

    Several decisions may be assigned to the same key of a state; they are tried in order and
    the first that returns a state wins; if none does, the plain target for that key (if any) is
    used.  The predicate is called with keywords ``machine``, ``source``, ``path`` and ``data``.
    """

    __slots__ = ("name", "predicate", "state")

    def __init__(self, name: str, state: Any = None, predicate: Callable[..., Any] | None = None) -> None:
        self.name = name
        self.state = state
        self.predicate = predicate

    def __call__(self, machine: Any = None, source: Any = None, path: str | None = None, data: Any = None) -> Any:
        if self.predicate is None or self.predicate(machine=machine, source=source, path=path, data=data):
            return self.state
        return None

    def __repr__(self) -> str:
        return f"<decide {self.name!r} -> {self.state}>"


class state:
    """A state of a machine; ``terminal=True`` marks it as an accepting state.

    ``alphabet`` (a container such as a ``set``, ``str`` or ``range``, or a type) restricts the
    symbols its transitions may use; ``context`` and ``extension`` name where ``state_input``
    stores data (``<machine path>.<context><extension>``).
    """

    __slots__ = ("__weakref__", "_any", "_context", "_dec", "_eps", "_extension", "_fast", "_simple",
                 "_terminal", "alphabet", "name")
    _kind = PLAIN

    def __init__(
        self,
        name: str,
        terminal: bool = False,
        alphabet: Container[Any] | type | None = None,
        context: str | None = None,
        extension: str | None = None,
    ) -> None:
        self.name = str(name)
        self._terminal = bool(terminal)
        self.alphabet = alphabet
        self._context = context or None
        self._extension = extension or ""
        self._fast: dict[Any, state] = {}  # symbol -> state, no conditions
        self._dec: dict[Any, list[Any]] = {}  # key -> [decide..., optional plain target last]
        self._any: Target = MISSING  # the True transition
        self._eps: Target = MISSING  # the None transition
        self._simple = True  # no decisions, stops, names or True: a miss means "epsilon or stop"

    # -- identity ---------------------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        return self._terminal

    def __bool__(self) -> bool:  # a state is never "empty", whatever len() says
        return True

    def __str__(self) -> str:
        return f"(({self.name}))" if self.terminal else f"( {self.name} )"

    def __repr__(self) -> str:
        return f"<{self}>"

    def name_centered(self, width: int = 40) -> str:
        """``str(self)`` centred in ``width`` columns, for aligned traces."""
        return str(self).center(width)

    def context(self, path: str | None = None, extension: str | None = None) -> str:
        """Join ``path`` and this state's context with ``.``, then append ``extension``."""
        ctx = self._context
        if path:
            joined = f"{path}.{ctx}" if ctx else path
        elif ctx:
            joined = ctx
        else:
            return (extension or "").lstrip(".")
        return joined + extension if extension else joined

    @property
    def extension(self) -> str:
        return self._extension

    # -- transitions ------------------------------------------------------------------------
    def _check(self, symbol: Any) -> None:
        alphabet = self.alphabet
        if alphabet is None:
            return
        ok = isinstance(symbol, alphabet) if isinstance(alphabet, type) else symbol in alphabet
        if not ok:
            raise DefinitionError(f"{self}: symbol {symbol!r} is not in the alphabet {alphabet!r}")

    @staticmethod
    def _keys(key: Any) -> tuple[Any, ...]:
        if isinstance(key, (tuple, list, set, frozenset)):
            return tuple(key)
        return (key,)

    def __setitem__(self, key: Any, target: Target) -> None:
        if not (target is None or isinstance(target, (state, decide, str))):
            raise DefinitionError(f"{self}[{key!r}]: target {target!r} is not a state, decide, name or None")
        for k in self._keys(key):
            self._set(k, target)
        self._simple = not self._dec and self._any is MISSING

    def _set(self, key: Any, target: Target) -> None:
        if key is not None and key is not True:
            self._check(key)
        entries = self._dec.get(key)
        if isinstance(target, decide):
            if entries is None:  # start a decision list; any plain target becomes its fallback
                plain = self._plain(key)
                self._clear(key)
                self._dec[key] = [target] if plain is MISSING else [target, plain]
            elif entries and not isinstance(entries[-1], decide):
                entries.insert(len(entries) - 1, target)
            else:
                entries.append(target)
            return
        if entries is not None:  # replace (or add) the fallback after the decisions
            decisions = [e for e in entries if isinstance(e, decide)]
            if decisions or not (key is None or key is True or isinstance(target, state)):
                self._dec[key] = [*decisions, target]
                return
            del self._dec[key]
        self._clear(key)
        if key is None:
            self._eps = target
        elif key is True:
            self._any = target
        elif isinstance(target, state):
            self._fast[key] = target
        else:
            self._dec[key] = [target]  # stop (None) or a name: resolved on the slow path

    def _plain(self, key: Any) -> Target:
        if key is None:
            return self._eps
        if key is True:
            return self._any
        return self._fast.get(key, MISSING)

    def _clear(self, key: Any) -> None:
        if key is None:
            self._eps = MISSING
        elif key is True:
            self._any = MISSING
        else:
            self._fast.pop(key, None)

    def __getitem__(self, key: Any) -> Target:
        if key in self._dec:
            entries = self._dec[key]
            return entries[0] if len(entries) == 1 else tuple(entries)
        target = self._plain(key)
        if target is MISSING:
            raise KeyError(key)
        return target

    def __contains__(self, key: Any) -> bool:
        return key in self._dec or self._plain(key) is not MISSING

    def __delitem__(self, key: Any) -> None:
        if key not in self:
            raise KeyError(key)
        self._dec.pop(key, None)
        self._clear(key)
        self._simple = not self._dec and self._any is MISSING

    def transitions(self) -> Iterator[tuple[Any, Target]]:
        """Every ``(key, target)`` pair: symbols, then ``True``, then ``None``; decisions expanded."""
        for key, target in self._fast.items():
            yield key, target
        for key, entries in self._dec.items():
            if key is not None and key is not True:
                for target in entries:
                    yield key, target
        for key, plain in ((True, self._any), (None, self._eps)):
            for target in self._dec.get(key, ()):
                yield key, target
            if plain is not MISSING:
                yield key, plain

    def keys(self) -> list[Any]:
        return list(dict.fromkeys(k for k, _ in self.transitions()))

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    @property
    def needs_input(self) -> bool:
        """True if some transition out of this state depends on an input symbol."""
        return bool(self._fast) or self._any is not MISSING or any(k is not None for k in self._dec)

    def choose(self, symbol: Any, machine: Any = None, source: Any = None, path: str | None = None,
               data: Any = None) -> tuple[Target, bool]:
        """The transition for ``symbol`` (``None``: no input) as ``(target, consumes)``.

        ``target`` is ``MISSING`` when there is no transition at all, ``None`` for an explicit
        stop; ``consumes`` is False for epsilon transitions.
        """
        if symbol is not None:
            target = self._fast.get(symbol, MISSING)
            if target is not MISSING:
                return target, True
            dec = self._dec
            if symbol in dec:
                target = _decide(dec[symbol], machine, source, path, data)
                if target is not MISSING:
                    return target, True
            if True in dec:
                target = _decide(dec[True], machine, source, path, data)
                if target is not MISSING:
                    return target, True
            if self._any is not MISSING:
                return self._any, True
        if None in self._dec:
            target = _decide(self._dec[None], machine, source, path, data)
            if target is not MISSING:
                return target, False
        return self._eps, False


def _decide(entries: list[Any], machine: Any, source: Any, path: str | None, data: Any) -> Target:
    for entry in entries:
        if isinstance(entry, decide):
            target = entry(machine=machine, source=source, path=path, data=data)
            if target is not None:
                return target
        else:
            return entry
    return MISSING


class state_input(state):
    """Consumes the symbol that led here and appends it to the data at ``<path>[.context].input``."""

    __slots__ = ()
    _kind = INPUT

    def __init__(self, name: str, terminal: bool = False, alphabet: Container[Any] | type | None = None,
                 context: str | None = None, extension: str | None = None) -> None:
        super().__init__(name, terminal=terminal, alphabet=alphabet, context=context,
                         extension=extension or ".input")


class state_drop(state):
    """Consumes the symbol that led here and throws it away (separators, padding)."""

    __slots__ = ()
    _kind = DROP
