"""The documented generic poller: ``from cpppo.remote.plc import poller, poller_simulator, PlcOffline``.

The code lives in :mod:`cpppo.poller`; :class:`cpppo.remote.plc_modbus.poller_modbus` derives from
:class:`poller`, and its ``ModbusOffline`` is a :class:`PlcOffline`.
"""

from __future__ import annotations

from cpppo.poller import PlcOffline, poller, poller_simulator

__all__ = ["PlcOffline", "poller", "poller_simulator"]
