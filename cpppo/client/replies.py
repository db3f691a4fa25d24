"""Replies as the documented dotdicts, and the documented text forms of results.

The codec decodes frames into dataclasses; users of the documented API see replies as
:class:`cpppo.dotdict` trees whose keys follow the documents::

    peer                                                        ('10.0.0.1', 44818)
    enip.command / .length / .session_handle / .status / .options / .input
    enip.sender_context.input                                   8 bytes
    enip.CIP.send_data.interface / .timeout
    enip.CIP.send_data.CPF.count / .item[i].type_id / .item[i].length
    enip.CIP.send_data.CPF.item[1].unconnected_send.request.service / .status
                                        .status_ext.size / .status_ext.data / .input
                                        .<service name> (True) / .type / .data
                                        .multiple.number / .multiple.request[i]...
    enip.CIP.list_identity.CPF.item[0].identity_object.product_name (and the other fields)
    enip.CIP.list_services.CPF.item[0].communications_service.service_name
    enip.CIP.legacy_CPF_0x0001.CPF.item[0].legacy_CPF_0x0001.ip_address
    enip.CIP.register.protocol_version / .options

Values are decoded with one ``struct`` call per reply (see :mod:`cpppo.cip.types`).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from ..cip.message import Reply, decode_multiple, decode_reply
from ..cip.services import CommonService, LogixService
from ..cip.status import status_name
from ..cip.types import decode_type_word, type_by_code
from ..dotdict import dotdict
from ..enip.cpf import (
    ConnectedAddress,
    ConnectedData,
    IdentityItem,
    Item,
    LegacyItem,
    NullAddress,
    SendData,
    ServiceItem,
    UnconnectedData,
    connected_message,
    decode_cpf,
    decode_send_data,
    unconnected_message,
)
from ..enip.encapsulation import Command, Encapsulation
from ..errors import DecodeError
from .values import decode_value

__all__ = ["SERVICE_NAMES", "cip_reply_dotdict", "enip_format", "frame_dotdict", "result_line", "split_send_data",
           "status_text"]

SERVICE_NAMES: dict[int, str] = {
    LogixService.READ_TAG: "read_tag",
    LogixService.READ_TAG_FRAGMENTED: "read_frag",
    LogixService.WRITE_TAG: "write_tag",
    LogixService.WRITE_TAG_FRAGMENTED: "write_frag",
    LogixService.READ_MODIFY_WRITE: "read_modify_write",
    CommonService.GET_ATTRIBUTE_SINGLE: "get_attribute_single",
    CommonService.GET_ATTRIBUTES_ALL: "get_attributes_all",
    CommonService.SET_ATTRIBUTE_SINGLE: "set_attribute_single",
    CommonService.GET_ATTRIBUTE_LIST: "get_attribute_list",
    CommonService.MULTIPLE_SERVICE_PACKET: "multiple",
}
_READS = (LogixService.READ_TAG, LogixService.READ_TAG_FRAGMENTED)
_COMMAND_KEYS = {
    Command.LIST_IDENTITY: "list_identity",
    Command.LIST_SERVICES: "list_services",
    Command.LIST_INTERFACES: "list_interfaces",
    Command.LEGACY_0001: "legacy_CPF_0x0001",
}


_new_dict = dict.__new__
_fill = dict.update
_set = dict.__setitem__


def _dd(**fields: Any) -> dotdict:
    """A dotdict of plain (undotted) keys, built without walking paths (replies are built per frame)."""
    d = _new_dict(dotdict)
    _fill(d, fields)
    return d


def _read_dotdict(service: int, code: int, values: list[Any]) -> dotdict:
    """The dotdict of a successful read reply whose values the engine decoded already."""
    d = _new_dict(dotdict)
    ext = _new_dict(dotdict)
    _fill(ext, size=0)
    _fill(d, {"service": service | 0x80, "status": 0, "status_ext": ext, SERVICE_NAMES[service]: True,
              "type": code, "data": list(values)})
    return d


def status_text(sts: Any) -> str:
    """``'OK'`` for success, else the status name(s): ``0xFF general error [0x2105]``."""
    if isinstance(sts, int) and sts == 0:
        return "OK"
    if isinstance(sts, tuple):
        status, ext = sts[0], sts[1] if len(sts) > 1 else ()
        extra = " [" + ", ".join(f"0x{e:04X}" for e in ext) + "]" if ext else ""
        return f"0x{status:02X} {status_name(status)}{extra}"
    if sts is None:
        return "no reply"
    if isinstance(sts, int):
        return f"0x{sts:02X} {status_name(sts)}"
    return str(sts)


def cip_reply_dotdict(rpy: Reply, raw: bytes = b"", known: Any = None) -> dotdict:
    """The documented dotdict of one CIP reply (with its decoded values where the type is known).

    ``known`` is what the operation engine decoded already: for a read, its (type code, values);
    for a Multiple Service Packet, one entry per reply in it, each its :class:`Reply` or, for a
    whole read, (service, type code, values).
    """
    d, ext = _new_dict(dotdict), _new_dict(dotdict)
    _set(ext, "size", len(rpy.ext_status))
    if rpy.ext_status:
        _set(ext, "data", list(rpy.ext_status))
    _fill(d, {"service": rpy.service | 0x80, "status": rpy.status, "status_ext": ext})
    if raw:
        _set(d, "input", raw)
    service, data = rpy.service, rpy.data
    if service == CommonService.MULTIPLE_SERVICE_PACKET and data:
        if known is not None:
            _set(d, "multiple", _dd(number=len(known), request=[
                _read_dotdict(*k) if type(k) is tuple else cip_reply_dotdict(k) for k in known]))
            return d
        try:
            spans = decode_multiple(data)
            _set(d, "multiple", _dd(number=len(spans), request=[
                cip_reply_dotdict(decode_reply(data, a, b)) for a, b in spans]))
        except DecodeError:
            _set(d, "multiple", _dd(number=0, input=data))
        return d
    name = SERVICE_NAMES.get(service)
    if name:
        _set(d, name, True)
    if service in _READS and data and known is not None:
        code, values = known
        _fill(d, {"type": code, "data": list(values)})
    elif service in _READS and data:
        try:
            code, handle, at = decode_type_word(data)
        except DecodeError:
            _set(d, "data", list(data))
            return d
        _set(d, "type", code)
        if handle is not None:
            _set(d, "structure_handle", handle)
        ctype = type_by_code(code)
        payload = data[at:]
        if ctype is not None and ctype.size and len(payload) % ctype.size:
            _set(d, "data", list(payload))  # a fragment ending mid-element
        else:
            _set(d, "data", decode_value(code, handle, payload))
    elif data:
        _set(d, "data", list(data))
    return d


_INTERFACE = struct.Struct("<I")
_SEND_RR_DATA, _SEND_UNIT_DATA = int(Command.SEND_RR_DATA), int(Command.SEND_UNIT_DATA)


def split_send_data(command: int, data: bytes) -> tuple[int, int, int | None, int | None, bytes] | None:
    """(interface, timeout, connection id, sequence, CIP message) of SendRRData (no connection id or
    sequence: None) or SendUnitData in their usual layouts (:func:`~cpppo.enip.cpf.unconnected_message`,
    :func:`~cpppo.enip.cpf.connected_message`); None for anything else (which
    :func:`~cpppo.enip.cpf.decode_send_data` then decodes, or refuses)."""
    if command == _SEND_RR_DATA:
        found = unconnected_message(data)
        if found is not None:
            return _INTERFACE.unpack_from(data)[0], found[0], None, None, found[1]
    elif command == _SEND_UNIT_DATA:
        connected = connected_message(data)
        if connected is not None:
            return _INTERFACE.unpack_from(data)[0], *connected
    return None


def _send_data_dotdict(split: tuple[int, int, int | None, int | None, bytes], reply: Reply | None,
                       known: Any) -> dotdict:
    """``enip.CIP.send_data`` of a reply in one of the usual layouts (what the items would give)."""
    interface, timeout, conn, sequence, message = split
    if reply is None:
        reply, known = decode_reply(message), None
    new = _new_dict
    request, first, second, cpf, sd = new(dotdict), new(dotdict), new(dotdict), new(dotdict), new(dotdict)
    _set(request, "request", cip_reply_dotdict(reply, message, known))
    if conn is None:
        _fill(first, {"type_id": 0, "length": 0})
        _fill(second, {"type_id": 0xB2, "length": len(message), "unconnected_send": request})
    else:
        _fill(first, {"type_id": 0xA1, "length": 4, "connection_id": conn})
        _fill(second, {"type_id": 0xB1, "length": 2 + len(message), "sequence": sequence, "connected_send": request})
    _fill(cpf, {"count": 2, "item": [first, second]})
    _fill(sd, {"interface": interface, "timeout": timeout, "CPF": cpf})
    return sd


def _item_dotdict(item: Item, raw_len: int) -> dotdict:
    d = _dd(type_id=int(item.type_id), length=raw_len)
    if isinstance(item, IdentityItem):
        _set(d, "identity_object", _dd(
            version=item.version, sin_family=item.sin_family, sin_port=item.sin_port, sin_addr=item.sin_addr,
            vendor_id=item.vendor_id, device_type=item.device_type, product_code=item.product_code,
            product_revision=item.product_revision, status_word=item.status_word,
            serial_number=item.serial_number, product_name=item.product_name, state=item.state))
    elif isinstance(item, ServiceItem):
        _set(d, "communications_service", _dd(version=item.version, capability=item.capability,
                                                service_name=item.name))
    elif isinstance(item, LegacyItem):
        _set(d, "legacy_CPF_0x0001", _dd(version=item.version, unknown_1=item.unknown_1,
                                         sin_family=item.sin_family, sin_port=item.sin_port,
                                         sin_addr=item.sin_addr, ip_address=item.ip_address))
    elif isinstance(item, ConnectedAddress):
        _set(d, "connection_id", item.connection_id)
    elif isinstance(item, ConnectedData):
        _set(d, "sequence", item.sequence)
    return d


def _item_length(item: Item) -> int:
    if isinstance(item, UnconnectedData):
        return len(item.data)
    if isinstance(item, NullAddress):
        return 0
    if isinstance(item, ConnectedData):
        return 2 + len(item.data)
    return len(item.payload())


def _cpf_dotdict(items: Sequence[Item]) -> dotdict:
    return _dd(count=len(items), item=[_item_dotdict(item, _item_length(item)) for item in items])


def frame_dotdict(frame: Encapsulation, peer: Any = None, send: SendData | None = None,
                  reply: Reply | None = None, known: Any = None) -> dotdict:
    """The documented dotdict of a whole reply frame (``peer`` as (host, port)).

    ``send`` and ``reply`` are the frame's SendData and CIP reply when the caller decoded them
    already, ``known`` what it decoded of the reply (see :func:`cip_reply_dotdict`).
    """
    new = _new_dict
    d, enip, context, cip = new(dotdict), new(dotdict), new(dotdict), new(dotdict)
    _set(context, "input", frame.context)
    _fill(enip, {"command": frame.command, "length": len(frame.data), "session_handle": frame.session,
                 "status": frame.status, "options": frame.options, "sender_context": context, "input": frame.data})
    _fill(d, {"peer": tuple(peer) if peer else peer, "enip": enip})
    if frame.status or not frame.data:
        return d
    try:
        split = None if send is not None else split_send_data(frame.command, frame.data)
        if split is not None:
            _set(cip, "send_data", _send_data_dotdict(split, reply, known))
        elif frame.command in (Command.SEND_RR_DATA, Command.SEND_UNIT_DATA):
            if send is None:
                send = decode_send_data(frame.data)
            cpf = _cpf_dotdict(send.items)
            sd = _dd(interface=send.interface, timeout=send.timeout, CPF=cpf)
            msg = send.message
            if msg is not None:
                at = 1 if len(send.items) > 1 else 0
                key = "unconnected_send" if isinstance(msg, UnconnectedData) else "connected_send"
                if reply is None:
                    reply, known = decode_reply(msg.data), None
                _set(dict.__getitem__(cpf, "item")[at], key, _dd(request=cip_reply_dotdict(reply, msg.data, known)))
            _set(cip, "send_data", sd)
        elif frame.command in _COMMAND_KEYS:
            items, _ = decode_cpf(frame.data, 0, exact=False)
            _set(cip, _COMMAND_KEYS[Command(frame.command)], _dd(CPF=_cpf_dotdict(items)))
        elif frame.command == Command.REGISTER_SESSION and len(frame.data) == 4:
            version, options = int.from_bytes(frame.data[:2], "little"), int.from_bytes(frame.data[2:], "little")
            _set(cip, "register", _dd(protocol_version=version, options=options))
    except DecodeError as exc:
        _set(cip, "error", str(exc))
    if cip:
        _set(enip, "CIP", cip)
    return d


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return repr(bytes(value))
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def enip_format(data: Mapping[str, Any] | None, sort_keys: bool = False, indent: int = 4) -> str:
    """A reply dotdict as the documents print it: JSON of its dotted paths."""
    if data is None:
        return "None"
    flat: dict[str, Any] = {}
    if isinstance(data, dotdict):
        for key, value in data.paths():
            flat[key] = value
    else:
        flat = dict(data)
    return json.dumps(flat, indent=indent, sort_keys=sort_keys, default=_jsonable)


def result_line(dsc: str, op: Mapping[str, Any], sts: Any, val: Any) -> str:
    """The ``--print`` line of one result: ``SCADA[1-1] == [0]: 'OK'`` or ``SCADA[1-1] <= [99]: 'OK'``."""
    method = op.get("method", "read")
    if method in ("write", "set_attribute_single"):
        shown = op.get("data") if val is not None else None
        return f"{dsc} <= {shown!r}: {status_text(sts)!r}"
    return f"{dsc} == {val!r}: {status_text(sts)!r}"
