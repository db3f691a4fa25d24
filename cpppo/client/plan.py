"""Operations passed through what a connection knows of a Logix controller's tags (sans-I/O).

A :class:`Plan` stands between the caller's operations and the engine: it makes concrete what
only the tag list can say -- bits (``D.3``, written with Read-Modify-Write), BOOL array elements
(``BITS[37]``, when the connector treats DWORD arrays as BOOL arrays), structures written from
dicts -- and decodes structures in the results.  When it needs the tag list or a template not yet
known, it pauses the feed and holds results until :func:`~.tag_list.upload` has run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..cip.logix_objects import STRING_HANDLE
from ..cip.types import STRUCTURE, TypeCode, type_by_code
from ..errors import EncodeError
from .operations import OperationError, describe
from .tag_list import LogixTypes, Result
from .values import RawStructure, as_values

__all__ = ["Plan"]


class Plan:
    """A stream of operations passed through a connection's :class:`LogixTypes`.

    ``feed()`` gives an engine the operations, rewritten where the knowledge is needed (bits,
    BOOL array elements, structure writes); it stops early when an operation needs knowledge not
    yet loaded.  ``take()`` passes results on, decoding structures; a structure of unknown
    handle stops the feed and holds that and later results.  When an engine has finished,
    ``wants_upload`` says whether to run :func:`upload` before ``flush()`` and the next feed.
    """

    def __init__(self, types: LogixTypes, operations: Iterable[Mapping[str, Any]]) -> None:
        self.types = types
        self._source: Iterator[Mapping[str, Any]] = iter(operations)
        self._held: Mapping[str, Any] | None = None
        self.paused = False
        self.exhausted = False
        self.pending: list[Result] = []

    # -- feeding the engine
    def feed(self) -> Iterator[dict[str, Any]]:
        self.paused = False
        while not self.paused:
            if self._held is not None:
                op, self._held = self._held, None
            else:
                try:
                    op = next(self._source)
                except StopIteration:
                    self.exhausted = True
                    return
            if not self.types.available and self._needs(op):
                self._held, self.paused = op, True
                return
            yield self.prepare(op)

    @staticmethod
    def _needs(op: Mapping[str, Any]) -> bool:
        if op.get("method", "read") != "write":
            return False
        return op.get("tag_type") == STRUCTURE or (op.get("bit") is not None and op.get("tag_type") in (None, TypeCode.BOOL))

    def prepare(self, op: Mapping[str, Any]) -> dict[str, Any]:
        """The operation as sent: bits, BOOL array elements and structure writes made concrete."""
        out = op if isinstance(op, dict) else dict(op)
        types = self.types
        if not types.logix and out.get("bit") is None and out.get("tag_type") != STRUCTURE:
            return out  # the usual case: nothing to do
        path = out.get("path")
        method = out.get("method", "read")
        if not isinstance(path, list) or not path or not isinstance(path[0], Mapping) or "symbolic" not in path[0]:
            return out
        if types.logix and out.get("bit") is None and "element" in path[-1] and "symbolic" in path[-2] \
                and types.loaded:
            head = path[:-1]
            try:
                _, code, _, array = types.resolve(head)
            except OperationError:
                code, array = 0, False
            if array and code == TypeCode.DWORD:  # a BOOL array: tag BITS[37], or member L1.Flags[37]
                return self._bool_array(out, head, int(path[-1]["element"]))
        if method == "write" and out.get("tag_type") == STRUCTURE:
            tag, code, template, _ = types.resolve(path)
            if template is None:
                raise OperationError(f"{describe(out)}: {tag.name} is not a structure")
            data = out.get("data")
            items = as_values(data) if data is not None else []
            try:
                encoded = template.encode(items)
            except EncodeError as exc:
                raise OperationError(f"{describe(out)}: {exc}") from None
            out = {**out, "handle": template.handle, "encoded": encoded, "elements": len(items)}
        elif method == "write" and out.get("bit") is not None and out.get("tag_type") in (None, TypeCode.BOOL):
            _, code, _, _ = types.resolve(path)
            ctype = type_by_code(code)
            if ctype is None or not ctype.size or code in (TypeCode.REAL, TypeCode.LREAL):
                raise OperationError(f"{describe(out)}: bits of {ctype.name if ctype else 'a structure'} "
                                     "cannot be written")
            out = {**out, "tag_type": code}
        elif method == "write" and types.logix and types.loaded and out.get("bit") is None:
            out = self._own_type(out)
        return out

    def _own_type(self, op: dict[str, Any]) -> dict[str, Any]:
        """A write in the tag's own type, where the values fit it (a Logix refuses any other type)."""
        try:
            _, code, template, _ = self.types.resolve(op["path"])
        except OperationError:
            return op  # not a tag we know: the controller will say so
        tag_type = op.get("tag_type")
        if template is not None:
            if template.handle == STRING_HANDLE and tag_type in (TypeCode.SSTRING, TypeCode.STRING):
                return {**op, "tag_type": TypeCode.STRING}
            return op
        target, given = type_by_code(code), type_by_code(tag_type) if tag_type is not None else None
        if target is None or given is None or target is given or not isinstance(op.get("data"), list):
            return op
        data = op["data"]
        if getattr(target, "kind", None) == "float" and getattr(given, "kind", None) in ("int", "bool"):
            data = [float(v) for v in data]
        elif getattr(target, "kind", None) not in ("int", "bool") or getattr(given, "kind", None) not in ("int", "bool"):
            return op
        try:
            target.encode(data)
        except EncodeError:
            return op
        return {**op, "tag_type": target.code, "data": data}

    def _bool_array(self, op: dict[str, Any], head: list[dict[str, Any]], index: int) -> dict[str, Any]:
        """``BITS[37]`` of a BOOL array (DWORDs): bit 5 of ``BITS[1]``, read or Read-Modify-Written."""
        count = int(op.get("elements") or 1)
        word, bit = divmod(index, 32)
        words = (bit + count + 31) // 32
        new = {**op, "path": [*head, {"element": word}], "elements": words, "bit": bit, "bits": count,
               "description": describe(op)}
        if new.get("method", "read") == "write":
            if words != 1:
                raise OperationError(f"{describe(op)}: a BOOL array write must stay within one DWORD "
                                     f"(elements {word * 32}..{word * 32 + 31})")
            new["tag_type"] = TypeCode.DWORD
            new["elements"] = 1
        return new

    # -- results
    def take(self, result: Result) -> bool:
        """True to pass the result on now; False holds it (a structure's template is awaited, or an
        earlier result's is): :meth:`flush` gives it later, in order."""
        if not self.pending and type(result[5]) is not RawStructure:
            return True
        if not self.types.available:
            self.paused = True  # no more operations until the templates are known
        if self.pending or not self.types.available:
            self.pending.append(result)
            return False
        return True

    @property
    def wants_upload(self) -> bool:
        return not self.types.available and (self._held is not None or bool(self.pending))

    def flush(self) -> list[Result]:
        """The held results, their structures decoded with what is now known."""
        out = []
        for idx, dsc, req, rpy, sts, raw in self.pending:
            val = raw
            if isinstance(raw, RawStructure):
                decoded = self.types.decode(STRUCTURE, raw.handle, raw.data)
                if decoded is not None:
                    val = decoded
            out.append((idx, dsc, req, rpy, sts, val))
        self.pending = []
        return out

    @property
    def finished(self) -> bool:
        return self.exhausted and self._held is None and not self.pending
