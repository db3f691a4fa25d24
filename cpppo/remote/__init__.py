"""Remote PLC I/O, at the module paths the documents name (``cpppo.remote.plc_modbus``, ...).

The code lives in :mod:`cpppo.modbus`; these modules keep users' scripts and the ``modbus_sim`` /
``modbus_poll`` console scripts working unchanged.
"""

from __future__ import annotations

__all__: list[str] = []
