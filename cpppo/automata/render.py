"""Readable renderings of a machine: a plain-text transition table and Graphviz ``dot``.

Both walk the same data the machine runs on (each state's transitions), so the documentation
and a debugging session show exactly what will execute.  Symbol sets that go to the same target
are folded into one edge label (``'a'-'z'``), keeping large regex machines readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .states import decide, state

__all__ = ["to_dot", "to_text"]


def _symbol(sym: Any) -> str:
    if sym is None:
        return "None"
    if sym is True:
        return "True"
    return repr(sym)


def _fold(symbols: list[Any]) -> str:
    """Fold runs of consecutive characters/ints into ranges: 'a'-'z', 48-57."""
    keyed: list[tuple[int, int, Any]] = []
    for sym in symbols:
        if isinstance(sym, str) and len(sym) == 1:
            keyed.append((0, ord(sym), sym))
        elif isinstance(sym, int) and not isinstance(sym, bool):
            keyed.append((1, sym, sym))
        else:
            keyed.append((2, 0, sym))
    keyed.sort(key=lambda k: (k[0], k[1], str(k[2])))
    parts: list[str] = []
    i = 0
    while i < len(keyed):
        kind, _code, sym = keyed[i]
        j = i
        while kind < 2 and j + 1 < len(keyed) and keyed[j + 1][0] == kind and keyed[j + 1][1] == keyed[j][1] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{_symbol(sym)}-{_symbol(keyed[j][2])}")
        else:
            parts.extend(_symbol(k[2]) for k in keyed[i:j + 1])
        i = j + 1
    return ",".join(parts)


def _target(target: Any) -> str:
    if isinstance(target, decide):
        return f"{target.state if target.state is not None else 'None'} if {target.name}"
    if target is None:
        return "None (stop)"
    if isinstance(target, str):
        return f"{target!r} (by name)"
    return str(target)


def _edges(st: state) -> list[tuple[str, str, Any]]:
    """(label, target text, target) per distinct target, symbols folded."""
    groups: dict[tuple[str, int], tuple[list[Any], Any]] = {}
    specials: list[tuple[str, str, Any]] = []
    for key, target in st.transitions():
        if key is None or key is True or isinstance(target, decide):
            specials.append((_symbol(key), _target(target), target))
            continue
        slot = (_target(target), id(target))
        groups.setdefault(slot, ([], target))[0].append(key)
    edges = [(_fold(syms), text, target) for (text, _), (syms, target) in groups.items()]
    return edges + specials


def _machines(machine: Any) -> Iterable[Any]:
    from .machine import dfa

    seen: dict[Any, None] = {}
    todo = [machine]
    while todo:
        m = todo.pop(0)
        if m in seen:
            continue
        seen[m] = None
        todo.extend(s for s in m.states() if isinstance(s, dfa))
    return list(seen)


def to_text(machine: Any) -> str:
    """The machine (and its sub-machines) as an indented table of states and transitions."""
    lines: list[str] = []
    for m in _machines(machine):
        flags = [f for f, on in (("terminal", m._terminal), ("non-greedy", not m.greedy)) if on]
        ctx = f" context={m._context!r}" if m._context else ""
        lines.append(f"machine {m.name!r}{ctx}{' [' + ', '.join(flags) + ']' if flags else ''}")
        for st in m.states():
            mark = " <- initial" if st is m.initial else ""
            lines.append(f"  {type(st).__name__} {st}{mark}")
            for label, text, _ in _edges(st):
                lines.append(f"    {label} -> {text}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(machine: Any) -> str:
    """Graphviz ``dot`` source: one cluster per machine, double circles for terminal states."""
    from .machine import dfa

    ids: dict[tuple[int, int], str] = {}

    def node(m: Any, st: Any) -> str:
        return ids.setdefault((id(m), id(st)), f"n{len(ids)}")

    out = ["digraph automata {", "  rankdir=LR;", "  node [shape=circle];"]
    for k, m in enumerate(_machines(machine)):
        out.append(f"  subgraph cluster_{k} {{")
        out.append(f"    label={_quote(m.name)};")
        start = f"start{k}"
        out.append(f"    {start} [shape=point];")
        for st in m.states():
            shape = "doublecircle" if st._terminal else "circle"
            if isinstance(st, dfa):
                shape = "doubleoctagon" if st._terminal else "octagon"
            out.append(f"    {node(m, st)} [label={_quote(st.name)}, shape={shape}];")
        out.append(f"    {start} -> {node(m, m.initial)};")
        for st in m.states():
            for label, _, target in _edges(st):
                dest = target.state if isinstance(target, decide) else target
                if isinstance(dest, state):
                    out.append(f"    {node(m, st)} -> {node(m, dest)} [label={_quote(label)}];")
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"
