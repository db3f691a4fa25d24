"""What cpppo 5's ``pymodbus_fixes`` fixed in pymodbus 1.x, re-checked against pymodbus 3.16.

Each item was tested on real sockets and pseudo-terminals (``tests/modbus/test_modbus_fixes.py``,
``tests/modbus/test_modbus_rtu.py``); only what is still broken is worked around:

``modbus_client_rtu`` / ``modbus_server_rtu`` / ``modbus_rtu_framer_collecting``
    Still broken: pymodbus 3.16's ``FramerRTU`` discards the whole receive buffer when the first
    plausible frame start fails its CRC, so a stray byte ahead of a frame loses the frame.
    Workaround: :class:`HuntingFramerRTU` (alias ``modbus_rtu_framer_collecting``), installed on
    pymodbus serial clients and servers with :func:`install_rtu_framer`.  Serial timeouts work.

``modbus_client_tcp`` / ``modbus_server_tcp``
    Fixed upstream: receive honours ``timeout=``; the asyncio server needs no ``service_actions``
    hook (signals are handled by the event loop).  Still missing: a failed connect only logs and
    returns False, so ``modbus_client_tcp`` raises the OSError saying why; ``modbus_server_tcp``
    adds idle and half-frame timeouts and answers (or hangs up on) malformed frames.

``modbus_tcp_request_handler``
    Shutdown is clean (a stopped simulator's port can be bound again at once).  But a new bug:
    the request handler labels a late reply with the *next* request's transaction id, so a
    client that timed out and moved on accepts the wrong registers.  Worked around inside
    :class:`cpppo.modbus.ModbusSimulator`'s own request handler.

``modbus_sparse_data_block``
    pymodbus 3.16 deprecates ``ModbusSparseDataBlock`` (redirected to dense ``SimData`` blocks, in
    which unconfigured coils still read as valid).  ``modbus_sparse_data_block`` is a sparse table
    (base address = the lowest given, O(V) validation); :class:`cpppo.modbus.DataStore` serves
    such tables and answers exception 2 for every address nobody configured.
"""

from __future__ import annotations

from cpppo.modbus.clients import SerialClient, TcpClient
from cpppo.modbus.rtu import HuntingFramerRTU, install_rtu_framer, read_rtu_frame
from cpppo.modbus.server import RequestHandler, SerialServer, TcpServer
from cpppo.modbus.store import DataStore, SparseBlock

__all__ = [
    "DataStore",
    "HuntingFramerRTU",
    "install_rtu_framer",
    "modbus_client_rtu",
    "modbus_client_tcp",
    "modbus_rtu_framer_collecting",
    "modbus_rtu_read",
    "modbus_server_rtu",
    "modbus_server_tcp",
    "modbus_sparse_data_block",
    "modbus_tcp_request_handler",
]

#: A Modbus/TCP client whose failed connect raises the reason (pymodbus 3's receive timeouts work).
modbus_client_tcp = TcpClient
#: A Modbus/RTU client framing replies past line noise.
modbus_client_rtu = SerialClient
#: The asyncio Modbus/TCP server with idle and half-frame timeouts and correct transaction ids.
modbus_server_tcp = TcpServer
#: The asyncio Modbus/RTU server framing requests past line noise.
modbus_server_rtu = SerialServer
#: The per-connection request handler both servers use.
modbus_tcp_request_handler = RequestHandler
#: The noise-tolerant RTU framer.
modbus_rtu_framer_collecting = HuntingFramerRTU
#: Read one RTU frame from a serial port, with a real timeout: ``(unit, pdu)`` or None.
modbus_rtu_read = read_rtu_frame
#: A sparse table of addresses (O(count) validation, base = lowest address); serve it with
#: ``DataStore.from_blocks(hr=...)``.
modbus_sparse_data_block = SparseBlock
