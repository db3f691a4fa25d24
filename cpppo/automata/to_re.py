"""A DFA's language as a Python regular expression (Brzozowski's algebraic method).

Each state ``i`` is an equation ``X_i = sum_c c X_j (+ empty string if i is final)``; states
are eliminated one by one with Arden's rule ``X = A X | B  =>  X = A* B``.  Because the input
is deterministic, every alternation (and every loop-or-leave choice) produced this way starts
with disjoint first characters, so Python's backtracking ``re`` decides each branch on one
character and matches in linear time.  The result is a plain string pattern; callers cap its
size, since the regex of a large automaton can grow quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["PatternTooLarge", "dfa_to_pattern"]


class PatternTooLarge(Exception):
    """The regular expression grew beyond the caller's limit."""


def _alt(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    if a == b:
        return a
    if b == "":
        return f"(?:{a})?"
    if a == "":
        return f"(?:{b})?"
    return f"(?:{a}|{b})"


def _cat(*parts: str | None) -> str | None:
    if any(p is None for p in parts):
        return None
    return "".join(p for p in parts if p)


def _star(a: str | None) -> str:
    return "" if not a else f"(?:{a})*"


def dfa_to_pattern(
    count: int,
    edges: Mapping[int, Mapping[int, Iterable[Any]]],
    finals: Iterable[int],
    render: Callable[[frozenset[Any]], str],
    limit: int = 50_000,
) -> str | None:
    """The language of a DFA with states ``0..count-1`` (initial 0) as a pattern string.

    ``edges[i][j]`` holds the symbols leading from ``i`` to ``j``; ``render(symbols)`` gives a
    one-character pattern for such a set.  Returns None for the empty language; raises
    ``PatternTooLarge`` past ``limit`` characters.
    """
    coef: list[dict[int, str]] = [{} for _ in range(count)]
    const: list[str | None] = [None] * count
    for i, row in edges.items():
        for j, symbols in row.items():
            group = frozenset(symbols)
            if group:
                coef[i][j] = render(group)
    for i in finals:
        const[i] = ""
    for k in range(count - 1, 0, -1):
        loop = _star(coef[k].pop(k, None))
        rest = {j: _cat(loop, r) for j, r in coef[k].items()}
        tail = _cat(loop, const[k])
        for i in range(k):
            into = coef[i].pop(k, None)
            if into is None:
                continue
            for j, r in rest.items():
                merged = _alt(coef[i].get(j), _cat(into, r))
                if merged is not None:
                    if len(merged) > limit:
                        raise PatternTooLarge(f"pattern beyond {limit} characters")
                    coef[i][j] = merged
            joined = _alt(const[i], _cat(into, tail))
            if joined is not None and len(joined) > limit:
                raise PatternTooLarge(f"pattern beyond {limit} characters")
            const[i] = joined
    return _cat(_star(coef[0].get(0)), const[0])
