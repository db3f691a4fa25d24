"""The documented defaults of ``cpppo.server.enip`` (cpppo 5's ``enip.defaults``), by their names.

Scripts written against the documents read these (``from cpppo.server.enip import address``, as
the ``io`` example does, then ``address[1]`` for the port); the code that acts on them lives in
:mod:`cpppo.client` and the simulator.
"""

from __future__ import annotations

__all__ = [
    "address",
    "config_name",
    "latency",
    "priority_time_tick",
    "route_path_default",
    "send_path_default",
    "timeout",
    "timeout_ticks",
]

address = ("", 44818)
"""(interface, port) an EtherNet/IP device listens on: all interfaces, the registered port."""
latency = 0.1
"""Seconds between polls of an idle network loop (cpppo 5's event loops; kept for scripts)."""
timeout = 20.0
"""Seconds cpppo 5 waited for a whole exchange by default."""
route_path_default = "1/0"
"""A Logix controller's usual route path: backplane (port 1), slot 0."""
send_path_default = "@6/1"
"""The Connection Manager, which carries Unconnected Send."""
priority_time_tick = 5
"""Unconnected Send timing: 2**5 ms per tick ..."""
timeout_ticks = 157
"""... and 157 ticks: 5.024 s."""
config_name = "cpppo.cfg"
"""The configuration file name the simulator looks for."""
