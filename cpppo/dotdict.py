"""``dotdict``: a dict whose keys may be dotted paths, with attribute access.

Protocol parsers store what they decode under paths such as ``request.path.segment[0].class``;
a reply is read back the same way or as ``reply.path.segment[0].class``.  The strategy is to
keep each level an ordinary ``dict`` (fast, picklable, printable as a dict) and to walk a path
only when a key actually contains ``.`` or ``[`` (parsed paths are cached).  Setting a path
creates the intermediate levels; an index ``l[3]`` addresses an existing list (one past its end
appends a new level).  A leading ``.`` is ignored, so ``data[path + '.x']`` works when ``path``
is empty.  A plain ``dict`` stored in a dotdict becomes a dotdict.

As in cpppo 5, iterating a dotdict -- ``for k in d``, ``keys()``, ``values()``, ``items()`` --
walks its *leaves* by dotted path (``request.path.segment[0].class``), which is what the
documented ``for k, v in reply.items(): print(k, v)`` prints; ``len()``, ``repr()``, ``==`` and
the ``dict`` methods that are not iteration see the top level, as for any dict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from itertools import pairwise
from typing import Any

__all__ = ["dotdict"]

_MISSING: Any = object()
_STEP = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]|(\.)")


@lru_cache(maxsize=4096)
def _parse(key: str) -> tuple[str | int, ...]:
    """Split ``'a.b[0].c'`` into ``('a', 'b', 0, 'c')``; refuse malformed paths (cached)."""
    steps: list[str | int] = []
    # a leading '.' is ignored, so the idiom ``data[path + '.field']`` works with an empty path
    pos, end, want_name = (1 if key.startswith(".") else 0), len(key), True
    while pos < end:
        m = _STEP.match(key, pos)
        if m is None:
            raise KeyError(f"malformed dotdict key {key!r} at offset {pos}")
        name, index, _dot = m.groups()
        if name is not None:
            if not want_name:
                raise KeyError(f"malformed dotdict key {key!r} at offset {pos}")
            steps.append(name)
            want_name = False
        elif index is not None:
            if want_name:
                raise KeyError(f"malformed dotdict key {key!r} at offset {pos}")
            steps.append(int(index))
        else:
            if want_name:
                raise KeyError(f"malformed dotdict key {key!r} at offset {pos}")
            want_name = True
        pos = m.end()
    if want_name:
        raise KeyError(f"malformed dotdict key {key!r}")
    return tuple(steps)


def _is_path(key: object) -> bool:
    return isinstance(key, str) and ("." in key or "[" in key)


class dotdict(dict):
    """A ``dict`` addressed by dotted paths: ``d['a.b'] is d['a']['b'] is d.a.b``.

    >>> d = dotdict()
    >>> d['request.path'] = 'x'
    >>> d.request.path, d.get('request.missing', 0)
    ('x', 0)
    """

    __slots__ = ()

    def __init__(self, *args: Any, **kwds: Any) -> None:
        super().__init__()
        if args or kwds:
            self.update(*args, **kwds)

    # -- path walking ---------------------------------------------------------------------
    def _resolve(self, key: str) -> tuple[Any, str | int]:
        """Return (container, last step) for an existing path, or raise KeyError."""
        steps = _parse(key)
        node: Any = self
        for step in steps[:-1]:
            try:
                node = dict.__getitem__(node, step) if isinstance(node, dict) else node[step]
            except (KeyError, IndexError, TypeError):
                raise KeyError(key) from None
        return node, steps[-1]

    def __getitem__(self, key: Any) -> Any:
        if not _is_path(key):
            return dict.__getitem__(self, key)
        node, last = self._resolve(key)
        try:
            return node[last]
        except (KeyError, IndexError, TypeError):
            raise KeyError(key) from None

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(value) is dict:
            value = dotdict(value)
        if not _is_path(key):
            dict.__setitem__(self, key, value)
            return
        steps = _parse(key)
        node: Any = self
        for step, after in pairwise(steps):
            if isinstance(step, int):
                if not isinstance(node, list):
                    raise KeyError(f"{key!r}: [{step}] indexes a {type(node).__name__}, not a list")
                if step == len(node):
                    node.append(dotdict())
                try:
                    node = node[step]
                except IndexError:
                    raise KeyError(f"{key!r}: index [{step}] out of range") from None
                continue
            if not isinstance(node, dict):
                raise KeyError(f"{key!r}: {step!r} names a member of a {type(node).__name__}, not of a dict")
            child = node.get(step, _MISSING)
            if child is _MISSING:
                child = [] if isinstance(after, int) else dotdict()
                node[step] = child
            node = child
        last = steps[-1]
        if isinstance(last, int):
            if not isinstance(node, list):
                raise KeyError(f"{key!r}: [{last}] indexes a {type(node).__name__}, not a list")
            if last == len(node):
                node.append(value)
                return
        try:
            node[last] = value
        except (IndexError, TypeError) as exc:
            raise KeyError(f"{key!r}: {exc}") from None

    def __delitem__(self, key: Any) -> None:
        if not _is_path(key):
            dict.__delitem__(self, key)
            return
        node, last = self._resolve(key)
        try:
            del node[last]
        except (KeyError, IndexError, TypeError):
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        if not _is_path(key):
            return dict.__contains__(self, key)
        try:
            self[key]
        except KeyError:
            return False
        return True

    def get(self, key: Any, default: Any = None) -> Any:
        if not _is_path(key):
            return dict.get(self, key, default)
        try:
            return self[key]
        except KeyError:
            return default

    def setdefault(self, key: Any, default: Any = None) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            self[key] = value = default
        return value

    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        try:
            value = self[key]
        except KeyError:
            if default is _MISSING:
                raise
            return default
        del self[key]
        return value

    def update(self, *args: Any, **kwds: Any) -> None:  # type: ignore[override]
        if args:
            (other,) = args
            items: Iterable[tuple[Any, Any]] = other.items() if isinstance(other, Mapping) else other
            for key, value in items:
                self[key] = value
        for key, value in kwds.items():
            self[key] = value

    # -- attribute access -----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return dict.__getitem__(self, name)
        except KeyError:
            raise AttributeError(f"dotdict has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        dict.__setitem__(self, name, dotdict(value) if type(value) is dict else value)

    def __delattr__(self, name: str) -> None:
        try:
            dict.__delitem__(self, name)
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *(k for k in dict.keys(self) if isinstance(k, str) and k.isidentifier())]

    # -- copies and views -----------------------------------------------------------------
    def copy(self) -> dotdict:
        """A shallow copy that is still a ``dotdict``."""
        return dotdict(dict.items(self))

    def __copy__(self) -> dotdict:
        return self.copy()

    def __reduce__(self) -> tuple[Any, ...]:
        return (dotdict, (), None, None, iter(dict.items(self)))

    def __repr__(self) -> str:
        return dict.__repr__(self)

    def paths(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """Yield ``(dotted path, value)`` for every leaf, depth first, in insertion order.

        A non-empty dotdict is walked into; so is a non-empty list of nothing but dotdicts (its
        items as ``path[i]``); anything else -- an empty dotdict, any other list -- is a leaf.
        """
        for key, value in dict.items(self):
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dotdict) and value:
                yield from value.paths(path)
            elif isinstance(value, list) and value and all(isinstance(v, dotdict) for v in value):
                for i, item in enumerate(value):
                    yield from item.paths(f"{path}[{i}]")
            else:
                yield path, value

    # -- iteration: the leaves, by dotted path (cpppo 5) ---------------------------------------
    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return (path for path, _ in self.paths())

    def keys(self) -> Iterator[str]:  # type: ignore[override]
        return (path for path, _ in self.paths())

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        return (value for _, value in self.paths())

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        return self.paths()
