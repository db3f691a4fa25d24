"""The standard CIP objects of a simulated controller, with ControlLogix 1756-L61/B defaults.

An object class holds instances; an instance holds numbered :class:`Attribute` s.  Instance 0 is
the class itself, whose attributes (revision, max instance, number of instances) are derived from
the instances present.  Values that a user may configure (``cpppo.cfg`` ``[Identity]`` and
``[TCPIP]``) come in through :class:`IdentityInfo` and :class:`TcpipInfo`.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..cip.types import DWORD, SSTRING, UDINT, UINT, USINT, WORD
from .tags import Attribute

__all__ = ["CIPClass", "CIPInstance", "IdentityInfo", "TcpipInfo", "standard_objects"]


@dataclass
class IdentityInfo:
    """Identity object (class 0x01) values: what List Identity and the Identity object report."""

    vendor_id: int = 1
    device_type: int = 0x0E
    product_code: int = 0x36
    revision: tuple[int, int] = (20, 11)
    status_word: int = 0x3160
    serial_number: int = 0x006C061A
    product_name: str = "1756-L61/B LOGIX5561"
    state: int = 3

    @property
    def product_revision(self) -> int:
        return self.revision[0] | self.revision[1] << 8


@dataclass
class TcpipInfo:
    """TCP/IP Interface object (class 0xF5) values."""

    ip_address: str = "0.0.0.0"
    network_mask: str = "0.0.0.0"
    gateway_address: str = "0.0.0.0"
    dns_primary: str = "0.0.0.0"
    dns_secondary: str = "0.0.0.0"
    domain_name: str = ""
    host_name: str = ""
    mac_address: bytes = field(default=bytes.fromhex("0000BC112233"))

    def interface_configuration(self) -> bytes:
        addrs = [int(ipaddress.IPv4Address(a)) for a in
                 (self.ip_address, self.network_mask, self.gateway_address, self.dns_primary, self.dns_secondary)]
        return struct.pack("<5I", *addrs) + _string(self.domain_name)


def _string(text: str) -> bytes:
    """A CIP STRING padded to an even length, as attributes 5 and 6 of the TCP/IP object carry it."""
    raw = text.encode("iso-8859-1")
    return struct.pack("<H", len(raw)) + raw + (b"\0" if len(raw) % 2 else b"")


def _raw(name: str, data: bytes) -> Attribute:
    return Attribute(name, USINT, default=list(data) or [0])


class CIPInstance:
    """An object instance: numbered attributes, and which of them Get Attributes All returns."""

    def __init__(self, class_id: int, instance_id: int, attributes: dict[int, Attribute] | None = None,
                 gaa: Iterable[int] | None = None, settable: Iterable[int] = ()) -> None:
        self.class_id = class_id
        self.instance_id = instance_id
        self.attributes: dict[int, Attribute] = dict(attributes or {})
        self._gaa = list(gaa) if gaa is not None else None
        self.settable = set(settable)

    @property
    def gaa_attributes(self) -> list[int]:
        return self._gaa if self._gaa is not None else sorted(self.attributes)

    def attributes_all(self) -> bytes:
        parts = []
        for n in self.gaa_attributes:
            a = self.attributes[n]
            parts.append(a.read_bytes(0, len(a)))
        return b"".join(parts)


class CIPClass:
    """An object class and its instances; instance 0 answers for the class."""

    def __init__(self, class_id: int, name: str, revision: int = 1) -> None:
        self.class_id = class_id
        self.name = name
        self.revision = revision
        self.instances: dict[int, CIPInstance] = {}
        self._class_instance = CIPInstance(class_id, 0, {  # the class's own attributes, kept up to date by add()
            1: Attribute("Revision", UINT, revision),
            2: Attribute("Max Instance", UINT, 0),
            3: Attribute("Number of Instances", UINT, 0),
        })

    def instance(self, instance_id: int) -> CIPInstance | None:
        return self._class_instance if instance_id == 0 else self.instances.get(instance_id)

    def add(self, instance: CIPInstance) -> CIPInstance:
        self.instances[instance.instance_id] = instance
        self._class_instance.attributes[2].value = max(self.instances)
        self._class_instance.attributes[3].value = len(self.instances)
        return instance


def _identity(info: IdentityInfo) -> CIPClass:
    cls = CIPClass(0x01, "Identity")
    cls.add(CIPInstance(0x01, 1, {
        1: Attribute("Vendor Number", UINT, info.vendor_id),
        2: Attribute("Device Type", UINT, info.device_type),
        3: Attribute("Product Code Number", UINT, info.product_code),
        4: Attribute("Product Revision", USINT, list(info.revision)),
        5: Attribute("Status Word", WORD, info.status_word),
        6: Attribute("Serial Number", UDINT, info.serial_number),
        7: Attribute("Product Name", SSTRING, info.product_name),
        8: Attribute("State", USINT, info.state),
    }, gaa=range(1, 9)))  # with State, as the documents show a Get Attributes All of it
    return cls


def _tcpip(info: TcpipInfo) -> CIPClass:
    cls = CIPClass(0xF5, "TCP/IP Interface", revision=4)
    cls.add(CIPInstance(0xF5, 1, {
        1: Attribute("Status", DWORD, 1),
        2: Attribute("Configuration Capability", DWORD, 0x34),
        3: Attribute("Configuration Control", DWORD, 0),
        4: _raw("Physical Link Object", bytes.fromhex("020020F62401")),
        5: _raw("Interface Configuration", info.interface_configuration()),
        6: _raw("Host Name", _string(info.host_name)),
    }))
    return cls


def _ethernet_link(info: TcpipInfo) -> CIPClass:
    cls = CIPClass(0xF6, "Ethernet Link", revision=3)
    cls.add(CIPInstance(0xF6, 1, {
        1: Attribute("Interface Speed", UDINT, 100),
        2: Attribute("Interface Flags", DWORD, 0x0F),
        3: _raw("Physical Address", info.mac_address),
    }))
    return cls


def standard_objects(identity: IdentityInfo, tcpip: TcpipInfo) -> dict[int, CIPClass]:
    """Identity, Message Router, Connection Manager, TCP/IP Interface and Ethernet Link."""
    router = CIPClass(0x02, "Message Router")
    router.add(CIPInstance(0x02, 1))
    manager = CIPClass(0x06, "Connection Manager")
    manager.add(CIPInstance(0x06, 1))
    return {c.class_id: c for c in (_identity(identity), router, manager, _tcpip(tcpip), _ethernet_link(tcpip))}
