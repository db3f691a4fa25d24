"""Proxies for simple CIP devices: named parameters, typed Get/Set Attribute, a kept gateway.

A MicroLogix or a PowerFlex drive speaks only Get/Set Attribute, in raw bytes.  A *proxy* gives
such a device (or a routing Logix controller) a vocabulary: ``PARAMETERS`` maps a name such as
``"Motor Velocity"`` (matched lower-cased, spaces as underscores) to an attribute address and its
CIP type(s); :meth:`ProxyCore.parameter_substitution` turns names (and ``Name = (TYPE)v1,v2``
writes) into operations, and the values read come back converted to their types (REAL -> float,
SSTRING -> str, several types -> one value of each, as the Identity object's Get Attributes All).

Everything about parameters, operations and values is here as plain functions and the
:class:`ProxyCore` mixin, with no I/O; :class:`proxy` (blocking, thread-safe, the documented
``cpppo.server.enip.get_attribute.proxy``) and :class:`AsyncProxy` (asyncio) only carry the
operations over a connector and keep it (the *gateway*) open between reads.
"""

from __future__ import annotations

import contextlib
import ipaddress
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from ..cip.epath import decode_path, path_to_json
from ..cip.types import type_by_name
from ..dotdict import dotdict
from ..enip.encapsulation import Command
from ..errors import CommunicationError, CpppoError, DecodeError
from . import procedures
from .aio import AsyncConnector
from .blocking import connector
from .core import MISSING
from .operations import OperationError, parse_operation, parse_operations
from .replies import frame_dotdict

__all__ = ["AsyncProxy", "ParameterError", "ProxyCore", "attribute_operations", "decode_values", "parameter",
           "proxy", "proxy_simple"]


class ParameterError(CpppoError, ValueError):
    """A parameter name the proxy does not know (and ``pass_thru`` is off), or a bad value."""


class parameter(NamedTuple):
    """A named attribute: its address, its CIP type (or a list of types, one value each), units."""

    attribute: str
    types: str | Sequence[str]
    units: str | None = None


Param = tuple[str, Any] | str  # (address[= (TYPE)values], types), or a bare tag / @address


# -- operations -------------------------------------------------------------------------------------
def attribute_operations(paths: Iterable[str], int_type: str | int | None = None,
                         **kwds: Any) -> Iterator[dict[str, Any]]:
    """``@class/instance[/attribute][ = (TYPE)v1,v2,...]`` as Get Attribute Single (Get Attributes
    All without an attribute) or Set Attribute Single operations; ``kwds`` are added to each."""
    for text in paths:
        op = parse_operation(text, int_type=int_type)
        if not op["path"] or "class" not in op["path"][0]:
            raise OperationError(f"{text!r} is not an @class/instance/attribute address")
        if op["method"] == "read":
            has_attribute = any("attribute" in seg for seg in op["path"])
            op = {"path": op["path"], "method": "get_attribute_single" if has_attribute else "get_attributes_all"}
        else:
            op["method"] = "set_attribute_single"
            op.pop("offset", None)
        op.update(kwds)
        yield op


# -- values -----------------------------------------------------------------------------------------
_IPADDR = struct.Struct("<I")
_UINT = struct.Struct("<H")


def _one(kind: str, raw: bytes, at: int) -> tuple[Any, int]:
    """One value of ``kind`` at ``raw[at:]`` and the offset after it."""
    name = kind.upper()
    if name == "IPADDR":
        (n,) = _IPADDR.unpack_from(raw, at)
        return str(ipaddress.IPv4Address(n)), at + 4
    if name == "EPATH":  # a UINT size in words, then that padded path
        (words,) = _UINT.unpack_from(raw, at)
        end = at + 2 + 2 * words
        if end > len(raw):
            raise DecodeError(f"EPATH of {words} words runs past the end", at)
        return path_to_json(decode_path(raw, at + 2, end)), end
    if name == "STRING":  # UINT length, characters, a pad byte to an even length where present
        (n,) = _UINT.unpack_from(raw, at)
        end = at + 2 + n
        if end > len(raw):
            raise DecodeError(f"STRING of {n} characters runs past the end", at)
        text = raw[at + 2:end].decode("iso-8859-1")
        return text, end + (1 if n % 2 and end < len(raw) else 0)
    ctype = type_by_name(name)
    if ctype.size == 0:  # SSTRING
        value, end = ctype.decode_one(raw, at)  # type: ignore[attr-defined]
        return value, end
    if at + ctype.size > len(raw):
        raise DecodeError(f"{name} needs {ctype.size} bytes, {len(raw) - at} remain", at)
    return ctype.decode(raw, at, 1)[0], at + ctype.size


def decode_values(raw: bytes | bytearray | Sequence[int], types: str | Sequence[str]) -> list[Any]:
    """Raw attribute bytes as values: every element of one type, or one value of each of several.

    ``decode_values(b"\\x00\\x00\\xc0?", "REAL") == [1.5]``; the Identity object's Get Attributes
    All with ``["INT", "INT", "INT", "INT", "INT", "DINT", "SSTRING", "USINT"]`` gives its eight values.
    """
    data = bytes(raw)
    values: list[Any] = []
    try:
        if isinstance(types, str):
            at = 0
            while at < len(data):
                value, at = _one(types, data, at)
                values.append(value)
            return values
        at = 0
        for kind in types:
            if at >= len(data):
                break  # a device may leave optional trailing attributes out
            value, at = _one(kind, data, at)
            values.append(value)
        return values
    except (struct.error, DecodeError, CpppoError) as exc:
        raise DecodeError(f"cannot decode {len(data)} bytes as {types}: {exc}", 0) from None


# -- the shared, I/O-free part of a proxy ---------------------------------------------------------
def _key(name: str) -> str:
    return "_".join(name.strip().lower().split())


class ProxyCore:
    """What every proxy knows without talking to the device: its parameters and their operations."""

    PARAMETERS: ClassVar[dict[str, parameter]] = {
        "product_name": parameter("@1/1/7", "SSTRING", None),
        "identity": parameter("@1/1", ["INT", "INT", "INT", "INT", "INT", "DINT", "SSTRING", "USINT"], "Identity"),
        "tcpip": parameter("@0xF5/1", ["DWORD", "DWORD", "DWORD", "EPATH", "IPADDR", "IPADDR", "IPADDR", "IPADDR",
                                        "IPADDR", "STRING", "STRING"], "TCPIP"),
    }

    pass_thru: bool = True  # unknown names go through as tags / @addresses (per call: pass_thru=)
    operations_parser: Callable[..., Iterable[dict[str, Any]]] | None = None

    @staticmethod
    def parameter(attribute: str, types: str | Sequence[str], units: str | None = None) -> parameter:
        """A ``PARAMETERS`` entry: ``proxy.parameter('@0x93/1/10', 'REAL', 'Hz')``."""
        return parameter(attribute, types, units)

    def parameter_substitution(self, iterable: str | Iterable[str], parameters: Mapping[str, parameter] | None = None,
                               pass_thru: bool | None = None) -> Iterator[Param]:
        """Each name (one str, or a sequence) as ``(address, types)``; ``Name = (TYPE)v1,v2`` keeps its
        ``= ...`` (the parameter's type is supplied when the value names none).  Unknown names go
        through unchanged with ``pass_thru`` (default: the proxy's), else ParameterError names them."""
        names = [iterable] if isinstance(iterable, str) else list(iterable)
        table = self.PARAMETERS if parameters is None else parameters
        through = self.pass_thru if pass_thru is None else pass_thru
        for item in names:
            if not isinstance(item, str):
                yield item  # already (address, types)
                continue
            name, sep, value = item.partition("=")
            found = table.get(_key(name))
            if found is None:
                if not through:
                    raise ParameterError(f"unrecognized parameter name {name.strip()!r}; known: "
                                         f"{', '.join(sorted(table))}")
                yield item.strip()
                continue
            if not sep:
                yield (found.attribute, found.types)
                continue
            value = value.strip()
            if not value.startswith("(") and isinstance(found.types, str):
                value = f"({found.types}){value}"  # the parameter's own type
            yield (f"{found.attribute}={value}", found.types)

    def _operations(self, params: Iterable[Param]) -> tuple[list[dict[str, Any]], list[Any]]:
        """The operations for ``params`` and, for each, the types to decode its raw result (or None)."""
        ops, kinds = [], []
        for item in params:
            if isinstance(item, str):
                text, types = item, None
            else:
                text, types = item[0], item[1]
            if self.operations_parser is not None:
                parsed = list(self.operations_parser([text]))
            elif types is not None or text.lstrip().startswith("@"):
                parsed = list(attribute_operations([text]))
            else:
                parsed = list(parse_operations([text]))
            if len(parsed) != 1:
                raise ParameterError(f"{text!r} is {len(parsed)} operations, not one")
            op = parsed[0]
            ops.append(op)
            raw = op.get("method") in ("get_attribute_single", "get_attributes_all") and op.get("tag_type") is None
            kinds.append(types if raw and types is not None else None)
        return ops, kinds

    @staticmethod
    def _results(values: Sequence[Any], kinds: Sequence[Any], checking: bool, params: Sequence[Param]) -> list[Any]:
        out = []
        for got, types, param in zip(values, kinds, params):
            value = decode_values(got, types) if got is not None and types is not None and got is not True else got
            if value is None and checking:
                raise CommunicationError(f"no value for {param!r}: the device refused the request")
            out.append(value)
        return out


def _identity(reply: Mapping[str, Any] | None) -> dotdict | None:
    item = reply.get("enip.CIP.list_identity.CPF.item[0].identity_object") if reply else None
    return item if isinstance(item, dotdict) else None


# -- the blocking proxy ------------------------------------------------------------------------------
class proxy(ProxyCore):
    """A gateway to a routing device (a ControlLogix: requests in Unconnected Send, ``route_path``).

    ``read(params)`` (and ``write``, the same) returns a generator of one value per parameter: the
    list of elements read, ``True`` for a write, ``None`` where the device answered an error
    status; an I/O failure raises when the values are reified (call :meth:`close_gateway`, or use
    ``with via:`` which does).  One proxy may be shared between threads.
    """

    simple = False

    def __init__(self, host: str = "localhost", port: int = 44818, timeout: float | None = None,  # noqa: PLR0917
                 depth: int | None = None, multiple: int | None = None, gateway_class: Any = None,
                 route_path: Any = None, send_path: Any = None, priority_time_tick: int | None = None,
                 timeout_ticks: int | None = None, identity_default: Any = None, dialect: Any = None,
                 operations_parser: Callable[..., Iterable[dict[str, Any]]] | None = None, **gateway_kwds: Any) -> None:
        self.host, self.port = host, int(port)
        self.timeout = 5.0 if timeout is None else timeout
        self.depth = 2 if depth is None else depth
        self.multiple = 0 if multiple is None else (500 if multiple is True else int(multiple))
        self.gateway_class = gateway_class or connector
        self.route_path, self.send_path = route_path, send_path
        self.gateway_kwds = dict(gateway_kwds)
        for name, value in (("priority_time_tick", priority_time_tick), ("timeout_ticks", timeout_ticks)):
            if value is not None:
                self.gateway_kwds[name] = value
        if operations_parser is not None:
            self.operations_parser = operations_parser
        if isinstance(identity_default, str):
            identity_default = dotdict(product_name=identity_default)
        self.identity_default = identity_default
        self.identity: dotdict | None = identity_default
        self.gateway: Any = None
        self.lock = threading.RLock()

    # the seed calls the identity ``instance``
    @property
    def instance(self) -> dotdict | None:
        return self.identity

    def __str__(self) -> str:
        name = self.identity.get("product_name") if self.identity is not None else None
        if self.gateway is None:
            return f"{name} at None"
        return f"{name} at {self.host}:{self.port}[{self.gateway.session}]"

    def _routing(self) -> dict[str, Any]:
        if self.simple:
            return {"simple": True}
        return {k: v for k, v in (("route_path", self.route_path), ("send_path", self.send_path)) if v is not None}

    def open_gateway(self) -> Any:
        """The connection, opened (and the device's List Identity asked) if it is not open."""
        with self.lock:
            if self.gateway is None:
                gateway = self.gateway_class(host=self.host, port=self.port, timeout=self.timeout,
                                             **self._routing(), **self.gateway_kwds)
                try:
                    if self.identity_default is None:
                        frame, peer = gateway._perform(procedures.command(
                            gateway.link, Command.LIST_IDENTITY, wait=self.timeout))
                        self.identity = _identity(frame_dotdict(frame, peer))
                except BaseException:
                    gateway.close()
                    raise
                self.gateway = gateway
            return self.gateway

    def close_gateway(self, exc: BaseException | None = None) -> None:
        """Drop the connection (after ``exc``, if any): the next read reconnects."""
        with self.lock:
            gateway, self.gateway = self.gateway, None
            if self.identity_default is None:
                self.identity = None
        if gateway is not None:
            with contextlib.suppress(CpppoError, OSError):
                gateway.close()

    def __enter__(self) -> proxy:
        self.open_gateway()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            self.close_gateway(exc)

    def read(self, attributes: str | Iterable[Param], printing: bool = False, checking: bool = False) -> Iterator[Any]:
        """A generator of the values of ``attributes`` (in order), read (or written) when first asked."""
        params = [attributes] if isinstance(attributes, str) else list(attributes)
        ops, kinds = self._operations(params)
        return self._read(ops, kinds, params, printing, checking)

    write = read

    def _read(self, ops: list[dict[str, Any]], kinds: list[Any], params: list[Param], printing: bool,
              checking: bool) -> Iterator[Any]:
        with self.lock:  # the I/O, whole, under the lock; the values are handed out after it
            gateway = self.open_gateway()
            _, values = gateway.process(ops, depth=self.depth, multiple=self.multiple, timeout=self.timeout,
                                        printing=printing)
        yield from self._results(values, kinds, checking, params)


class proxy_simple(proxy):
    """A gateway to a simple (non-routing) device: a MicroLogix, a PowerFlex; requests go bare."""

    simple = True


# -- the asyncio proxy -------------------------------------------------------------------------------
class AsyncProxy(ProxyCore):
    """:class:`proxy` for asyncio: ``await via.read(params)`` returns the list of values.

    ``simple=True`` for a non-routing device; ``parameters`` names its parameters (as a proxy
    class's ``PARAMETERS``).  Requests of concurrent tasks take turns on the one connection; the
    gateway reopens after :meth:`close_gateway`.
    """

    def __init__(self, host: str = "localhost", port: int = 44818, timeout: float | None = None, *,
                 depth: int | None = None, multiple: int | None = None, simple: bool = False,
                 route_path: Any = None, send_path: Any = None, identity_default: Any = None,
                 operations_parser: Callable[..., Iterable[dict[str, Any]]] | None = None,
                 parameters: Mapping[str, parameter] | None = None) -> None:
        import asyncio

        if parameters is not None:  # a device's names, e.g. ab.powerflex_750_series.PARAMETERS
            self.PARAMETERS = dict(parameters)  # type: ignore[misc]

        self.host, self.port = host, int(port)
        self.timeout = 5.0 if timeout is None else timeout
        self.depth = 2 if depth is None else depth
        self.multiple = 0 if multiple is None else int(multiple)
        self.simple, self.route_path, self.send_path = simple, route_path, send_path
        if operations_parser is not None:
            self.operations_parser = operations_parser
        if isinstance(identity_default, str):
            identity_default = dotdict(product_name=identity_default)
        self.identity_default = identity_default
        self.identity: dotdict | None = identity_default
        self.gateway: AsyncConnector | None = None
        self.lock = asyncio.Lock()

    def __str__(self) -> str:
        name = self.identity.get("product_name") if self.identity is not None else None
        if self.gateway is None:
            return f"{name} at None"
        return f"{name} at {self.host}:{self.port}[{self.gateway.session}]"

    async def open_gateway(self) -> AsyncConnector:
        if self.gateway is None:
            routing: dict[str, Any] = {"simple": True} if self.simple else {
                k: (v if v is not None else MISSING) for k, v in (("route_path", self.route_path),
                                                                  ("send_path", self.send_path))}
            gateway = AsyncConnector(self.host, self.port, timeout=self.timeout, **routing)
            await gateway.open()
            try:
                if self.identity_default is None:
                    self.identity = _identity(await gateway.list_identity(timeout=self.timeout))
            except BaseException:
                await gateway.close()
                raise
            self.gateway = gateway
        return self.gateway

    async def close_gateway(self, exc: BaseException | None = None) -> None:
        gateway, self.gateway = self.gateway, None
        if self.identity_default is None:
            self.identity = None
        if gateway is not None:
            with contextlib.suppress(CpppoError, OSError):
                await gateway.close()

    async def __aenter__(self) -> AsyncProxy:
        async with self.lock:
            await self.open_gateway()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is not None:
            await self.close_gateway(exc)

    async def read(self, attributes: str | Iterable[Param], checking: bool = False) -> list[Any]:
        params = [attributes] if isinstance(attributes, str) else list(attributes)
        ops, kinds = self._operations(params)
        async with self.lock:
            gateway = await self.open_gateway()
            _, values = await gateway.process(ops, depth=self.depth, multiple=self.multiple, timeout=self.timeout)
        return self._results(values, kinds, checking, params)

    write = read
