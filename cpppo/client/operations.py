"""The documented tag-operation language, parsed into operation dicts.

Users write operations as short strings on command lines and in scripts::

    Tag  Tag[3]  Tag[1-5]  Tag*10  Tag[1].Sub[0-9]  Tag[0-9]+16=(DINT)4,5,6
    'TEXT[1]=(SSTRING)"Hello, world!"'   @0x1FF/01/0x1A[99]=1   @4/5/{"connection":100}
    GRID[1,2]  Program:Main.Local  D.3=1  'M1={"Speed": 1.5, ...}'

Each becomes the documented dict (``method``, ``path`` as a list of JSON segments, ``elements``,
``offset``, ``tag_type``, ``data``), which the client core turns into requests.  Parsing is done
once per operation and never on the I/O path; a malformed operation raises
:class:`OperationError` naming the text it could not parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..cip.epath import LOGICAL_KINDS, path_from_json
from ..cip.types import STRUCTURE, NumericType, TypeCode, type_by_code, type_by_name
from ..errors import CpppoError, EncodeError

__all__ = ["OperationError", "describe", "parse_address_text", "parse_number", "parse_operation", "parse_operations",
           "parse_path"]


class OperationError(CpppoError, ValueError):
    """An operation string (or dict) cannot be understood; the message quotes it."""


_NUMBER = re.compile(r"^\s*(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+)\s*$")
_NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_:]*)((?:\[[^\]]*\])*)$")
_INDEX = re.compile(r"\[([^\]]*)\]")
_SUFFIX = re.compile(r"([+*])\s*(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+)\s*$")
_CAST = re.compile(r"^\s*\(\s*([A-Za-z]+)\s*\)\s*")
_POSITIONAL = ("class", "instance", "attribute", "element")


def parse_number(text: str) -> int:
    """Decimal (leading zeros allowed, as in ``@0x1FF/01/0x1A``), 0x hex, 0o octal or 0b binary."""
    m = _NUMBER.match(text)
    if not m:
        raise ValueError(f"{text.strip()!r} is not a number")
    digits = m.group(1)
    return int(digits, 0) if digits[:2].lower() in ("0x", "0o", "0b") else int(digits, 10)


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside {...}, [...] and quotes (operation strings are short)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == "\\":
                continue
            if ch == quote and (i == 0 or text[i - 1] != "\\"):
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _range(text: str, what: str) -> tuple[int, int | None]:
    """``3`` -> (3, None); ``1-5`` -> (1, 5)."""
    lo, dash, hi = text.partition("-")
    try:
        begin = parse_number(lo)
        end = parse_number(hi) if dash else None
    except ValueError:
        raise OperationError(f"{what}: index [{text}] is not <n> or <n>-<m>") from None
    if end is not None and end < begin:
        raise OperationError(f"{what}: index range [{text}] descends")
    return begin, end


def _suffixes(text: str, what: str) -> tuple[str, int | None, int | None]:
    """Strip a trailing ``+offset`` and/or ``*count``; return (rest, offset, count)."""
    offset = count = None
    for _ in range(2):
        m = _SUFFIX.search(text)
        if not m:
            break
        value = parse_number(m.group(2))
        if m.group(1) == "+":
            if offset is not None:
                raise OperationError(f"{what}: two byte offsets")
            offset = value
        else:
            if count is not None:
                raise OperationError(f"{what}: two element counts")
            count = value
        text = text[: m.start()].rstrip()
    return text, offset, count


def _symbolic(text: str, what: str) -> tuple[list[dict[str, Any]], tuple[int, int | None] | None, int | None]:
    """``Tag[1].Sub[0-9]`` -> segments, the last segment's index range (if any), and a final ``.bit``.

    ``GRID[1,2]`` (or ``GRID[1][2]``) gives one element segment per dimension.
    """
    segs: list[dict[str, Any]] = []
    last: tuple[int, int | None] | None = None
    names = text.split(".")
    bit = None
    if len(names) > 1 and names[-1].strip().isdigit():  # D.3: bit 3 of D
        bit = int(names.pop().strip())
    for n, part in enumerate(names):
        m = _NAME.match(part.strip())
        if not m:
            raise OperationError(f"{what}: {part.strip()!r} is not a tag name (optionally with [index])")
        segs.append({"symbolic": m.group(1)})
        last = None
        groups = _INDEX.findall(m.group(2))
        for g, group in enumerate(groups):
            indexes = group.split(",")
            for i, idx in enumerate(indexes):
                begin, end = _range(idx.strip(), what)
                if end is not None and (n != len(names) - 1 or g != len(groups) - 1 or i != len(indexes) - 1):
                    raise OperationError(f"{what}: only the last index may be a range")
                segs.append({"element": begin})
                last = (begin, end)
    if bit is not None and last is not None and last[1] is not None:
        raise OperationError(f"{what}: a bit (.{bit}) cannot follow an index range")
    return segs, last, bit


def _numeric(text: str, what: str) -> tuple[list[dict[str, Any]], tuple[int, int | None] | None]:
    """``0x2/1/1``, ``4/5/{"connection":100}``, ``{"class":4}/5/...``, optionally ending ``[n-m]``."""
    last: tuple[int, int | None] | None = None
    m = re.search(r"\[([^\]{}]*)\]\s*$", text)
    if m:
        last = _range(m.group(1).strip(), what)
        text = text[: m.start()]
    segs: list[dict[str, Any]] = []
    for pos, raw in enumerate(_split_top(text, "/")):
        part = raw.strip()
        if part.startswith("{"):
            try:
                seg = json.loads(part)
                path_from_json([seg])  # validates the segment's shape
            except (json.JSONDecodeError, EncodeError) as exc:
                raise OperationError(f"{what}: path segment {part!r} is not a valid JSON segment: {exc}") from None
            segs.append(seg)
            continue
        if pos >= len(_POSITIONAL):
            raise OperationError(f"{what}: more than {len(_POSITIONAL)} numeric path parts; use JSON segments")
        try:
            segs.append({_POSITIONAL[pos]: parse_number(part)})
        except ValueError:
            raise OperationError(f"{what}: path part {part!r} is neither a number nor a JSON segment") from None
    if not segs:
        raise OperationError(f"{what}: empty numeric path")
    if last is not None:
        if "element" in segs[-1]:
            segs[-1] = {"element": last[0]}
        else:
            segs.append({"element": last[0]})
    return segs, last


def parse_path(text: str, what: str | None = None) -> tuple[list[dict[str, Any]], int | None, int | None, bool]:
    """Parse an address: (JSON segments, elements from a range or ``*n`` or None, byte offset, indexed?)."""
    what = what or repr(text)
    segs, elements, offset, indexed, bit = parse_address_text(text, what)
    if bit is not None:
        raise OperationError(f"{what}: a bit address (.{bit}) is an operation; use parse_operations or results")
    return segs, elements, offset, indexed


def parse_address_text(text: str, what: str | None = None) -> tuple[list[dict[str, Any]], int | None, int | None,
                                                                    bool, int | None]:
    """:func:`parse_path`, and the bit a ``Tag.3`` address ends with (or None)."""
    what = what or repr(text)
    body, offset, count = _suffixes(text.strip(), what)
    if not body:
        raise OperationError(f"{what}: no tag name or @class/instance/attribute")
    bit = None
    if body.startswith("@"):
        segs, rng = _numeric(body[1:], what)
    else:
        segs, rng, bit = _symbolic(body, what)
    if bit is not None and (offset is not None or count is not None):
        raise OperationError(f"{what}: a bit (.{bit}) takes no +offset or *count")
    elements = None
    if rng is not None and rng[1] is not None:
        elements = rng[1] - rng[0] + 1
    if count is not None:
        if elements is not None and elements != count:
            raise OperationError(f"{what}: index range of {elements} elements disagrees with *{count}")
        elements = count
    if elements is not None and elements < 1:
        raise OperationError(f"{what}: element count must be at least 1")
    return segs, elements, offset, rng is not None, bit


def _split_values(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [v.strip() for v in _split_top(text, ",")]


def _unquote(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        try:
            value = json.loads('"' + text[1:-1].replace('"', '\\"').replace("\\'", "'") + '"')
        except json.JSONDecodeError:
            value = text[1:-1]
        return str(value)
    return None


def _convert(values: list[str], tag_type: int, what: str) -> list[Any]:
    ctype = type_by_code(tag_type)
    out: list[Any] = []
    for raw in values:
        if raw == "":
            raise OperationError(f"{what}: an empty value")
        quoted = _unquote(raw)
        if ctype is not None and not isinstance(ctype, NumericType):
            out.append(quoted if quoted is not None else raw)
            continue
        if quoted is not None:
            raise OperationError(f"{what}: {raw} is a string; cast it, as (SSTRING){raw}")
        kind = ctype.kind if isinstance(ctype, NumericType) else "int"
        try:
            if kind == "float":
                out.append(float(raw))
            elif kind == "bool" and raw.lower() in ("true", "false"):
                out.append(1 if raw.lower() == "true" else 0)
            else:
                out.append(parse_number(raw) if not raw.lstrip().startswith("-") else -parse_number(raw.lstrip()[1:]))
        except ValueError:
            name = ctype.name if ctype is not None else f"type 0x{tag_type:04X}"
            raise OperationError(f"{what}: {raw!r} is not a valid {name} value") from None
    if isinstance(ctype, NumericType):
        try:
            ctype.check(out)
        except EncodeError as exc:
            raise OperationError(f"{what}: {exc}") from None
    return out


def parse_operation(text: str, *, int_type: str | int | None = None, **defaults: Any) -> dict[str, Any]:
    """One operation string to its dict; ``defaults`` (e.g. ``route_path``) are added to it."""
    if not isinstance(text, str):
        raise OperationError(f"operation {text!r} is not a string")
    what = f"operation {text!r}"
    parts = _split_top(text, "=")
    address = parts[0]
    segs, elements, offset, indexed, bit = parse_address_text(address, what)
    op: dict[str, Any] = {"path": segs}
    if bit is not None:
        op["bit"] = bit
    if len(parts) == 1:
        op["method"] = "read"
        op["elements"] = elements or 1
    elif _STRUCTS.match("=".join(parts[1:])):
        data = _structures("=".join(parts[1:]), what)
        if elements is not None and indexed and elements != len(data):
            raise OperationError(f"{what}: {len(data)} values for a range of {elements} elements")
        op.update(method="write", elements=elements or len(data), tag_type=STRUCTURE, data=data)
    else:
        value_text = "=".join(parts[1:])
        cast = _CAST.match(value_text)
        if cast:
            try:
                ctype = type_by_name(cast.group(1))
            except EncodeError as exc:
                raise OperationError(f"{what}: {exc}") from None
            value_text = value_text[cast.end():]
            tag_type = ctype.code
        else:
            tag_type = 0
        raw_values = _split_values(value_text)
        if not tag_type and bit is not None:
            tag_type = TypeCode.BOOL  # the holding integer's type comes from the tag list
        if not tag_type:
            if all(_unquote(v) is not None for v in raw_values):
                tag_type = TypeCode.SSTRING
            elif any("." in v for v in raw_values):
                tag_type = TypeCode.REAL
            elif int_type is not None:
                tag_type = int_type if isinstance(int_type, int) else type_by_name(int_type).code
            else:
                tag_type = TypeCode.INT
        data = _convert(raw_values, tag_type, what)
        if bit is not None:
            if any(v not in (0, 1) for v in data):
                raise OperationError(f"{what}: a bit is 0 or 1 (true or false)")
            op.update(method="write", elements=1, tag_type=int(tag_type), data=data)
            op.update(defaults)
            return op
        ctype = type_by_code(tag_type)
        size = ctype.size if ctype is not None else 0
        if elements is None:
            elements = len(data) + (offset // size if offset and size else 0)
        elif size and offset is not None:
            if offset % size or (elements * size - offset) != len(data) * size:
                raise OperationError(f"{what}: {len(data)} values do not fill {elements} elements "
                                     f"from byte offset {offset}")
        elif indexed and offset is None and elements != len(data):
            raise OperationError(f"{what}: {len(data)} values for a range of {elements} elements")
        op.update(method="write", elements=elements, tag_type=int(tag_type), data=data)
    if offset is not None:
        op["offset"] = offset
    op.update(defaults)
    return op


_STRUCTS = re.compile(r"^\s*\[?\s*\{")


def _structures(text: str, what: str) -> list[Any]:
    """``{"Speed": 1.5, ...}`` or ``[{...}, {...}]``: structure values as dicts (JSON)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OperationError(f"{what}: structure value is not JSON: {exc}") from None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, dict) for v in items):
        raise OperationError(f"{what}: a structure value is a JSON object (or a list of them)")
    return items


def parse_operations(tags: Iterable[str | Mapping[str, Any]], *, int_type: str | int | None = None,
                     **defaults: Any) -> Iterator[dict[str, Any]]:
    """Yield the operation dict for each tag string (dicts pass through, copied).

    ``int_type`` changes the type of un-cast integer writes (default INT); other keywords, such
    as ``route_path`` or ``send_path``, are added to every operation.
    """
    if isinstance(tags, (str, bytes)):
        tags = [tags]  # type: ignore[list-item]
    for tag in tags:
        if isinstance(tag, Mapping):
            op = dict(tag)
            if "path" not in op:
                raise OperationError(f"operation {tag!r} has no path")
            op.setdefault("method", "write" if "data" in op else "read")
            for key, value in defaults.items():
                op.setdefault(key, value)
            yield op
        else:
            yield parse_operation(tag, int_type=int_type, **defaults)


def _path_text(path: list[dict[str, Any]] | str) -> tuple[str, int | None]:
    """Render segments as the user wrote them; return (text without the final element, that element)."""
    if isinstance(path, str):
        return path, None
    segs = list(path)
    element = None
    if segs and set(segs[-1]) == {"element"}:
        element = segs[-1]["element"]
        segs = segs[:-1]
    if segs and all(set(s) == {"symbolic"} or set(s) == {"element"} for s in segs) and "symbolic" in segs[0]:
        out = ""
        for i, s in enumerate(segs):
            if "element" in s:
                out = out[:-1] + f",{s['element']}]" if "element" in segs[i - 1] else out + f"[{s['element']}]"
            else:
                out += ("." if out else "") + s["symbolic"]
        if element is not None and "element" in segs[-1]:  # GRID[1,2]: the last index stays with the others
            return out[:-1] + f",{element}]", None
        return out, element
    parts = []
    for pos, s in enumerate(segs):
        (kind, value), *more = s.items()
        if not more and pos < len(_POSITIONAL) and _POSITIONAL[pos] == kind and kind in LOGICAL_KINDS:
            parts.append(f"0x{value:02X}" if kind == "class" else str(value))
        else:
            parts.append(json.dumps(s, separators=(",", ":")))
    return "@" + "/".join(parts), element


def describe(op: Mapping[str, Any]) -> str:
    """The documented description of an operation: ``SCADA[1-1]``, ``Tag[0-9]+16``, ``FLOAT``."""
    try:
        text, element = _path_text(op.get("path") or [])
    except (AttributeError, TypeError, ValueError):
        return repr(op.get("path"))
    elements = op.get("elements") or 1
    if element is not None:
        text += f"[{element}-{element + elements - 1}]"
    elif elements > 1:
        text += f"*{elements}"
    if op.get("offset"):
        text += f"+{op['offset']}"
    if op.get("bit") is not None:
        text += f".{op['bit']}"
    method = op.get("method", "read")
    if method not in ("read", "write"):
        text += f" {method}"
    return text


def type_name(tag_type: int | None) -> str:
    if tag_type is None:
        return "?"
    if tag_type == STRUCTURE:
        return "STRUCT"
    ctype = type_by_code(tag_type)
    return ctype.name if ctype is not None else f"0x{tag_type:04X}"
