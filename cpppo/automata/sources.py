"""Symbol sources a machine reads from: ``peekable`` (one-symbol lookahead, push back) and
``chainable`` (more input arrives later, e.g. the next network chunk).

Strategy: keep the current chunk as the sequence the caller gave (``str``, ``bytes``, list) plus
an index, so peeking and consuming a symbol is an index operation with no allocation; iterators
that are not sequences are drawn one item at a time, so a blocking generator is never read ahead.
``sent`` counts symbols consumed, which is the "position in the input" errors report.  The run
loop in :mod:`.machine` reads ``_buf``/``_pos``/``_end`` directly for these two classes (the hot
path), so those three attributes are the contract between the modules.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["chainable", "peekable"]

_SEQUENCES = (str, bytes, bytearray, list, tuple, range)


class peekable(Iterator[Any]):
    """An iterator over symbols with ``peek()``, ``push()`` back, ``sent`` and ``chain()``.

    ``peek()`` returns the next symbol without consuming it, or ``None`` when no symbol is
    available now.  ``chain(iterable)`` appends more input; a machine that paused because input
    ran out continues with it when the caller resumes the machine's ``run()`` generator.
    """

    __slots__ = ("_base", "_buf", "_end", "_pending", "_pos")

    def __init__(self, iterable: Iterable[Any] | None = None) -> None:
        self._buf: Sequence[Any] = ()
        self._pos = 0
        self._end = 0
        self._base = 0  # symbols consumed before the current chunk
        self._pending: deque[Any] = deque()  # sequences and iterators still to read
        if iterable is not None:
            self.chain(iterable)

    # -- input ----------------------------------------------------------------------------
    def chain(self, iterable: Iterable[Any]) -> peekable:
        """Append more input after whatever is still unread; returns self."""
        if isinstance(iterable, memoryview):
            iterable = iterable.tobytes()
        self._pending.append(iterable if isinstance(iterable, _SEQUENCES) else iter(iterable))
        return self

    def _advance(self) -> bool:
        """Make the next chunk current; False if no input is available now."""
        while self._pending:
            nxt = self._pending[0]
            if isinstance(nxt, _SEQUENCES):
                self._pending.popleft()
                if not nxt:
                    continue
                chunk: Sequence[Any] = nxt
            else:
                try:
                    chunk = (next(nxt),)
                except StopIteration:
                    self._pending.popleft()
                    continue
            self._base += self._pos
            self._buf, self._pos, self._end = chunk, 0, len(chunk)
            return True
        return False

    def peek(self) -> Any:
        """The next symbol, not consumed; ``None`` if no input is available now."""
        if self._pos < self._end or self._advance():
            return self._buf[self._pos]
        return None

    def __next__(self) -> Any:
        pos = self._pos
        if pos >= self._end:
            if not self._advance():
                raise StopIteration
            pos = 0
        self._pos = pos + 1
        return self._buf[pos]

    next = __next__

    def __iter__(self) -> peekable:
        return self

    def push(self, symbol: Any) -> None:
        """Push ``symbol`` back so it is the next one read (``sent`` goes back by one)."""
        pos, buf = self._pos, self._buf
        if pos > 0 and buf[pos - 1] == symbol:
            self._pos = pos - 1
            return
        rest = buf[pos:]
        if isinstance(rest, str) and isinstance(symbol, str):
            chunk: Sequence[Any] = symbol + rest
        elif isinstance(rest, (bytes, bytearray)) and isinstance(symbol, int):
            chunk = bytes((symbol,)) + rest
        else:
            chunk = (symbol, *rest)
        self._base += pos - 1
        self._buf, self._pos, self._end = chunk, 0, len(chunk)

    # -- position -------------------------------------------------------------------------
    @property
    def sent(self) -> int:
        """How many symbols have been consumed so far."""
        return self._base + self._pos

    def __repr__(self) -> str:
        return f"<peekable sent={self.sent} next={self.peek()!r}>"


class chainable(peekable):
    """A ``peekable`` meant to be fed later with ``chain()`` (e.g. each received packet)."""

    __slots__ = ()
