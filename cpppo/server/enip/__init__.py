"""EtherNet/IP CIP: the simulated controller (``enip_server``) and its documented API.

The simulator's own modules: ``transport`` (:class:`~.transport.EnipServer`, TCP and UDP on a
host's loop), ``session`` (the encapsulation layer, sans I/O), ``config`` (tag specifications,
addresses, ``cpppo.cfg``), ``embedded`` (:class:`Simulator`, the embedding API) and ``main``
(``enip_server``).  The rest are the documented module paths of cpppo 5, kept as thin modules over
their real homes: ``client``, ``aio``, ``io``, ``list_services`` and ``thruput`` over
:mod:`cpppo.client`, ``device`` over :mod:`cpppo.device`, ``defaults`` (``address``, ``timeout``,
...) and ``enip_format`` as cpppo 5 named them.

``device.Attribute`` is the customization point, the CIP type classes (``REAL``, ``INT``, ...)
are what ``Attribute.parser`` is an instance of, and ``simulator`` runs a controller in the
background for tests (``chassis`` several of them behind one address).
"""

from __future__ import annotations

from ...cip import types as _types
from ...client.replies import enip_format
from . import device
from .defaults import (
    address,
    config_name,
    latency,
    priority_time_tick,
    route_path_default,
    send_path_default,
    timeout,
    timeout_ticks,
)
from .embedded import Simulator, chassis, simulator

BOOL = type(_types.BOOL)
SINT = type(_types.SINT)
INT = type(_types.INT)
DINT = type(_types.DINT)
LINT = type(_types.LINT)
USINT = type(_types.USINT)
UINT = type(_types.UINT)
UDINT = type(_types.UDINT)
ULINT = type(_types.ULINT)
REAL = type(_types.REAL)
LREAL = type(_types.LREAL)
WORD = type(_types.WORD)
DWORD = type(_types.DWORD)
STRING = type(_types.STRING)
SSTRING = type(_types.SSTRING)

__all__ = [
    "BOOL", "DINT", "DWORD", "INT", "LINT", "LREAL", "REAL", "SINT", "SSTRING", "STRING", "UDINT", "UINT",
    "ULINT", "USINT", "WORD", "Simulator", "address", "chassis", "config_name", "device", "enip_format", "latency",
    "priority_time_tick", "route_path_default", "send_path_default", "simulator", "timeout", "timeout_ticks",
]
