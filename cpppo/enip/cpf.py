"""Common Packet Format: the item lists inside SendRRData, SendUnitData and the List replies.

    item count UINT | (type id UINT | length UINT | data)...

SendRRData and SendUnitData data is ``interface handle UDINT | timeout UINT | CPF``; a request
is an address item (null for unconnected, connected address 0xA1 for connected) followed by a data
item (unconnected 0xB2, or connected 0xB1 whose data starts with a UINT sequence count).
Socket address fields are big-endian (network order), as in a ``sockaddr_in``.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DecodeError, EncodeError
from .encapsulation import EncapStatus

__all__ = [
    "ConnectedAddress",
    "ConnectedData",
    "IdentityItem",
    "Item",
    "ItemType",
    "LegacyItem",
    "NullAddress",
    "SendData",
    "SequencedAddress",
    "ServiceItem",
    "SockAddr",
    "UnconnectedData",
    "UnknownItem",
    "decode_cpf",
    "decode_send_data",
    "encode_cpf",
]


@enum.unique
class ItemType(enum.IntEnum):
    NULL_ADDRESS = 0x0000
    LEGACY_0001 = 0x0001
    LIST_IDENTITY = 0x000C
    CONNECTED_ADDRESS = 0x00A1
    CONNECTED_DATA = 0x00B1
    UNCONNECTED_DATA = 0x00B2
    LIST_SERVICES = 0x0100
    SOCKADDR_O_T = 0x8000
    SOCKADDR_T_O = 0x8001
    SEQUENCED_ADDRESS = 0x8002


_BAD = EncapStatus.INCORRECT_DATA
_SHORT = EncapStatus.INVALID_LENGTH  # the content runs past the end: the length field is wrong
_UINT = struct.Struct("<H")
_UDINT = struct.Struct("<I")
_SOCKADDR = struct.Struct(">hH4s8x")


def _ip(raw: bytes) -> str:
    return str(ipaddress.IPv4Address(raw))


def _ip_bytes(text: str) -> bytes:
    try:
        return ipaddress.IPv4Address(text).packed
    except ValueError:
        raise EncodeError(f"{text!r} is not an IPv4 address") from None


@dataclass(frozen=True, slots=True)
class NullAddress:
    type_id = ItemType.NULL_ADDRESS

    def payload(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class ConnectedAddress:
    connection_id: int
    type_id = ItemType.CONNECTED_ADDRESS

    def payload(self) -> bytes:
        return _UDINT.pack(self.connection_id)


@dataclass(frozen=True, slots=True)
class SequencedAddress:
    connection_id: int
    sequence: int
    type_id = ItemType.SEQUENCED_ADDRESS

    def payload(self) -> bytes:
        return struct.pack("<II", self.connection_id, self.sequence)


@dataclass(frozen=True, slots=True)
class UnconnectedData:
    data: bytes
    type_id = ItemType.UNCONNECTED_DATA

    def payload(self) -> bytes:
        return self.data


@dataclass(frozen=True, slots=True)
class ConnectedData:
    """Connected data: a 16-bit sequence count (echoed in the reply), then the CIP message."""

    sequence: int
    data: bytes
    type_id = ItemType.CONNECTED_DATA

    def payload(self) -> bytes:
        return _UINT.pack(self.sequence) + self.data


@dataclass(frozen=True, slots=True)
class SockAddr:
    """Socket address info (O->T 0x8000, T->O 0x8001), big-endian like ``sockaddr_in``."""

    type_id: int
    sin_family: int = 2
    sin_port: int = 44818
    sin_addr: str = "0.0.0.0"

    def payload(self) -> bytes:
        return _SOCKADDR.pack(self.sin_family, self.sin_port, _ip_bytes(self.sin_addr))


_IDENTITY = struct.Struct("<H")
_IDENTITY_BODY = struct.Struct("<HHHHHIB")


@dataclass(frozen=True, slots=True)
class IdentityItem:
    """A List Identity reply item: where to reach the device, and its Identity object's values."""

    version: int = 1
    sin_family: int = 2
    sin_port: int = 44818
    sin_addr: str = "0.0.0.0"
    vendor_id: int = 1
    device_type: int = 0x0E
    product_code: int = 0x36
    product_revision: int = 0x0B14  # major in the low byte, minor in the high byte
    status_word: int = 0
    serial_number: int = 0
    product_name: str = ""
    state: int = 0xFF
    type_id = ItemType.LIST_IDENTITY

    @property
    def revision(self) -> tuple[int, int]:
        return self.product_revision & 0xFF, self.product_revision >> 8

    def payload(self) -> bytes:
        name = self.product_name.encode("iso-8859-1")
        if len(name) > 0xFF:
            raise EncodeError("product name longer than 255 characters")
        try:
            return (_IDENTITY.pack(self.version)
                    + _SOCKADDR.pack(self.sin_family, self.sin_port, _ip_bytes(self.sin_addr))
                    + _IDENTITY_BODY.pack(self.vendor_id, self.device_type, self.product_code,
                                          self.product_revision, self.status_word, self.serial_number,
                                          len(name))
                    + name + bytes((self.state,)))
        except struct.error as exc:
            raise EncodeError(f"identity field out of range: {exc}") from None


def _decode_identity(data: bytes, at: int) -> IdentityItem:
    """A List Identity item's data, which starts at byte ``at`` of the frame (for error offsets)."""
    fixed = _IDENTITY.size + _SOCKADDR.size + _IDENTITY_BODY.size
    if len(data) < fixed:
        raise DecodeError("List Identity item truncated", at + len(data), _BAD)
    (version,) = _IDENTITY.unpack_from(data, 0)
    family, port, addr = _SOCKADDR.unpack_from(data, 2)
    vendor, dtype, code, rev, status, serial, n = _IDENTITY_BODY.unpack_from(data, 18)
    if fixed + n + 1 > len(data):  # some devices append bytes after the state; those are ignored
        raise DecodeError(f"List Identity product name of {n} characters runs past the item's end",
                          at + fixed - 1, _BAD)
    name = data[fixed : fixed + n].decode("iso-8859-1")
    return IdentityItem(version, family, port, _ip(addr), vendor, dtype, code, rev, status, serial, name,
                        data[fixed + n])


_SERVICE = struct.Struct("<HH16s")


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """A List Services reply item: 0x0020 in ``capability`` means CIP over TCP, 0x0100 over UDP."""

    version: int = 1
    capability: int = 0x0120
    name: str = "Communications"
    type_id = ItemType.LIST_SERVICES

    def payload(self) -> bytes:
        raw = self.name.encode("ascii")
        if len(raw) > 15:
            raise EncodeError("service name longer than 15 characters")
        return _SERVICE.pack(self.version, self.capability, raw)


_LEGACY = struct.Struct("<HH")


@dataclass(frozen=True, slots=True)
class LegacyItem:
    """The item of the undocumented legacy command 0x0001: network facts like List Identity's."""

    version: int = 1
    unknown_1: int = 0
    sin_family: int = 2
    sin_port: int = 44818
    sin_addr: str = "0.0.0.0"
    ip_address: str = "0.0.0.0"
    type_id = ItemType.LEGACY_0001

    def payload(self) -> bytes:
        text = self.ip_address.encode("ascii")
        if len(text) > 16:
            raise EncodeError("legacy item IP address text longer than 16 characters")
        return (_LEGACY.pack(self.version, self.unknown_1)
                + _SOCKADDR.pack(self.sin_family, self.sin_port, _ip_bytes(self.sin_addr))
                + text.ljust(16, b"\0"))


@dataclass(frozen=True, slots=True)
class UnknownItem:
    """An item type cpppo does not interpret; kept as raw bytes."""

    type_id: int
    data: bytes = b""

    def payload(self) -> bytes:
        return self.data


Item = (NullAddress | ConnectedAddress | SequencedAddress | UnconnectedData | ConnectedData | SockAddr
        | IdentityItem | ServiceItem | LegacyItem | UnknownItem)


def _decode_item(type_id: int, data: bytes, at: int) -> Item:
    if type_id == ItemType.UNCONNECTED_DATA:
        return UnconnectedData(data)
    if type_id == ItemType.NULL_ADDRESS:
        if data:
            raise DecodeError("null address item with data", at, _BAD)
        return NullAddress()
    if type_id == ItemType.CONNECTED_DATA:
        if len(data) < 2:
            raise DecodeError("connected data item without a sequence count", at, _BAD)
        return ConnectedData(_UINT.unpack_from(data, 0)[0], data[2:])
    if type_id == ItemType.CONNECTED_ADDRESS:
        if len(data) != 4:
            raise DecodeError("connected address item must be 4 bytes", at, _BAD)
        return ConnectedAddress(_UDINT.unpack(data)[0])
    if type_id == ItemType.SEQUENCED_ADDRESS:
        if len(data) != 8:
            raise DecodeError("sequenced address item must be 8 bytes", at, _BAD)
        return SequencedAddress(*struct.unpack("<II", data))
    if type_id in (ItemType.SOCKADDR_O_T, ItemType.SOCKADDR_T_O):
        if len(data) != _SOCKADDR.size:
            raise DecodeError("socket address item must be 16 bytes", at, _BAD)
        family, port, addr = _SOCKADDR.unpack(data)
        return SockAddr(type_id, family, port, _ip(addr))
    if type_id == ItemType.LIST_IDENTITY:
        return _decode_identity(data, at)
    if type_id == ItemType.LIST_SERVICES:
        if not 4 <= len(data) <= _SERVICE.size:  # the name is 16 bytes; some senders trim its padding
            raise DecodeError("List Services item must be 4..20 bytes", at, _BAD)
        version, capability, name = _SERVICE.unpack(data.ljust(_SERVICE.size, b"\0"))
        return ServiceItem(version, capability, name.split(b"\0", 1)[0].decode("iso-8859-1"))
    if type_id == ItemType.LEGACY_0001:
        if len(data) != 36:
            raise DecodeError("legacy 0x0001 item must be 36 bytes", at, _BAD)
        version, unknown = _LEGACY.unpack_from(data, 0)
        family, port, addr = _SOCKADDR.unpack_from(data, 4)
        text = data[20:36].split(b"\0", 1)[0].decode("iso-8859-1")
        return LegacyItem(version, unknown, family, port, _ip(addr), text)
    return UnknownItem(type_id, data)


def encode_cpf(items: Sequence[Item]) -> bytes:
    if len(items) > 0xFFFF:
        raise EncodeError(f"{len(items)} CPF items is too many")
    out = bytearray(_UINT.pack(len(items)))
    for item in items:
        try:
            payload = item.payload()
            if len(payload) > 0xFFFF:
                raise EncodeError(f"CPF item of {len(payload)} bytes is too long")
            out += struct.pack("<HH", item.type_id, len(payload))
        except EncodeError:
            raise
        except (struct.error, ValueError, TypeError, OverflowError) as exc:
            raise EncodeError(f"CPF item {item!r} cannot be encoded: {exc}") from None
        out += payload
    return bytes(out)


def decode_cpf(buf: bytes | memoryview, offset: int = 0, *, exact: bool = True) -> tuple[list[Item], int]:
    """Decode a CPF list at ``offset``; return the items and the offset past them.

    With ``exact`` the list must end the buffer; trailing bytes are an error.
    """
    end = len(buf)
    if end - offset < 2:
        raise DecodeError("CPF item count truncated", offset, _SHORT)
    (count,) = _UINT.unpack_from(buf, offset)
    at = offset + 2
    items: list[Item] = []
    for i in range(count):
        if end - at < 4:
            raise DecodeError(f"CPF item {i} header truncated", at, _SHORT)
        type_id, length = struct.unpack_from("<HH", buf, at)
        start = at + 4
        stop = start + length
        if stop > end:
            raise DecodeError(f"CPF item {i} (type 0x{type_id:04X}) of {length} bytes truncated", at + 2, _SHORT)
        items.append(_decode_item(type_id, bytes(buf[start:stop]), start))
        at = stop
    if exact and at != end:
        raise DecodeError(f"{end - at} bytes after the last CPF item", at, _BAD)
    return items, at


_SEND_HEAD = struct.Struct("<IH")


@dataclass(frozen=True, slots=True)
class SendData:
    """SendRRData / SendUnitData data: interface handle (0 = CIP), timeout, and CPF items."""

    items: tuple[Item, ...]
    interface: int = 0
    timeout: int = 0

    def encode(self) -> bytes:
        try:
            head = _SEND_HEAD.pack(self.interface, self.timeout)
        except struct.error as exc:
            raise EncodeError(f"interface handle or timeout out of range: {exc}") from None
        return head + encode_cpf(self.items)

    @property
    def address(self) -> Item | None:
        return self.items[0] if self.items else None

    @property
    def message(self) -> UnconnectedData | ConnectedData | None:
        """The data item carrying the CIP message, if there is one."""
        for item in self.items:
            if isinstance(item, (UnconnectedData, ConnectedData)):
                return item
        return None


def decode_send_data(data: bytes | memoryview) -> SendData:
    if len(data) < _SEND_HEAD.size:
        raise DecodeError("SendRRData/SendUnitData header truncated", len(data), EncapStatus.INVALID_LENGTH)
    interface, timeout = _SEND_HEAD.unpack_from(data, 0)
    items, _ = decode_cpf(data, _SEND_HEAD.size)
    return SendData(tuple(items), interface, timeout)


# -- the two layouts nearly every request has, without building item objects ----------------------
_UNCONNECTED = struct.Struct("<IHHHHHH")  # interface, timeout, count=2, null (type, len), 0xB2, length
_CONNECTED = struct.Struct("<IHHHHIHHH")  # ..., 0xA1, 4, connection id, 0xB1, length, sequence


def unconnected_message(data: bytes) -> tuple[int, bytes] | None:
    """(timeout, CIP message) of SendRRData data in the usual null-address + unconnected layout.

    None when the data has any other layout; :func:`decode_send_data` then says what it holds.
    """
    if len(data) < _UNCONNECTED.size:
        return None
    _, timeout, count, null, null_len, kind, length = _UNCONNECTED.unpack_from(data, 0)
    if count != 2 or null or null_len or kind != ItemType.UNCONNECTED_DATA or length != len(data) - 16:
        return None
    return timeout, data[16:]


def encode_unconnected(timeout: int, message: bytes) -> bytes:
    """SendRRData data carrying ``message``: the inverse of :func:`unconnected_message`."""
    try:
        return _UNCONNECTED.pack(0, timeout, 2, 0, 0, ItemType.UNCONNECTED_DATA, len(message)) + message
    except struct.error as exc:
        raise EncodeError(f"SendRRData field out of range: {exc}") from None


def connected_message(data: bytes) -> tuple[int, int, int, bytes] | None:
    """(timeout, connection id, sequence, CIP message) of SendUnitData data in the usual layout."""
    if len(data) < _CONNECTED.size:
        return None
    _, timeout, count, kind, alen, conn, dkind, length, sequence = _CONNECTED.unpack_from(data, 0)
    if (count != 2 or kind != ItemType.CONNECTED_ADDRESS or alen != 4 or dkind != ItemType.CONNECTED_DATA
            or length != len(data) - 20 or length < 2):
        return None
    return timeout, conn, sequence, data[_CONNECTED.size:]


def encode_connected(timeout: int, connection_id: int, sequence: int, message: bytes) -> bytes:
    """SendUnitData data carrying ``message``: the inverse of :func:`connected_message`."""
    try:
        return _CONNECTED.pack(0, timeout, 2, ItemType.CONNECTED_ADDRESS, 4, connection_id, ItemType.CONNECTED_DATA,
                               len(message) + 2, sequence & 0xFFFF) + message
    except struct.error as exc:
        raise EncodeError(f"SendUnitData field out of range: {exc}") from None
