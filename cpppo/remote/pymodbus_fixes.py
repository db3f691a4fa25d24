"""What cpppo 5's ``pymodbus_fixes`` fixed in pymodbus 1.x, re-checked against pymodbus 3.16.

Each item was tested on real sockets and pseudo-terminals (``tests/modbus/test_modbus_fixes.py``,
``tests/modbus/test_modbus_rtu.py``); only what is still broken is worked around:

``modbus_client_rtu`` / ``modbus_server_rtu`` / ``modbus_rtu_framer_collecting``
    Still broken: pymodbus 3.16's ``FramerRTU`` discards the whole receive buffer when the first
    plausible frame start fails its CRC, so a stray byte ahead of a frame loses the frame.
    Workaround: :class:`HuntingFramerRTU` (alias ``modbus_rtu_framer_collecting``), installed on
    pymodbus serial clients and servers with :func:`install_rtu_framer`.  Serial timeouts work.

``modbus_client_tcp`` / ``modbus_server_tcp``
    Fixed upstream: connect and receive honour ``timeout=``; the asyncio server needs no
    ``service_actions`` hook (signals are handled by the event loop).

``modbus_tcp_request_handler``
    Shutdown is clean (a stopped simulator's port can be bound again at once).  But a new bug:
    the request handler labels a late reply with the *next* request's transaction id, so a
    client that timed out and moved on accepts the wrong registers.  Worked around inside
    :class:`cpppo.modbus.ModbusSimulator`'s own request handler.

``modbus_sparse_data_block``
    pymodbus 3.16 deprecates ``ModbusSparseDataBlock`` (redirected to dense ``SimData`` blocks, in
    which unconfigured coils still read as valid).  :class:`cpppo.modbus.DataStore` is sparse,
    O(V) per request, and answers exception 2 for every address nobody configured.
"""

from __future__ import annotations

from cpppo.modbus.rtu import HuntingFramerRTU, install_rtu_framer
from cpppo.modbus.store import DataStore

__all__ = ["DataStore", "HuntingFramerRTU", "install_rtu_framer", "modbus_rtu_framer_collecting"]

#: The documented name of the noise-tolerant RTU framer.
modbus_rtu_framer_collecting = HuntingFramerRTU
