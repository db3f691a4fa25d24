"""EPATH: the CIP addressing path, as segments, bytes, and the documented JSON form.

A path is a tuple of segments.  On the wire::

    logical    [001 t ff] value          t = class 0x20, instance 0x24, element 0x28,
                                         connection point 0x2C, attribute 0x30;
                                         ff = 0: 8-bit, 1: 16-bit, 2: 32-bit value
                                         (padded paths put one pad byte before 16/32-bit values)
    port       [000 x pppp] [size] [ext port UINT] link [pad]
                                         pppp 1..14 is the port; 15 means a UINT port follows;
                                         x set: a link address of ``size`` bytes (an IP address
                                         as text), padded to an even length
    symbolic   [0x91] [len] name [pad]   ANSI extended symbol, padded to an even length

The JSON/dict form the documents use is ``{"class": 2}``, ``{"instance": 1}``,
``{"attribute": 7}``, ``{"element": 3}``, ``{"connection": 100}``, ``{"symbolic": "Tag"}`` and
``{"port": 1, "link": 0}`` (or ``"link": "192.168.1.2"``).
"""

from __future__ import annotations

import ipaddress
import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DecodeError, EncodeError
from .status import GeneralStatus

__all__ = [
    "CONNECTION_MANAGER_PATH",
    "LOGICAL_KINDS",
    "MESSAGE_ROUTER_PATH",
    "Logical",
    "Path",
    "Port",
    "Segment",
    "Symbolic",
    "decode_path",
    "encode_path",
    "parse_route_path",
    "path_from_json",
    "path_to_json",
]


@dataclass(frozen=True, slots=True)
class Logical:
    """A logical segment: ``kind`` is class, instance, element, connection or attribute."""

    kind: str
    value: int

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.value}


@dataclass(frozen=True, slots=True)
class Port:
    """A port segment: leave the device by ``port`` (1 = backplane) toward ``link``.

    ``link`` is a number (a slot, a node address) or an IP address as text.
    """

    port: int
    link: int | str

    def to_json(self) -> dict[str, Any]:
        return {"port": self.port, "link": self.link}


@dataclass(frozen=True, slots=True)
class Symbolic:
    """An ANSI extended symbolic segment: a tag or member name."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"symbolic": self.name}


Segment = Logical | Port | Symbolic
Path = tuple[Segment, ...]

MESSAGE_ROUTER_PATH: Path = (Logical("class", 0x02), Logical("instance", 1))
"""The Message Router (``@2/1``): where Multiple Service Packets and connections are addressed."""
CONNECTION_MANAGER_PATH: Path = (Logical("class", 0x06), Logical("instance", 1))
"""The Connection Manager (``@6/1``): Unconnected Send, Forward Open and Forward Close."""

LOGICAL_KINDS: dict[str, int] = {
    "class": 0x20,
    "instance": 0x24,
    "element": 0x28,
    "connection": 0x2C,
    "attribute": 0x30,
}
_KIND_OF: dict[int, str] = {v: k for k, v in LOGICAL_KINDS.items()}
_WIDE_KINDS = frozenset(("instance", "element", "connection"))  # the kinds with a 32-bit form

_UINT = struct.Struct("<H")
_UDINT = struct.Struct("<I")
_PATH_ERROR = GeneralStatus.PATH_SEGMENT_ERROR


def _encode_logical(seg: Logical, padded: bool, out: bytearray) -> None:
    base = LOGICAL_KINDS.get(seg.kind)
    if base is None:
        raise EncodeError(f"unknown logical segment kind {seg.kind!r}")
    v = seg.value
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise EncodeError(f"{seg.kind} value must be a non-negative integer, not {v!r}")
    if v <= 0xFF:
        out += bytes((base, v))
    elif v <= 0xFFFF:
        out += bytes((base | 1, 0)) if padded else bytes((base | 1,))
        out += _UINT.pack(v)
    elif v <= 0xFFFFFFFF and seg.kind in _WIDE_KINDS:
        out += bytes((base | 2, 0)) if padded else bytes((base | 2,))
        out += _UDINT.pack(v)
    else:
        raise EncodeError(f"{seg.kind} value {v} is too large")


def _link_bytes(link: int | str) -> bytes | int:
    """A link as a 1-byte number, or the bytes of an extended link address."""
    if isinstance(link, bool):
        raise EncodeError(f"invalid port link {link!r}")
    if isinstance(link, int):
        if 0 <= link <= 0xFF:
            return link
        raise EncodeError(f"numeric port link {link} does not fit in one byte")
    if isinstance(link, str):
        try:
            return str(ipaddress.ip_address(link)).encode("ascii")
        except ValueError:
            raise EncodeError(f"port link {link!r} is neither a number nor an IP address") from None
    raise EncodeError(f"invalid port link {link!r}")


def _encode_port(seg: Port, out: bytearray) -> None:
    port = seg.port
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 0xFFFF:
        raise EncodeError(f"port must be 1..65535, not {port!r}")
    link = _link_bytes(seg.link)
    ext = port >= 15
    start = len(out)
    if isinstance(link, int):
        out.append(0x0F if ext else port)
        if ext:
            out += _UINT.pack(port)
        out.append(link)
    else:
        if len(link) > 0xFF:
            raise EncodeError("port link address too long")
        out.append(0x10 | (0x0F if ext else port))
        out.append(len(link))
        if ext:
            out += _UINT.pack(port)
        out += link
    if (len(out) - start) % 2:
        out.append(0)


def _encode_symbolic(seg: Symbolic, out: bytearray) -> None:
    try:
        raw = seg.name.encode("ascii")
    except UnicodeEncodeError:
        raise EncodeError(f"symbol {seg.name!r} is not ASCII") from None
    if not 0 < len(raw) <= 0xFF:
        raise EncodeError(f"symbol {seg.name!r} must be 1..255 characters")
    out += bytes((0x91, len(raw)))
    out += raw
    if len(raw) % 2:
        out.append(0)


def encode_path(path: Iterable[Segment], *, padded: bool = True) -> bytes:
    """Encode segments to EPATH bytes (without the size prefix)."""
    out = bytearray()
    for seg in path:
        if isinstance(seg, Logical):
            _encode_logical(seg, padded, out)
        elif isinstance(seg, Symbolic):
            _encode_symbolic(seg, out)
        elif isinstance(seg, Port):
            _encode_port(seg, out)
        else:
            raise EncodeError(f"not a path segment: {seg!r}")
    return bytes(out)


def _decode_port(buf: bytes | memoryview, off: int, end: int) -> tuple[Port, int]:
    start = off
    code = buf[off]
    off += 1
    ext_link = code & 0x10
    port = code & 0x0F
    size = 0
    if ext_link:
        if off >= end:
            raise DecodeError("port segment link size truncated", off, _PATH_ERROR)
        size = buf[off]
        off += 1
    if port == 0x0F:
        if off + 2 > end:
            raise DecodeError("extended port number truncated", off, _PATH_ERROR)
        (port,) = _UINT.unpack_from(buf, off)
        off += 2
    if port == 0:
        raise DecodeError("port segment with port 0", start, _PATH_ERROR)
    link: int | str
    if ext_link:
        if off + size > end:
            raise DecodeError("port segment link address truncated", off, _PATH_ERROR)
        raw = bytes(buf[off : off + size])
        off += size
        try:
            link = raw.rstrip(b"\0").decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError("port segment link address is not text", off - size, _PATH_ERROR) from None
    else:
        if off >= end:
            raise DecodeError("port segment link truncated", off, _PATH_ERROR)
        link = buf[off]
        off += 1
    if (off - start) % 2:
        off += 1  # pad byte
        if off > end:
            raise DecodeError("port segment pad truncated", off, _PATH_ERROR)
    return Port(port, link), off


def decode_path(
    buf: bytes | memoryview, offset: int = 0, end: int | None = None, *, padded: bool = True
) -> Path:
    """Decode the EPATH segments in ``buf[offset:end]`` (all of it must be segments)."""
    if end is None:
        end = len(buf)
    if end > len(buf):
        raise DecodeError("path extends past the end of the data", len(buf), _PATH_ERROR)
    segs: list[Segment] = []
    off = offset
    while off < end:
        code = buf[off]
        if 0x20 <= code <= 0x3F and (code & 0x03) != 0x03:
            kind = _KIND_OF.get(code & 0xFC)
            if kind is None:
                raise DecodeError(f"unsupported logical segment 0x{code:02X}", off, _PATH_ERROR)
            fmt = code & 0x03
            if fmt == 0:
                if off + 2 > end:
                    raise DecodeError(f"{kind} segment truncated", off, _PATH_ERROR)
                segs.append(Logical(kind, buf[off + 1]))
                off += 2
            else:
                if fmt == 2 and kind not in _WIDE_KINDS:
                    raise DecodeError(f"a {kind} segment has no 32-bit form", off, _PATH_ERROR)
                pos = off + (2 if padded else 1)
                width = 2 if fmt == 1 else 4
                if pos + width > end:
                    raise DecodeError(f"{kind} segment truncated", off, _PATH_ERROR)
                value = (_UINT if fmt == 1 else _UDINT).unpack_from(buf, pos)[0]
                segs.append(Logical(kind, value))
                off = pos + width
        elif code == 0x91:
            if off + 2 > end:
                raise DecodeError("symbolic segment truncated", off, _PATH_ERROR)
            n = buf[off + 1]
            stop = off + 2 + n
            if stop > end or n == 0:
                raise DecodeError("symbolic segment name truncated or empty", off, _PATH_ERROR)
            try:
                name = bytes(buf[off + 2 : stop]).decode("ascii")
            except UnicodeDecodeError:
                raise DecodeError("symbolic segment name is not ASCII", off, _PATH_ERROR) from None
            segs.append(Symbolic(name))
            off = stop + (n & 1)
            if off > end:
                raise DecodeError("symbolic segment pad truncated", stop, _PATH_ERROR)
        elif code < 0x20 and code & 0x0F:
            seg, off = _decode_port(buf, off, end)
            segs.append(seg)
        else:
            raise DecodeError(f"unsupported path segment 0x{code:02X}", off, _PATH_ERROR)
    return tuple(segs)


def _segment_from_json(item: Mapping[str, Any]) -> Segment:
    if not isinstance(item, Mapping):
        raise EncodeError(f"a path segment must be a dict, not {item!r}")
    keys = set(item)
    if keys == {"port", "link"}:
        return Port(item["port"], item["link"])
    if keys == {"symbolic"}:
        if not isinstance(item["symbolic"], str):
            raise EncodeError(f"symbolic segment needs a name: {item!r}")
        return Symbolic(item["symbolic"])
    if len(keys) == 1:
        (kind,) = keys
        if kind in LOGICAL_KINDS:
            value = item[kind]
            if not isinstance(value, int) or isinstance(value, bool):
                raise EncodeError(f"{kind} segment needs an integer: {item!r}")
            return Logical(kind, value)
    raise EncodeError(f"unrecognized path segment {item!r}")


def path_from_json(obj: Any) -> Path:
    """Segments from the JSON/dict form: a dict, a list of dicts, or JSON text of either."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise EncodeError(f"invalid JSON path {obj!r}: {exc.msg}") from None
    if isinstance(obj, Mapping):
        obj = [obj]
    if not isinstance(obj, Sequence):
        raise EncodeError(f"a path must be a list of segments, not {obj!r}")
    return tuple(_segment_from_json(item) for item in obj)


def path_to_json(path: Iterable[Segment]) -> list[dict[str, Any]]:
    """The JSON/dict form of ``path``."""
    return [seg.to_json() for seg in path]


def _parse_link(text: str) -> int | str:
    text = text.strip()
    try:
        return int(text, 0)
    except ValueError:
        pass
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise EncodeError(f"route path link {text!r} is neither a number nor an IP address") from None


def parse_route_path(value: Any) -> Path | None:
    """A route path from any documented form; None means "no route path accepted".

    ``"1/0"``, ``"1/0/2/192.168.1.2"``, JSON (``'{"port": 1, "link": 0}'`` or a list of such),
    a list/dict already decoded, or ``false``/``0``/``None`` for none.
    """
    if value is None or value is False:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("false", "0", "none", ""):
            return None
        if text[:1] in "[{":
            try:
                return parse_route_path(json.loads(text))
            except json.JSONDecodeError as exc:
                raise EncodeError(f"invalid JSON route path {value!r}: {exc.msg}") from None
        parts = text.split("/")
        if len(parts) % 2:
            raise EncodeError(f"route path {value!r} must be <port>/<link> pairs")
        segs: list[Segment] = []
        for p, link in zip(parts[0::2], parts[1::2]):
            try:
                port = int(p, 0)
            except ValueError:
                raise EncodeError(f"route path port {p!r} is not a number") from None
            segs.append(Port(port, _parse_link(link)))
        path: Path = tuple(segs)
    elif isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return None
    elif isinstance(value, Sequence) and any(isinstance(item, str) for item in value):
        # a list mixing "<port>/<link>" strings and dicts: '["1/3", {"port": 2, "link": "1.2.3.4"}]'
        segs = []
        for item in value:
            if isinstance(item, str):
                if "/" not in item or item.strip()[:1] in "[{":
                    raise EncodeError(f"route path element {item!r} is not <port>/<link>")
                segs.extend(parse_route_path(item) or ())
            else:
                segs.extend(path_from_json([item]))
        path = tuple(segs)
    else:
        path = path_from_json(value)
    for seg in path:
        if not isinstance(seg, Port):
            raise EncodeError(f"a route path holds only port segments, not {seg.to_json()}")
        encode_path((seg,))  # validates port and link
    return path
